"""Parse `rocminfo` text: the GPU agents in HSA order (= HIP device order) and their allocatable VRAM.

rocminfo is the best total we have: its GPU pool (`Segment: GLOBAL; FLAGS: COARSE GRAINED`, `Size: N(0x..) KB`) is
what HIP can allocate. On a W7900 that is 47,169,536 KB = 46,064 MiB, ~3 GiB less than rocm-smi's "VRAM Total".

Handles full dumps (`*******` / `Agent N` headers), the ROCm issue template's `grep Name` form (no headers, agent
names unindented, ISA names indented), partial excerpts, and a failed run (`hsa api call failure`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.core.gpu.devices import DeviceReading, clean_text, normalise_gfx, parse_int

_AGENT_HEADER = re.compile(r"^\s*Agent\s+\d+\s*$")
_KEY_VALUE = re.compile(r"^(\s*)([A-Za-z][A-Za-z0-9 .()/_-]*?):\s*(.*?)\s*$")
_HSA_ERROR = re.compile(r"(HSA_STATUS_ERROR_[A-Z_]+)")
# Failures rocminfo reports in words before (or instead of) an HSA status: no /dev/kfd access, no amdgpu/KFD.
_RUNTIME_ERROR = re.compile(
    r"(Unable to open /dev/kfd[^\n]*|ROCk module is NOT loaded[^\n]*|hsa api call failure)", re.IGNORECASE
)


@dataclass
class RocminfoResult:
    devices: list[DeviceReading] = field(default_factory=list)
    cpu_agents: int = 0
    error: str | None = None  # e.g. "HSA_STATUS_ERROR_OUT_OF_RESOURCES"


def _split_agents(lines: list[str]) -> list[list[str]]:
    if any(_AGENT_HEADER.match(line) for line in lines):
        agents: list[list[str]] = []
        for line in lines:
            if _AGENT_HEADER.match(line):
                agents.append([])
            elif agents:
                agents[-1].append(line)
        return agents
    # No headers (grep output or an excerpt): an agent starts at each least-indented "Name:" line.
    name_indents = [len(line) - len(line.lstrip()) for line in lines if line.strip().startswith("Name:")]
    if not name_indents:
        return [lines] if any(line.strip() for line in lines) else []
    agent_indent = min(name_indents)
    groups: list[list[str]] = []
    for line in lines:
        starts_agent = line.strip().startswith("Name:") and len(line) - len(line.lstrip()) == agent_indent
        if starts_agent or not groups:
            groups.append([])
        groups[-1].append(line)
    return groups


def _parse_agent(lines: list[str], index: int) -> tuple[DeviceReading, bool]:
    """Returns the reading and whether the agent is a GPU."""
    fields: dict[str, str] = {}
    pool_sizes: list[tuple[str, int]] = []
    segment = ""
    top_indent: int | None = None
    for line in lines:
        match = _KEY_VALUE.match(line)
        if not match:
            continue
        indent, key, value = len(match.group(1)), match.group(2).strip(), match.group(3)
        if key == "Segment":
            segment = value
            continue
        if key == "Size" and segment:
            # "47169536(0x2cfc000) KB"
            size = parse_int(value)
            if size is not None and value.rstrip().upper().endswith("KB"):
                pool_sizes.append((segment, size * 1024))
            segment = ""
            continue
        if top_indent is None and key == "Name":
            top_indent = indent
        # Only the agent's own keys (ISA entries repeat "Name" deeper down).
        if top_indent is not None and indent > top_indent:
            continue
        fields.setdefault(key, value)
    name = fields.get("Name", "")
    device_type = fields.get("Device Type", "").upper()
    is_gpu = device_type == "GPU" or (not device_type and name.lower().startswith("gfx"))
    marketing = fields.get("Marketing Name") or None
    # The GPU's VRAM is its coarse-grained global pool; fine-grained pools repeat the same size or are host memory.
    vram = next((size for seg, size in pool_sizes if "GLOBAL" in seg and "COARSE" in seg), None)
    bdfid = parse_int(fields.get("BDFID"))
    pci = (bdfid >> 8 & 0xFF, bdfid >> 3 & 0x1F, bdfid & 0x7) if bdfid else None
    chip = parse_int(fields.get("Chip ID"))
    reading = DeviceReading(
        source="rocminfo",
        index=index,
        name=marketing or name or None,
        gfx=normalise_gfx(name),
        device_id=chip if chip else None,
        pci=pci,
        total_bytes=vram,
        is_gpu=is_gpu,
    )
    return reading, is_gpu


def parse_rocminfo(text: str) -> RocminfoResult:
    result = RocminfoResult()
    text = clean_text(text)
    error = _HSA_ERROR.search(text) or _RUNTIME_ERROR.search(text)
    if error:
        result.error = error.group(1).strip()
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    gpu_index = 0
    for agent_lines in _split_agents(lines):
        reading, is_gpu = _parse_agent(agent_lines, gpu_index)
        if is_gpu:
            result.devices.append(reading)
            gpu_index += 1
        elif reading.name:
            result.cpu_agents += 1
    return result
