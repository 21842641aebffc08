"""The GPU probe: can this llama.cpp build offload, which AMD GPUs are there, how much VRAM is free, is PCIe P2P
possible, and what should the user change.

Sources, best first for each figure:
- device list and order: rocminfo's GPU agents (HSA order = HIP order), else rocm-smi, sysfs, amd-smi, llama.cpp;
- usable total: rocminfo's pool (46,064 MiB on a W7900), else HIP's total, else rocm-smi/sysfs/amd-smi capped at
  the known usable size of the card;
- used: sysfs (counts display allocations), else rocm-smi, else amd-smi; HIP's free is clamped to the total and
  only lowers the result (it ignores display allocations, and on Windows has exceeded the total).
`build_probe` takes text (recorded outputs in tests); `probe_gpus` runs the tools and caches the result.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any

from app.core.config import GpuSettings
from app.core.gpu import amd_smi, rocm_smi
from app.core.gpu.devices import (
    MIB,
    NATIVE_RDNA3_DGPU_GFX,
    DeviceReading,
    GpuDevice,
    hsa_override_advice,
    known_name,
    known_usable_mib,
    looks_integrated,
)
from app.core.gpu.environment import apply_rocm_environment
from app.core.gpu.p2p import P2PStatus, combine_with_topology, p2p_from_kernel_config
from app.core.gpu.rocminfo import parse_rocminfo
from app.core.gpu.runner import ProbeSources, ToolStatus, collect_sources

_NAME_PREFERENCE = ("rocminfo", "llama.cpp", "amd-smi", "rocm-smi", "sysfs")
_MI300_PARTITION_COUNT = {"SPX": 1, "DPX": 2, "TPX": 3, "QPX": 4, "CPX": 8}


@dataclass
class GpuProbe:
    build: str  # "HIP", "CUDA", "Vulkan", "CPU", "unavailable"
    gpu_offload: bool
    devices: list[GpuDevice]  # what llama.cpp will see, numbered as llama.cpp numbers them
    p2p: P2PStatus
    hidden_devices: list[GpuDevice] = field(default_factory=list)  # present but hidden by HIP_VISIBLE_DEVICES
    ram_total_mib: int | None = None
    ram_available_mib: int | None = None
    tools: list[ToolStatus] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    llama_version: str = ""

    def plan_devices(self) -> list[GpuDevice]:
        """Devices the planner may use: discrete GPUs; an integrated GPU only when it is the only GPU."""
        discrete = [d for d in self.devices if not d.integrated]
        return discrete or list(self.devices)

    def to_dict(self) -> dict[str, Any]:
        return {
            "build": self.build,
            "gpu_offload": self.gpu_offload,
            "llama_cpp_version": self.llama_version,
            "devices": [d.to_dict() for d in self.devices],
            "hidden_devices": [d.to_dict() for d in self.hidden_devices],
            "p2p": self.p2p.to_dict(),
            "ram_total_mib": self.ram_total_mib,
            "ram_available_mib": self.ram_available_mib,
            "tools": [t.to_dict() for t in self.tools],
            "advice": self.advice,
            "warnings": self.warnings,
        }


def _match(base: list[DeviceReading], others: list[DeviceReading]) -> dict[int, DeviceReading]:
    """base position → the other tool's reading of the same device: by PCI address, then device id, then order."""
    matched: dict[int, DeviceReading] = {}
    left = list(others)
    for pos, device in enumerate(base):
        hit = next((o for o in left if device.pci and o.pci == device.pci), None)
        if hit is None and device.device_id is not None:
            hit = next((o for o in left if o.pci is None and o.device_id == device.device_id), None)
        if hit is not None:
            matched[pos] = hit
            left.remove(hit)
    unmatched = [pos for pos in range(len(base)) if pos not in matched]
    # Order is only trusted when it is unambiguous: as many unmatched readings as unmatched devices, no PCI clash.
    if (
        left
        and len(left) == len(unmatched)
        and all(o.pci is None or base[p].pci is None for p, o in zip(unmatched, left, strict=True))
    ):
        matched.update(zip(unmatched, left, strict=True))
    return matched


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _merge(base: DeviceReading, extra: list[DeviceReading], hip: DeviceReading | None) -> GpuDevice:
    readings = [base, *extra] + ([hip] if hip else [])
    by_source = {r.source: r for r in readings}
    # Marketing names first (rocminfo, HIP, amd-smi); rocm-smi often has a codename ("Phoenix3", "Navi 31 [...]").
    by_name = sorted(readings, key=lambda r: _NAME_PREFERENCE.index(r.source) if r.source in _NAME_PREFERENCE else 9)
    device_id = _first(*(r.device_id for r in readings))
    name = _first(*(r.name for r in by_name)) or known_name(device_id) or base.gfx or "AMD GPU"
    gfx = _first(*(r.gfx for r in readings))
    integrated = any(looks_integrated(r.name, r.gfx, r.device_id) for r in readings)
    notes: list[str] = []
    rocminfo_total = by_source["rocminfo"].total_bytes if "rocminfo" in by_source else None
    tool_total = _first(*(by_source[s].total_bytes for s in ("rocm-smi", "sysfs", "amd-smi") if s in by_source))
    total = _first(rocminfo_total, hip.total_bytes if hip else None)
    if total is None and tool_total is not None:
        total = tool_total
        cap = known_usable_mib(name, device_id)
        if cap is not None and tool_total > cap * MIB:
            total = cap * MIB
            notes.append(f"usable VRAM {cap} MiB, not the {tool_total // MIB} MiB the driver reports")
    gtt = _first(*(r.gtt_total_bytes for r in readings))
    if integrated and gtt and (total is None or gtt > total) and rocminfo_total is None:
        total = gtt  # an APU's "VRAM" is a small carve-out; HIP allocates from GTT (system RAM)
        notes.append("integrated GPU: its memory is shared with the system RAM")
    used = _first(*(by_source[s].used_bytes for s in ("sysfs", "rocm-smi", "amd-smi") if s in by_source))
    free: int | None = None
    if total is not None and used is not None:
        free = total - used
    if hip is not None and hip.free_bytes is not None:
        hip_free = min(hip.free_bytes, total) if total is not None else hip.free_bytes
        free = hip_free if free is None else min(free, hip_free)
    if free is None and total is not None:
        free = total
        notes.append("used VRAM unknown: assumed empty")
    if free is not None and total is not None:
        free = max(0, min(free, total))
    return GpuDevice(
        index=base.index,
        name=name,
        gfx=gfx,
        device_id=device_id,
        total_mib=total // MIB if total is not None else None,
        free_mib=free // MIB if free is not None else None,
        integrated=integrated,
        sources=list(dict.fromkeys(r.source for r in readings)),
        notes=notes,
        pci=_first(*(r.pci for r in readings)),
    )


def _correct_partitions(readings: list[DeviceReading], warnings: list[str]) -> None:
    """MI300 compute partitions each report the whole card's VRAM: share it instead of counting it N times."""
    for reading in readings:
        count = _MI300_PARTITION_COUNT.get(reading.partition_mode or "", 1)
        if count > 1 and reading.total_bytes:
            reading.total_bytes //= count
            if reading.used_bytes:
                reading.used_bytes //= count
    modes = {r.partition_mode or "" for r in readings if _MI300_PARTITION_COUNT.get(r.partition_mode or "", 1) > 1}
    if modes:
        warnings.append(
            f"GPU partitions ({', '.join(sorted(modes))}) each report the whole card's VRAM: counted once, shared"
        )


def _visible_positions(spec: str, count: int) -> list[int] | None:
    if not spec.strip():
        return None
    positions = []
    for part in spec.replace(" ", "").split(","):
        if part.isdigit() and int(part) < count and int(part) not in positions:
            positions.append(int(part))
    return positions


def _advice(probe: GpuProbe, hsa_override: str, all_devices: list[GpuDevice]) -> None:
    if probe.build == "unavailable":
        probe.advice.append("llama-cpp-python is not installed or cannot load: install it (see docs/gpu.md)")
    elif not probe.gpu_offload and all_devices:
        probe.advice.append(
            "This llama.cpp build is CPU-only although AMD GPUs are present: rebuild llama-cpp-python with "
            'CMAKE_ARGS="-DGGML_HIP=on -DGPU_TARGETS=gfx1100" (see docs/gpu.md)'
        )
    elif not probe.gpu_offload:
        probe.advice.append("CPU build and no GPU found: the model runs on the CPU")
    used = probe.plan_devices()
    integrated = [d for d in probe.devices if d.integrated]
    if integrated and len(used) < len(probe.devices):
        keep = ",".join(str(d.index) for d in used)
        probe.advice.append(
            f"Hide the integrated GPU ({', '.join(d.name for d in integrated)}) from ROCm: set "
            f'gpu.hip_visible_devices = "{keep}" (HIP_VISIBLE_DEVICES); llama.cpp can fail on it with '
            "'invalid device function'"
        )
    native = [d for d in used if d.gfx in NATIVE_RDNA3_DGPU_GFX and not d.integrated]
    if hsa_override and native:
        probe.advice.append(
            f"HSA_OVERRIDE_GFX_VERSION={hsa_override} is set, but {native[0].name} ({native[0].gfx}) is supported "
            "natively: remove the override, it hurts on RDNA3"
        )
    elif not native:
        for device in used:
            version = hsa_override_advice(device.gfx)
            if version and hsa_override != version:
                probe.advice.append(
                    f"{device.name} ({device.gfx}) has no ROCm kernels of its own: set gpu.hsa_override_gfx_version "
                    f'= "{version}" (HSA_OVERRIDE_GFX_VERSION)'
                )
    if len(used) > 1 and probe.p2p.state != "yes":
        probe.advice.append(f"Row split is off: PCIe peer-to-peer is {probe.p2p.state} — {probe.p2p.reason}")


def build_probe(sources: ProbeSources) -> GpuProbe:
    warnings: list[str] = []
    rocminfo = parse_rocminfo(sources.rocminfo) if sources.rocminfo else None
    if rocminfo and rocminfo.error:
        warnings.append(f"rocminfo failed ({rocminfo.error}): check /dev/kfd access (the 'render' and 'video' groups)")
    smi = rocm_smi.parse_any(sources.rocm_smi) if sources.rocm_smi else []
    if sources.rocm_smi_concise:
        partitions = rocm_smi.parse_concise_partitions(sources.rocm_smi_concise)
        for reading in smi:
            if reading.index in partitions:
                _, reading.partition_mode, reading.partition_id = partitions[reading.index]
    _correct_partitions(smi, warnings)
    amd = amd_smi.parse_any(sources.amd_smi) if sources.amd_smi else []
    if not amd and sources.amd_smi_static:  # amd-smi before 25.x prints its usage when run bare
        amd = amd_smi.parse_any(sources.amd_smi_static)
    llama = sources.llama
    hip = list(llama.devices) if llama else []
    candidates = [rocminfo.devices if rocminfo else [], smi, list(sources.sysfs), amd]
    base = next((c for c in candidates if c), [])
    matches = [_match(base, other) for other in candidates if other and other is not base]
    positions = list(range(len(base)))
    visible = _visible_positions(sources.hip_visible_devices, len(base))
    hidden = [
        _merge(base[p], [m[p] for m in matches if p in m], None) for p in positions if visible and p not in visible
    ]
    if visible is not None:
        positions = visible
    # llama.cpp's own list is already filtered by HIP_VISIBLE_DEVICES and numbers devices as main_gpu and
    # tensor_split do; it pairs with the tools' list by position when the counts agree.
    hip_for = dict(zip(positions, hip, strict=True)) if hip and len(hip) == len(positions) else {}
    if hip and not hip_for:
        if positions:
            warnings.append(f"llama.cpp sees {len(hip)} GPU(s) but the tools list {len(positions)}: using llama.cpp's")
        merged = [_merge(reading, [], reading) for reading in hip]
    else:
        merged = [_merge(base[p], [m[p] for m in matches if p in m], hip_for.get(p)) for p in positions]
    for index, device in enumerate(merged):
        device.index = index
    access = amd_smi.parse_topology_access(sources.amd_smi_topology) if sources.amd_smi_topology else None
    p2p = combine_with_topology(p2p_from_kernel_config(sources.kernel_config, sources.kernel_config_source), access)
    probe = GpuProbe(
        build=llama.kind if llama else "unavailable",
        gpu_offload=bool(llama and llama.gpu_offload),
        devices=merged,
        p2p=p2p,
        hidden_devices=hidden,
        ram_total_mib=sources.ram_total_mib,
        ram_available_mib=sources.ram_available_mib,
        tools=list(sources.tools),
        warnings=warnings,
        llama_version=llama.version if llama else "",
    )
    if llama and llama.gpu_offload and not merged:
        warnings.append("this is a GPU build of llama.cpp but no GPU was found")
    _advice(probe, sources.hsa_override_gfx_version, merged + hidden)
    return probe


_lock = threading.Lock()
_cache: dict[tuple[str, str], GpuProbe] = {}


def probe_gpus(gpu: GpuSettings | None = None, refresh: bool = False, timeout_s: float | None = None) -> GpuProbe:
    """Probe once per process (per visibility setting); `refresh=True` runs the tools again."""
    gpu = gpu or GpuSettings()
    apply_rocm_environment(gpu)
    visible = os.environ.get("HIP_VISIBLE_DEVICES", "")
    override = os.environ.get("HSA_OVERRIDE_GFX_VERSION", "")
    key = (visible, override)
    with _lock:
        if refresh or key not in _cache:
            kwargs: dict[str, Any] = {"timeout_s": timeout_s} if timeout_s else {}
            _cache[key] = build_probe(collect_sources(visible, override, **kwargs))
        return _cache[key]
