"""amdgpu's sysfs files: `/sys/class/drm/card*/device/{vendor,device,mem_info_vram_total,mem_info_vram_used,...}`.

Needs no ROCm at all, so it is the fallback on a machine with the kernel driver but no ROCm tools. Its
`mem_info_vram_used` also counts graphics allocations, which HIP's free figure ignores, so it is the better "used"
on a card that drives a display. Values are plain integers of bytes, one per file. An APU's `mem_info_vram_total`
is only the BIOS carve-out (4 GiB on a Strix Halo whose GPU really uses 96 GiB of GTT).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from app.core.gpu.devices import DeviceReading, clean_text, parse_int, parse_pci_address

AMD_VENDOR = 0x1002
SYSFS_DRM = Path("/sys/class/drm")
FILES = ("vendor", "device", "mem_info_vram_total", "mem_info_vram_used", "mem_info_gtt_total")


def parse_card(index: int, files: Mapping[str, str], pci_address: str | None = None) -> DeviceReading | None:
    """One card from its files' contents (name → text). None when it is not an AMD GPU."""
    vendor = parse_int(files.get("vendor"))
    if vendor is not None and vendor != AMD_VENDOR:
        return None
    total = parse_int(files.get("mem_info_vram_total"))
    if vendor is None and total is None:
        return None  # not amdgpu: only amdgpu has mem_info_* files
    return DeviceReading(
        source="sysfs",
        index=index,
        device_id=parse_int(files.get("device")),
        pci=parse_pci_address(pci_address) if pci_address else None,
        total_bytes=total,
        used_bytes=parse_int(files.get("mem_info_vram_used")),
        gtt_total_bytes=parse_int(files.get("mem_info_gtt_total")),
    )


_SYSFS_FILE = re.compile(r"/sys/class/drm/card(\d+)/device/(\w+)(?::\s*(\S+))?")


def parse_cat_transcript(text: str) -> list[DeviceReading]:
    """A shell transcript of the files: `cat /sys/class/drm/cardN/device/FILE` then the value, `head`'s
    `==> FILE <==` then the value, or `grep . FILE...`'s `FILE:value` (recorded outputs come in all three)."""
    cards: dict[int, dict[str, str]] = {}
    pending: tuple[int, str] | None = None
    for line in clean_text(text).splitlines():
        named = _SYSFS_FILE.search(line)
        if named:
            if named.group(3) is not None:
                cards.setdefault(int(named.group(1)), {})[named.group(2)] = named.group(3)
                pending = None
            else:
                pending = (int(named.group(1)), named.group(2))
            continue
        value = re.match(r"^\s*(0x[0-9a-fA-F]+|\d+)\b", line)
        if pending and value:
            cards.setdefault(pending[0], {})[pending[1]] = value.group(1)
            pending = None
    readings = [parse_card(index, files) for index, files in sorted(cards.items())]
    return [r for r in readings if r is not None]


def read_sysfs(root: Path = SYSFS_DRM) -> list[DeviceReading]:
    """Read every `cardN` (not connector entries like `card0-DP-1`). Missing files are normal."""
    if not root.is_dir():
        return []
    readings = []
    for card in sorted(root.glob("card*"), key=lambda p: p.name):
        match = re.fullmatch(r"card(\d+)", card.name)
        if not match:
            continue
        device = card / "device"
        files: dict[str, str] = {}
        for name in FILES:
            try:
                files[name] = (device / name).read_text(encoding="ascii", errors="replace")
            except OSError:
                continue
        try:
            pci_address: str | None = os.path.basename(os.path.realpath(device))
        except OSError:
            pci_address = None
        reading = parse_card(int(match.group(1)), files, pci_address)
        if reading is not None:
            readings.append(reading)
    return readings
