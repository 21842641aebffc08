"""Settings -> the keyword arguments of `llama_cpp.Llama(...)`, passed through unchanged.

Only two values need resolving: `n_gpu_layers = "auto"` (the GPU fit planner decides, see `plan_gpu_offload`) and
`n_threads = 0` (all cores: llama-cpp-python's own default is half of them, which halves CPU generation speed on
small machines). Everything else is copied as is, so what the doctor set is what llama.cpp gets.
"""

from __future__ import annotations

import logging
import os
import struct
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from app.core.config import GpuSettings
from app.core.errors import AppError, ModelError

log = logging.getLogger(__name__)

# llama.cpp's enum llama_split_mode (MODELS.md): NONE 0, LAYER 1, ROW 2.
SPLIT_MODES: dict[str, int] = {"none": 0, "layer": 1, "row": 2}
ALL_LAYERS = -1  # llama-cpp-python turns -1 into "every layer"


@dataclass(frozen=True)
class OffloadPlan:
    """Where the model's layers go. `reason` says who decided (for logs and `--json`)."""

    n_gpu_layers: int
    split_mode: str
    tensor_split: tuple[float, ...]
    n_ctx: int
    main_gpu: int
    reason: str


def _split_mode_name(value: Any) -> str:
    """The planner may give 'row', a str-enum, an enum with a string value, or llama.cpp's integer."""
    if isinstance(value, int):
        for name, number in SPLIT_MODES.items():
            if number == value:
                return name
    raw = getattr(value, "value", value)
    name = str(raw).lower().rsplit(".", 1)[-1]
    if name not in SPLIT_MODES:
        raise ValueError(f"unknown split mode {value!r}")
    return name


def _from_settings(gpu: GpuSettings, n_gpu_layers: int, reason: str) -> OffloadPlan:
    return OffloadPlan(
        n_gpu_layers=n_gpu_layers,
        split_mode=gpu.split_mode,
        tensor_split=tuple(gpu.tensor_split),
        n_ctx=gpu.n_ctx,
        main_gpu=gpu.main_gpu,
        reason=reason,
    )


def plan_gpu_offload(model_path: Path, gpu: GpuSettings, llama_cpp: Any) -> OffloadPlan:
    """THE seam between the LLM layer and the GPU fit planner (app.core.gpu.plan).

    A number or "all" in the settings is used as given. "auto" asks the planner, which may also lower n_ctx and
    choose the tensor split; it raises an AppError (e.g. the model does not fit in memory), which we pass on.
    Until the planner exists, "auto" means: nothing on the GPU for a CPU-only llama.cpp build, every layer otherwise.
    """
    if gpu.n_gpu_layers == "all":
        return _from_settings(gpu, ALL_LAYERS, "settings: all layers")
    if isinstance(gpu.n_gpu_layers, int):
        return _from_settings(gpu, gpu.n_gpu_layers, f"settings: {gpu.n_gpu_layers} layers")
    try:
        from app.core.gpu.plan import plan_for_model
    except ImportError:
        if not llama_cpp.llama_supports_gpu_offload():
            return _from_settings(gpu, 0, "auto: CPU-only llama.cpp build")
        log.warning("the GPU fit planner is not available: offloading every layer")
        return _from_settings(gpu, ALL_LAYERS, "auto: planner unavailable, all layers")
    try:
        plan = plan_for_model(model_path, gpu)
    except AppError:
        raise
    except (MemoryError, ValueError, OverflowError, struct.error, UnicodeDecodeError, OSError):
        # The planner reads the GGUF header itself; a damaged header must still end as a clear ModelError.
        log.warning("the GPU planner could not read %s", model_path.name, exc_info=True)
        raise ModelError(
            f"The model file {model_path.name} cannot be read: its header is damaged",
            "Replace the file with a complete copy of the model",
        ) from None
    for warning in getattr(plan, "warnings", None) or ():
        log.warning("GPU planner: %s", warning)
    split = getattr(plan, "tensor_split", None) or ()
    return OffloadPlan(
        n_gpu_layers=int(plan.n_gpu_layers),
        split_mode=_split_mode_name(getattr(plan, "split_mode", gpu.split_mode)),
        tensor_split=tuple(float(s) for s in split),
        n_ctx=int(getattr(plan, "n_ctx", gpu.n_ctx) or gpu.n_ctx),
        main_gpu=int(getattr(plan, "main_gpu", gpu.main_gpu)),
        reason=str(getattr(plan, "summary", "") or "auto: GPU fit planner"),
    )


def thread_count(configured: int) -> int:
    return configured if configured > 0 else (os.cpu_count() or 1)


def llama_kwargs(model_path: Path, gpu: GpuSettings, plan: OffloadPlan) -> dict[str, Any]:
    """Every argument `Llama(...)` receives. `verbose=True` on purpose: `verbose=False` would point file descriptors
    1 and 2 at /dev/null for the whole process while loading (see native.py for how the output is kept quiet)."""
    threads = thread_count(gpu.n_threads)
    kwargs: dict[str, Any] = {
        "model_path": str(model_path),
        "n_gpu_layers": plan.n_gpu_layers,
        "split_mode": SPLIT_MODES[plan.split_mode],
        "main_gpu": plan.main_gpu,
        "tensor_split": list(plan.tensor_split) or None,  # None = llama.cpp splits by free VRAM
        "flash_attn": gpu.flash_attn,
        "offload_kqv": gpu.offload_kqv,
        "n_ctx": plan.n_ctx,
        "n_batch": gpu.n_batch,
        "n_threads": threads,
        "n_threads_batch": threads,
        "use_mmap": gpu.use_mmap,
        "use_mlock": gpu.use_mlock,
        "verbose": True,
    }
    return kwargs


def as_reported(plan: OffloadPlan, on_gpu: bool | None) -> OffloadPlan:
    """The plan corrected by where llama.cpp says the weights went. A CPU build, or a HIP build that finds no usable
    GPU (a container without /dev/kfd, a wrong HIP_VISIBLE_DEVICES), loads everything on the CPU without failing
    when layers are asked for; the status bar and logs must then say CPU, not the layers that were asked for."""
    if on_gpu is not False or plan.n_gpu_layers == 0:
        return plan
    log.warning("GPU layers were asked for, but llama.cpp put every weight on the CPU")
    return replace(plan, n_gpu_layers=0, reason=f"{plan.reason}; but llama.cpp put every layer on the CPU")
