"""Checks and messages around loading a GGUF: a clear `ModelError` instead of llama.cpp's bare ValueError."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from app.core.errors import CancelToken, ModelError
from app.core.llm import native
from app.core.llm.llama_params import OffloadPlan

GGUF_MAGIC = b"GGUF"
_PREFETCH_BLOCK = 16 * 2**20


def _fix_hint(model_ref: str) -> str:
    from app.core.model_catalog import CATALOG

    if model_ref in CATALOG:
        return f"Reinstall it with `clinic-assistant models install --force {model_ref}`"
    return "Replace the file with a complete copy of the model, or choose another model in the settings (llm.model)"


def check_gguf_header(path: Path) -> None:
    """Fail fast, with a plain message, on a file that is not a GGUF model at all."""
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ModelError(
            f"The model file {path} cannot be read ({exc.strerror})", "Check the file's permissions"
        ) from None
    if magic != GGUF_MAGIC:
        raise ModelError(
            f"The file {path.name} is not a GGUF model",
            "The local backend runs llama.cpp GGUF files; choose a .gguf model in the settings (llm.model)",
        )


def prefetch(path: Path, cancel: CancelToken | None) -> Iterator[float]:
    """Read the file once, yielding the fraction done: real load progress, and cancellable, unlike llama.cpp's load.

    The pages stay in the OS cache, so llama.cpp's memory-mapped load that follows reads nothing from disk again.
    """
    total = max(path.stat().st_size, 1)
    done = 0
    buffer = bytearray(_PREFETCH_BLOCK)
    with open(path, "rb", buffering=0) as fh:
        while True:
            if cancel is not None:
                cancel.raise_if_cancelled()
            n = fh.readinto(buffer)
            if not n:
                break
            done += n
            yield done / total


def model_load_error(path: Path, model_ref: str, plan: OffloadPlan, exc: BaseException) -> ModelError:
    """Turn llama-cpp-python's failure into what the user can act on, with llama.cpp's own reason when it gave one."""
    reason = native.load_failure_reason()
    text = str(exc)
    if isinstance(exc, MemoryError) or "llama_context" in text or "memory" in reason.lower():
        where = "GPU memory" if plan.n_gpu_layers != 0 else "memory"
        return ModelError(
            f"Not enough {where} to run {path.name} with a {plan.n_ctx}-token context",
            "Lower the context window (gpu.n_ctx) or the layers on the GPU (gpu.n_gpu_layers), or close other programs",
        )
    detail = reason or "it is damaged, incomplete, or not a model llama.cpp supports"
    return ModelError(f"The model file {path.name} cannot be loaded: {detail}", _fix_hint(model_ref))
