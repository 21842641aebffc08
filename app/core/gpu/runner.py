"""Run the AMD tools (each with a timeout, all at once) and collect their raw output for the probe.

A missing tool is normal (most clinics' PCs have no ROCm tools; this build machine has no GPU at all) and is
recorded as "missing", not as an error. A tool that hangs (clinfo and rocm-smi have hung on broken drivers) is
killed at the timeout and recorded as such.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from app.core.gpu.devices import DeviceReading
from app.core.gpu.llama_build import LlamaBuild, query_llama_build
from app.core.gpu.p2p import read_kernel_config
from app.core.gpu.sysfs import read_sysfs

ROCM_BIN_DIRS = (Path("/opt/rocm/bin"),)
DEFAULT_TIMEOUT_S = 8.0

# name → argv. rocm-smi runs twice: JSON for names and memory, the concise table for MI300 partitions.
TOOL_COMMANDS: dict[str, tuple[str, ...]] = {
    "rocminfo": ("rocminfo",),
    "rocm-smi": ("rocm-smi", "--showproductname", "--showmeminfo", "vram", "--showbus", "--json"),
    "rocm-smi concise": ("rocm-smi",),
    "amd-smi": ("amd-smi",),
    # amd-smi before 25.x prints its usage, not a device table, when run bare: its static JSON names the cards.
    "amd-smi static": ("amd-smi", "static", "--json"),
    "amd-smi topology": ("amd-smi", "topology"),
}


@dataclass
class ToolStatus:
    name: str
    state: str  # "ok", "missing", "failed", "timeout"
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "state": self.state, "detail": self.detail}


@dataclass
class ProbeSources:
    """Everything the probe reads, as text, so tests can feed recorded outputs instead of running anything."""

    llama: LlamaBuild | None = None
    rocminfo: str | None = None
    rocm_smi: str | None = None
    rocm_smi_concise: str | None = None
    amd_smi: str | None = None
    amd_smi_static: str | None = None  # `amd-smi static --json`: read when the bare command lists no device
    amd_smi_topology: str | None = None
    sysfs: list[DeviceReading] = field(default_factory=list)
    kernel_config: str | None = None
    kernel_config_source: str = ""
    hip_visible_devices: str = ""
    hsa_override_gfx_version: str = ""
    ram_total_mib: int | None = None
    ram_available_mib: int | None = None
    tools: list[ToolStatus] = field(default_factory=list)


Runner = Callable[[Sequence[str], float], subprocess.CompletedProcess[str]]


def _subprocess_runner(argv: Sequence[str], timeout_s: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv), capture_output=True, text=True, timeout=timeout_s, check=False, encoding="utf-8", errors="replace"
    )


def find_tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for directory in ROCM_BIN_DIRS:
        candidate = directory / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def run_tool(name: str, argv: Sequence[str], timeout_s: float, runner: Runner) -> tuple[ToolStatus, str | None]:
    executable = find_tool(argv[0])
    if executable is None:
        return ToolStatus(name, "missing", f"{argv[0]} is not installed"), None
    try:
        completed = runner([executable, *argv[1:]], timeout_s)
    except subprocess.TimeoutExpired:
        return ToolStatus(name, "timeout", f"no answer within {timeout_s:g} s"), None
    except OSError as exc:
        return ToolStatus(name, "failed", exc.strerror or type(exc).__name__), None
    output = completed.stdout or ""
    if completed.returncode != 0:
        # rocminfo prints its HSA error on stdout/stderr and exits non-zero: keep the text for the parser.
        first = (completed.stderr or output).strip().splitlines()
        detail = f"exit {completed.returncode}" + (f": {first[-1][:160]}" if first else "")
        return ToolStatus(name, "failed", detail), output + (completed.stderr or "")
    return ToolStatus(name, "ok"), output


def collect_sources(
    hip_visible_devices: str = "",
    hsa_override_gfx_version: str = "",
    timeout_s: float = DEFAULT_TIMEOUT_S,
    runner: Runner = _subprocess_runner,
    query_llama: Callable[[], LlamaBuild] = query_llama_build,
) -> ProbeSources:
    with ThreadPoolExecutor(max_workers=len(TOOL_COMMANDS), thread_name_prefix="gpu-probe") as pool:
        futures = {name: pool.submit(run_tool, name, argv, timeout_s, runner) for name, argv in TOOL_COMMANDS.items()}
        llama = query_llama()
        results = {name: future.result() for name, future in futures.items()}
    kernel_text, kernel_source = read_kernel_config()
    memory = psutil.virtual_memory()
    return ProbeSources(
        llama=llama,
        rocminfo=results["rocminfo"][1],
        rocm_smi=results["rocm-smi"][1],
        rocm_smi_concise=results["rocm-smi concise"][1],
        amd_smi=results["amd-smi"][1],
        amd_smi_static=results["amd-smi static"][1],
        amd_smi_topology=results["amd-smi topology"][1],
        sysfs=read_sysfs(),
        kernel_config=kernel_text,
        kernel_config_source=kernel_source,
        hip_visible_devices=hip_visible_devices,
        hsa_override_gfx_version=hsa_override_gfx_version,
        ram_total_mib=memory.total // 2**20,
        ram_available_mib=memory.available // 2**20,
        tools=[status for status, _ in results.values()],
    )
