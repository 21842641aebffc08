"""What the GPU tools report about one device, and the facts we know about AMD cards.

Every tool parser (rocminfo, rocm-smi, sysfs, amd-smi, llama.cpp's own device list) returns `DeviceReading`s with
the fields that tool knows; the probe merges them into `GpuDevice`s. The card facts below come from recorded
outputs of real machines (see /work/shared/data/gpu and docs/gpu.md), not from marketing sheets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MIB = 1024 * 1024

# PCI device ids (AMD vendor 0x1002).
W7900_IDS = frozenset({0x7448, 0x744A})  # Radeon Pro W7900, W7900 Dual Slot
NAVI31_CONSUMER_ID = 0x744C  # RX 7900 XTX / XT / GRE
# rocminfo's GPU pool on every recorded W7900 (ROCm 6.0–7.1) is 47,169,536 KB = 46,064 MiB, matching clinfo's
# 48,301,604,864 bytes. rocm-smi/sysfs report ~3 GiB more than HIP can allocate, so cap those totals at this.
W7900_USABLE_MIB = 46064
KNOWN_USABLE_MIB: dict[int, int] = {device_id: W7900_USABLE_MIB for device_id in W7900_IDS}
# For display when a tool gives only the id (rocm-smi 6.1 prints "Card Series: 0x7448"; MI300 rows give only DID).
KNOWN_NAMES: dict[int, str] = {
    0x7448: "AMD Radeon Pro W7900",
    0x744A: "AMD Radeon Pro W7900 Dual Slot",
    0x744C: "AMD Radeon RX 7900 XTX/XT/GRE",
    0x74A0: "AMD Instinct MI300A",
    0x74A1: "AMD Instinct MI300X",
    0x164E: "AMD Radeon Graphics (Raphael)",
}

# Integrated GPUs (APUs) that show up as extra HIP devices next to a discrete card: Raphael/Granite Ridge (gfx1036),
# Phoenix/Hawk Point 780M/760M/740M (gfx1103), Rembrandt 680M (gfx1035), Strix Point (gfx1150), Strix Halo (gfx1151).
# Older APUs only ever come as iGPUs too: Raven/Picasso (gfx902/gfx909), Renoir/Cezanne (gfx90c), Van Gogh (gfx1033),
# Mendocino (gfx1037).
IGPU_GFX = frozenset({"gfx902", "gfx909", "gfx90c", "gfx1033", "gfx1035", "gfx1036", "gfx1037"}) | frozenset(
    {"gfx1103", "gfx1150", "gfx1151", "gfx1152"}
)
IGPU_DEVICE_IDS = frozenset({0x164E, 0x13C0, 0x1681, 0x15BF, 0x15C8, 0x1900, 0x1901, 0x150E, 0x1586, 0x1114})
# Names iGPUs report: "AMD Radeon 780M Graphics", "AMD Radeon Graphics" (generic APU name, even when the iGPU
# claims gfx1100 under an override), "Raphael", "Phoenix3", "Radeon 8060S".
_IGPU_NAME = re.compile(
    r"(\b\d{3}M\b|^(AMD )?Radeon\(?T?M?\)? Graphics$|\bRaphael\b|\bPhoenix\d?\b|\bRembrandt\b|\bGranite Ridge\b"
    r"|\bStrix\b|\b8060S\b|\b8050S\b)",
    re.IGNORECASE,
)
# RDNA2 chips ROCm ships no kernels for: rocBLAS aborts with "Cannot read TensileLibrary.dat ... gfx1032" unless the
# runtime is told to use gfx1030's. RDNA3 dGPUs (gfx1100–gfx1102) are supported natively: an override there hurts.
HSA_OVERRIDES: dict[str, str] = {"gfx1031": "10.3.0", "gfx1032": "10.3.0", "gfx1103": "11.0.0"}
NATIVE_RDNA3_DGPU_GFX = frozenset({"gfx1100", "gfx1101", "gfx1102"})


@dataclass
class DeviceReading:
    """One device as one tool sees it. Fields the tool does not report stay None."""

    source: str
    index: int  # position in that tool's own list
    name: str | None = None
    gfx: str | None = None
    device_id: int | None = None  # PCI device id, e.g. 0x7448
    pci: tuple[int, int, int] | None = None  # (bus, device, function)
    total_bytes: int | None = None
    used_bytes: int | None = None
    free_bytes: int | None = None  # only HIP/llama.cpp report free directly
    gtt_total_bytes: int | None = None
    partition_mode: str | None = None  # compute partition, e.g. "SPX", "QPX" (MI300)
    partition_id: int | None = None
    is_gpu: bool = True


@dataclass
class GpuDevice:
    """A GPU as the planner sees it: llama.cpp index, name and memory in MiB."""

    index: int  # HIP / llama.cpp device index (after HIP_VISIBLE_DEVICES)
    name: str
    gfx: str | None
    device_id: int | None
    total_mib: int | None  # usable by HIP, not the marketing size
    free_mib: int | None
    integrated: bool
    sources: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pci: tuple[int, int, int] | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "index": self.index,
            "name": self.name,
            "gfx": self.gfx,
            "device_id": f"0x{self.device_id:04x}" if self.device_id is not None else None,
            "pci": pci_text(self.pci),
            "total_mib": self.total_mib,
            "free_mib": self.free_mib,
            "integrated": self.integrated,
            "sources": self.sources,
            "notes": self.notes,
        }


# Colour codes from a terminal or a coloured log, and the cursor/erase sequences some tools print.
_ABSURD_NUMBER = re.compile(r"\d{31,}")
_ANSI_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")


def clean_text(text: str) -> str:
    """Tool output as the parsers expect it: no ANSI colour codes, no NULs, '\n' line ends (Windows and pasted
    outputs have CRLF; a bare CR from progress output ends a line too)."""
    text = _ANSI_ESCAPE.sub("", text).replace("\x00", "")
    # No real quantity has 31 digits, and int() refuses a string of over 4,300: drop such runs rather than raise.
    text = _ABSURD_NUMBER.sub("", text)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def pci_text(pci: tuple[int, int, int] | None) -> str | None:
    return None if pci is None else f"{pci[0]:02x}:{pci[1]:02x}.{pci[2]}"


def parse_pci_address(text: str) -> tuple[int, int, int] | None:
    """'0000:03:00.0' or '03:00.0' → (3, 0, 0)."""
    match = re.search(r"(?:[0-9a-fA-F]{4}:)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])", text)
    if not match:
        return None
    return int(match.group(1), 16), int(match.group(2), 16), int(match.group(3))


def parse_int(text: str | None) -> int | None:
    """'0x744c', '29768', '29768(0x7448)' → int; anything else → None."""
    if text is None:
        return None
    text = text.strip()
    match = re.match(r"^(0[xX][0-9a-fA-F]{1,30}|\d{1,30})", text)
    if not match:
        return None
    return int(match.group(1), 0)


def normalise_gfx(text: str | None) -> str | None:
    """'gfx1100', 'amdgcn-amd-amdhsa--gfx1100', 'gfx906:sramecc+:xnack-' → 'gfx1100' / 'gfx906'.

    rocm-smi has printed malformed versions ('gfx11000' for gfx1100, 'gfx9010' for gfx90a): those are not trusted.
    """
    if not text:
        return None
    # Real names: gfx803/906/908/90a/942 (three characters) or gfx1030/1100/1201 (four, starting 10–12).
    match = re.search(r"gfx([6-9][0-9][0-9a-f]|1[0-2][0-9][0-9a-f])(?![0-9a-f])", text.lower())
    return f"gfx{match.group(1)}" if match else None


def looks_integrated(name: str | None, gfx: str | None, device_id: int | None) -> bool:
    if device_id is not None and device_id in IGPU_DEVICE_IDS:
        return True
    if gfx is not None and gfx in IGPU_GFX:
        return True
    return bool(name and _IGPU_NAME.search(name.strip()))


def is_w7900(name: str | None, device_id: int | None) -> bool:
    """Spelling varies ('AMD Radeon Pro W7900', 'AMD Radeon PRO W7900 Dual Slot', 'Navi 31 [Radeon Pro W7900]')."""
    if device_id is not None and device_id in W7900_IDS:
        return True
    return bool(name and re.search(r"\bW7900\b", name, re.IGNORECASE))


def known_usable_mib(name: str | None, device_id: int | None) -> int | None:
    if device_id is not None and device_id in KNOWN_USABLE_MIB:
        return KNOWN_USABLE_MIB[device_id]
    if is_w7900(name, device_id):
        return W7900_USABLE_MIB
    return None


def known_name(device_id: int | None) -> str | None:
    return KNOWN_NAMES.get(device_id) if device_id is not None else None


def hsa_override_advice(gfx: str | None) -> str | None:
    return HSA_OVERRIDES.get(gfx) if gfx else None
