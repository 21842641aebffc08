"""Can the GPUs read each other's memory (PCIe peer-to-peer)? llama.cpp's row split needs it.

Two kernel options decide it on Linux: CONFIG_PCI_P2PDMA (the PCI core) and CONFIG_HSA_AMD_P2P (amdgpu/KFD peer
access). Kernels built without them (some Debian kernels) crash in row mode instead of failing cleanly. The running
kernel's config is in /boot/config-$(uname -r) or /proc/config.gz; when neither exists the answer is "unknown",
never a guess from the distribution. `amd-smi topology` can also show peer access DISABLED between two GPUs even
on a capable kernel (recorded on a 2×7900 XTX consumer board): that overrides a "yes".
"""

from __future__ import annotations

import gzip
import platform
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

P2P_OPTIONS = ("CONFIG_PCI_P2PDMA", "CONFIG_HSA_AMD_P2P")
P2PState = Literal["yes", "no", "unknown"]


@dataclass
class P2PStatus:
    state: P2PState
    reason: str
    options: dict[str, str | None] = field(default_factory=dict)  # option → "y"/"m"/None (not set)

    def to_dict(self) -> dict[str, object]:
        return {"state": self.state, "reason": self.reason, "kernel_options": self.options}


def parse_kernel_config(text: str) -> dict[str, str | None]:
    """The two P2P options from a kernel .config: "y"/"m", or None when unset or absent. Also reads `grep`/`zgrep`
    output over several files, where each line starts with `FILE:`."""
    values: dict[str, str | None] = dict.fromkeys(P2P_OPTIONS)
    for line in text.splitlines():
        match = re.match(r"^(?:[^\s#:]+:)?(CONFIG_[A-Z0-9_]+)=(\S+)", line.strip())
        if match and match.group(1) in values:
            values[match.group(1)] = match.group(2).strip('"')
    return values


def p2p_from_kernel_config(text: str | None, source: str) -> P2PStatus:
    if text is None:
        return P2PStatus(
            "unknown", f"the kernel configuration is not readable: {source or 'no /boot/config-* or /proc/config.gz'}"
        )
    options = parse_kernel_config(text)
    missing = [name for name, value in options.items() if value not in ("y", "m")]
    if missing:
        return P2PStatus("no", f"the kernel is built without {' and '.join(missing)} ({source})", options)
    return P2PStatus("yes", f"the kernel has {' and '.join(P2P_OPTIONS)} ({source})", options)


def combine_with_topology(kernel: P2PStatus, access: dict[tuple[str, str], bool] | None) -> P2PStatus:
    """amd-smi's ACCESS TABLE is the more direct evidence when it exists."""
    if not access:
        return kernel
    disabled = sorted({f"{a}↔{b}" for (a, b), enabled in access.items() if not enabled and a < b})
    if disabled:
        return P2PStatus("no", f"amd-smi topology shows peer access DISABLED ({', '.join(disabled)})", kernel.options)
    if kernel.state == "no":
        return kernel
    return P2PStatus("yes", "amd-smi topology shows peer access ENABLED between all GPUs", kernel.options)


def read_kernel_config(
    release: str | None = None, boot_dir: Path = Path("/boot"), proc_config: Path = Path("/proc/config.gz")
) -> tuple[str | None, str]:
    """The running kernel's config text and where it came from; (None, "") when neither file exists."""
    release = release or platform.release()
    boot_config = boot_dir / f"config-{release}"
    try:
        return boot_config.read_text(encoding="utf-8", errors="replace"), str(boot_config)
    except OSError:
        pass
    try:
        with gzip.open(proc_config, "rt", encoding="utf-8", errors="replace") as handle:
            return handle.read(), str(proc_config)
    except (OSError, EOFError):
        return None, ""
