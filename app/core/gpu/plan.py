"""The fit planner: from a model's GGUF metadata and the probe's free VRAM, choose n_gpu_layers, the context size and
a tensor split, or refuse with a clear message instead of letting llama.cpp crash out of memory.

Choices, in order: everything on one GPU (fastest: nothing crosses PCIe), else all layers split over the GPUs in
proportion to their free VRAM (row split only when asked for and PCIe P2P is known to work), else, when the context
came from the settings and is above 4096, a smaller context that keeps every layer on the GPUs, else as many layers
as fit with the rest on the CPU. Each GPU keeps `gpu.vram_margin_mib` free. The part that stays on the CPU must fit
the free RAM. On a CPU-only build the plan is n_gpu_layers = 0 and says so.

Public API used by the LLM engine: `plan_for_model(model_path, gpu, probe=None) -> FitPlan`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from app.core.config import GpuSettings
from app.core.errors import GpuError
from app.core.gpu.devices import MIB, GpuDevice
from app.core.gpu.footprint import Footprint, assign_slots, footprint, n_ubatch_for, row_footprint
from app.core.gpu.gguf_info import ModelMetadata, read_model_metadata
from app.core.gpu.probe import GpuProbe, probe_gpus

SplitMode = Literal["none", "layer", "row"]
# llama.h: LLAMA_SPLIT_MODE_NONE = 0, LLAMA_SPLIT_MODE_LAYER = 1, LLAMA_SPLIT_MODE_ROW = 2
LLAMA_SPLIT_MODES: dict[str, int] = {"none": 0, "layer": 1, "row": 2}
CTX_SHRINK_FLOOR = 4096
RAM_RESERVE_MIB = 1024  # left for the OS and the rest of the app
GIB = 1024 * MIB


@dataclass
class DevicePlan:
    index: int
    name: str
    free_mib: int
    planned_mib: int
    layers: int  # llama.cpp "layers" (slots): blocks, plus the output head when holds_output
    holds_output: bool


@dataclass
class FitPlan:
    n_gpu_layers: int
    n_ctx: int
    tensor_split: list[float]
    split_mode: str  # "none" | "layer" | "row"
    main_gpu: int
    summary: str
    warnings: list[str] = field(default_factory=list)
    backend: str = "CPU"
    n_layers_total: int = 0  # offloadable slots: blocks + output head
    model_mib: int = 0
    kv_mib: int = 0
    ram_mib: int = 0  # RAM the CPU side needs
    headroom_mib: int = 0  # VRAM left free on the GPUs used
    devices: list[DevicePlan] = field(default_factory=list)

    def llama_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for llama_cpp.Llama(...)."""
        return {
            "n_gpu_layers": self.n_gpu_layers,
            "n_ctx": self.n_ctx,
            "split_mode": LLAMA_SPLIT_MODES[self.split_mode],
            "main_gpu": self.main_gpu,
            "tensor_split": list(self.tensor_split) or None,
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Candidate:
    mode: SplitMode
    devices: list[GpuDevice]
    shares: list[float]
    n_gpu_layers: int
    n_ctx: int
    usage: Footprint


def _gib(n_bytes: float) -> str:
    return f"{n_bytes / GIB:.1f} GiB"


def _available(device: GpuDevice, margin_mib: int) -> int:
    return max(0, (device.free_mib or 0) - margin_mib) * MIB


def _fits(usage: Footprint, avail: list[int]) -> bool:
    return all(used <= room for used, room in zip(usage.device_bytes, avail, strict=True))


def _layer_fit(
    meta: ModelMetadata,
    avail: list[int],
    n_ctx: int,
    gpu: GpuSettings,
    layers: int | None = None,
    shares: list[float] | None = None,
) -> tuple[int, list[float], Footprint] | None:
    """Most slots (or exactly `layers`) that fit, with shares rebalanced away from a device that overflows."""
    n_ubatch = n_ubatch_for(gpu.n_batch)
    slots = meta.n_offloadable
    tries = [layers] if layers is not None else list(range(slots, 0, -1))
    for n_gl in tries:
        current = list(shares) if shares else [float(a) for a in avail]
        if sum(current) <= 0:
            return None
        for _ in range(4 * len(avail) + 4):
            placement = assign_slots(n_gl, meta.n_layers, current)
            usage = footprint(meta, placement, len(avail), n_ctx, n_ubatch, gpu.flash_attn, gpu.offload_kqv)
            if _fits(usage, avail):
                return n_gl, current, usage
            if shares or sum(usage.device_bytes) > sum(avail):
                break  # the user's split is fixed, or no rebalancing can help
            worst = max(range(len(avail)), key=lambda i: usage.device_bytes[i] - avail[i])
            over = usage.device_bytes[worst] - avail[worst]
            current[worst] *= max(0.0, 1.0 - over / max(usage.device_bytes[worst], 1)) * 0.98
        if layers is not None:
            return None
    return None


def _try_mode(
    meta: ModelMetadata,
    mode: SplitMode,
    devices: list[GpuDevice],
    n_ctx: int,
    gpu: GpuSettings,
    layers: int | None,
    user_shares: list[float] | None,
) -> _Candidate | None:
    avail = [_available(d, gpu.vram_margin_mib) for d in devices]
    if mode == "row":
        shares = user_shares or [float(a) for a in avail]
        usage = row_footprint(meta, shares, 0, n_ctx, n_ubatch_for(gpu.n_batch), gpu.flash_attn)
        if _fits(usage, avail):
            return _Candidate(mode, devices, shares, meta.n_offloadable, n_ctx, usage)
        return None
    fit = _layer_fit(meta, avail, n_ctx, gpu, layers, user_shares)
    if fit is None:
        return None
    n_gl, shares, usage = fit
    return _Candidate(mode, devices, shares, n_gl, n_ctx, usage)


def _user_shares(gpu: GpuSettings, devices: list[GpuDevice]) -> list[float] | None:
    if not gpu.tensor_split or not any(gpu.tensor_split):
        return None
    shares = [gpu.tensor_split[d.index] if d.index < len(gpu.tensor_split) else 0.0 for d in devices]
    return shares if any(shares) else None


def _ctx_options(target: int, shrink_allowed: bool) -> list[int]:
    options = [target]
    while shrink_allowed and options[-1] // 2 >= CTX_SHRINK_FLOOR:
        options.append(options[-1] // 2)
    return options


def _choose(
    meta: ModelMetadata,
    probe: GpuProbe,
    devices: list[GpuDevice],
    gpu: GpuSettings,
    target_ctx: int,
    shrink_allowed: bool,
    mode_wanted: SplitMode,
    layers: int | None,
    warnings: list[str],
    allow_single: bool = True,
) -> _Candidate | None:
    user_shares = _user_shares(gpu, devices)
    by_room = sorted(devices, key=lambda d: (-(d.free_mib or 0), d.index))
    preferred = next((d for d in devices if d.index == gpu.main_gpu), by_room[0])
    singles = [preferred] + [d for d in by_room if d is not preferred]
    multi_mode: SplitMode = "layer"
    if mode_wanted == "row" and len(devices) > 1:
        if probe.p2p.state == "yes":
            multi_mode = "row"
        else:
            warnings.append(f"row split asked for, but PCIe peer-to-peer is {probe.p2p.state}: using layer split")
    full = meta.n_offloadable if layers is None else layers
    for n_ctx in _ctx_options(target_ctx, shrink_allowed and layers is None):
        if multi_mode != "row" and user_shares is None and (allow_single or len(devices) == 1 or mode_wanted == "none"):
            for device in singles if (mode_wanted != "none" or len(devices) == 1) else [preferred]:
                single = _try_mode(meta, "none", [device], n_ctx, gpu, full, None)
                if single:
                    return single
        if len(devices) > 1 and mode_wanted != "none":
            multi = _try_mode(meta, multi_mode, devices, n_ctx, gpu, full, user_shares)
            if multi:
                return multi
    if layers is not None:
        return None
    # Partial offload at the asked-for context.
    if len(devices) > 1 and mode_wanted != "none":
        return _try_mode(meta, "layer", devices, target_ctx, gpu, None, user_shares)
    return _try_mode(meta, "none", [preferred], target_ctx, gpu, None, None)


def _ram_check(meta: ModelMetadata, need: int, probe: GpuProbe, vram_text: str, warnings: list[str]) -> None:
    if probe.ram_available_mib is None:
        warnings.append("free RAM unknown: the CPU part of the model was not checked")
        return
    room = max(0, probe.ram_available_mib - RAM_RESERVE_MIB) * MIB
    if need > room:
        raise GpuError(
            f"{meta.label or meta.name} cannot load: it needs {_gib(need)} of RAM {vram_text}, "
            f"but only {_gib(probe.ram_available_mib * MIB)} of RAM is free",
            "Use a smaller model or quantisation, a shorter context (--ctx), close other programs, or add GPU memory",
        )


def _cpu_plan(
    meta: ModelMetadata, probe: GpuProbe, gpu: GpuSettings, n_ctx: int, reason: str, warnings: list[str]
) -> FitPlan:
    n_ubatch = n_ubatch_for(gpu.n_batch)
    usage = footprint(meta, [None] * meta.n_offloadable, 0, n_ctx, n_ubatch, gpu.flash_attn, gpu.offload_kqv)
    _ram_check(meta, usage.cpu_bytes, probe, f"(all of it: {reason})", warnings)
    free_ram = f" of {_gib(probe.ram_available_mib * MIB)} free RAM" if probe.ram_available_mib is not None else ""
    summary = (
        f"{meta.label or meta.name}, {_gib(meta.total_bytes)}: CPU only ({reason}), ctx {n_ctx}, "
        f"needs {_gib(usage.cpu_bytes)}{free_ram}"
    )
    return FitPlan(
        n_gpu_layers=0,
        n_ctx=n_ctx,
        tensor_split=[],
        split_mode="none",
        main_gpu=0,
        summary=summary,
        warnings=warnings,
        backend=probe.build,
        n_layers_total=meta.n_offloadable,
        model_mib=meta.total_bytes // MIB,
        kv_mib=usage.kv_bytes // MIB,
        ram_mib=usage.cpu_bytes // MIB,
    )


def _gpu_plan(
    meta: ModelMetadata, probe: GpuProbe, gpu: GpuSettings, chosen: _Candidate, warnings: list[str]
) -> FitPlan:
    usage = chosen.usage
    free_total = sum((d.free_mib or 0) for d in chosen.devices) * MIB
    _ram_check(meta, usage.cpu_bytes, probe, f"besides the {_gib(free_total)} free on the GPU", warnings)
    split: list[float] = []
    if chosen.mode != "none":
        total = sum(chosen.shares)
        split = [0.0] * len(probe.devices)
        for device, share in zip(chosen.devices, chosen.shares, strict=True):
            split[device.index] = round(share / total, 4)
    device_plans = [
        DevicePlan(
            d.index,
            d.name,
            d.free_mib or 0,
            usage.device_bytes[i] // MIB,
            usage.device_layers[i],
            usage.device_holds_output[i],
        )
        for i, d in enumerate(chosen.devices)
    ]
    headroom = sum(p.free_mib - p.planned_mib for p in device_plans)
    slots = meta.n_offloadable
    names = {d.name for d in chosen.devices}
    if len(chosen.devices) > 1 and len(names) == 1:
        free_each = {d.free_mib for d in chosen.devices}
        gpus = f"{len(chosen.devices)}× {chosen.devices[0].name}" + (
            f" ({_gib(chosen.devices[0].free_mib * MIB)} free each)"
            if len(free_each) == 1 and chosen.devices[0].free_mib
            else ""
        )
    else:
        gpus = " + ".join(f"{d.name} ({_gib((d.free_mib or 0) * MIB)} free)" for d in chosen.devices)
    mode_text = {"none": "one GPU", "layer": "layer split", "row": "row split"}[chosen.mode]
    if chosen.n_gpu_layers >= slots:
        layers_text = f"all {slots} layers on GPU"
    else:
        layers_text = f"{chosen.n_gpu_layers} of {slots} layers on GPU, {slots - chosen.n_gpu_layers} on CPU (slower)"
        warnings.append(f"only {chosen.n_gpu_layers} of {slots} layers fit the GPU: generation will be slower")
    summary = (
        f"{meta.label or meta.name}, {_gib(meta.total_bytes)}: {gpus}, {mode_text}, {layers_text}, "
        f"ctx {chosen.n_ctx}, {_gib(headroom * MIB)} headroom"
    )
    return FitPlan(
        n_gpu_layers=chosen.n_gpu_layers,
        n_ctx=chosen.n_ctx,
        tensor_split=split,
        split_mode=chosen.mode,
        main_gpu=chosen.devices[0].index,
        summary=summary,
        warnings=warnings,
        backend=probe.build,
        n_layers_total=slots,
        model_mib=meta.total_bytes // MIB,
        kv_mib=usage.kv_bytes // MIB,
        ram_mib=usage.cpu_bytes // MIB,
        headroom_mib=headroom,
        devices=device_plans,
    )


def plan_for_metadata(
    meta: ModelMetadata,
    gpu: GpuSettings,
    probe: GpuProbe,
    n_ctx: int | None = None,
    split_mode: SplitMode | None = None,
    allow_single: bool = True,
) -> FitPlan:
    """`allow_single=False` keeps a layer/row split across all GPUs even when one GPU would do (the benchmark)."""
    warnings: list[str] = []
    target = n_ctx or gpu.n_ctx
    if target > meta.n_ctx_train:
        warnings.append(f"context {target} is longer than the model was trained for: using {meta.n_ctx_train}")
        target = meta.n_ctx_train
    if not probe.gpu_offload:
        reason = "this llama.cpp build has no GPU offload" if probe.build != "unavailable" else "llama.cpp missing"
        return _cpu_plan(meta, probe, gpu, target, reason, warnings)
    devices = [d for d in probe.plan_devices() if d.free_mib is not None]
    if not devices:
        return _cpu_plan(meta, probe, gpu, target, "no GPU with known free VRAM", warnings)
    if gpu.n_gpu_layers == 0:
        return _cpu_plan(meta, probe, gpu, target, "gpu.n_gpu_layers is 0", warnings)
    layers: int | None = None
    if gpu.n_gpu_layers == "all":
        layers = meta.n_offloadable
    elif isinstance(gpu.n_gpu_layers, int):
        layers = min(gpu.n_gpu_layers, meta.n_offloadable)
    mode_wanted: SplitMode = split_mode or gpu.split_mode
    chosen = _choose(
        meta,
        probe,
        devices,
        gpu,
        target,
        n_ctx is None and target > CTX_SHRINK_FLOOR,
        mode_wanted,
        layers,
        warnings,
        allow_single,
    )
    if chosen is None and layers is not None:
        best = _choose(meta, probe, devices, gpu, target, False, mode_wanted, None, [])
        fits = best.n_gpu_layers if best else 0
        raise GpuError(
            f"{layers} layers of {meta.label or meta.name} do not fit the GPU at context {target} "
            f"({_gib(sum(_available(d, gpu.vram_margin_mib) for d in devices))} free after the margin)",
            f"Set gpu.n_gpu_layers to 'auto' (the planner would put {fits} layers on the GPU) or shorten the context",
        )
    if chosen is None:
        return _cpu_plan(meta, probe, gpu, target, "not even one layer fits the free VRAM", warnings)
    if chosen.n_ctx < target:
        warnings.append(f"context reduced from {target} to {chosen.n_ctx} so that every layer stays on the GPU")
    return _gpu_plan(meta, probe, gpu, chosen, warnings)


def plan_for_model(
    model_path: Path,
    gpu: GpuSettings,
    probe: GpuProbe | None = None,
    n_ctx: int | None = None,
    split_mode: SplitMode | None = None,
    allow_single: bool = True,
) -> FitPlan:
    """Plan how to load `model_path` (a .gguf file). Raises ModelError for an unreadable file, GpuError when the
    model cannot load on this machine at all."""
    meta = read_model_metadata(model_path)
    return plan_for_metadata(meta, gpu, probe or probe_gpus(gpu), n_ctx, split_mode, allow_single)
