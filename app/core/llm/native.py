"""Importing llama.cpp (llama-cpp-python) safely, and keeping its output out of the user's terminal.

The ROCm variables (HIP_VISIBLE_DEVICES, HSA_OVERRIDE_GFX_VERSION) are read by the HIP runtime when llama.cpp's
GPU backend initialises, which happens when `llama_cpp` is first imported: `import_llama_cpp` therefore sets them
first. Setting them later has no effect, which is logged.

llama.cpp writes its log through a callback; llama-cpp-python's default prints it to stderr. We replace it with one
that sends every line to the `app.llm.native` logger at debug level (the log file, with --debug) and keeps the most
recent lines in memory, so a failed load can say *why* ("tensor ... not within the file bounds") in its ModelError.
The lines concern files, tensors and devices, never prompt text.

Why not `Llama(verbose=False)`: it silences loading by pointing file descriptors 1 and 2 at /dev/null, process-wide,
which swallows whatever other threads print meanwhile (the CLI's own progress lines vanished in testing). Instead
the model is created with `verbose=True` (llama.cpp's part goes through the callback above) inside
`divert_thread_prints()`, which sends only the loading thread's Python prints (metadata, system info) to the log and
lets every other thread's output through; the instance's `verbose` is then switched off for generation.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import io
import logging
import sys
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any, TextIO

from app.core.config import GpuSettings
from app.core.errors import EngineUnavailable
from app.core.gpu.environment import apply_rocm_environment
from app.core.gpu.llamacpp_log import weights_on_gpu

log = logging.getLogger("app.llm.native")

# ggml_log_level in the llama.cpp of llama-cpp-python 0.3.36: NONE 0, DEBUG 1, INFO 2, WARN 3, ERROR 4, CONT 5.
_LEVELS = {0: logging.DEBUG, 1: logging.DEBUG, 2: logging.DEBUG, 3: logging.WARNING, 4: logging.ERROR}
_CONTINUATION = 5
ROCM_VARIABLES = ("HIP_VISIBLE_DEVICES", "HSA_OVERRIDE_GFX_VERSION")

_recent: collections.deque[tuple[int, str]] = collections.deque(maxlen=40)
_recent_lock = threading.Lock()
_last_level = logging.DEBUG
_callback_ref: Any = None  # the ctypes callback must stay alive as long as llama.cpp may call it
# The lines saying where the weights went, printed mid-load and followed by more lines than `_recent` keeps.
_weight_lines: collections.deque[str] = collections.deque(maxlen=64)  # other loads (benchmarks) add too


def _on_native_log(level: int, text: bytes | None, _user_data: Any) -> None:
    global _last_level
    if not text:
        return
    line = text.decode("utf-8", errors="replace").rstrip("\n")
    py_level = _last_level if level == _CONTINUATION else _LEVELS.get(level, logging.DEBUG)
    _last_level = py_level
    with _recent_lock:
        _recent.append((py_level, line))
        if "buffer size" in line and ("load_tensors" in line or "model buffer" in line):
            _weight_lines.append(line)
    log.debug("%s", line)


def recent_errors(limit: int = 5) -> list[str]:
    """The latest warning/error lines llama.cpp logged (newest last)."""
    with _recent_lock:
        lines = [line for level, line in _recent if level >= logging.WARNING]
    return lines[-limit:]


def clear_recent() -> None:
    with _recent_lock:
        _recent.clear()
        _weight_lines.clear()


def loaded_on_gpu() -> bool | None:
    """Whether the last load put weights on a GPU, as llama.cpp's log says (None: it did not say). The process has
    one log callback: call between `clear_recent()` and the next load, from the thread that loaded."""
    with _recent_lock:
        text = "\n".join(_weight_lines)
    return weights_on_gpu(text)


def load_failure_reason() -> str:
    """The most telling line of a failed model load, without llama.cpp's function-name prefixes."""
    for line in reversed(recent_errors(10)):
        if "error loading model:" in line:
            reason = line.split("error loading model:", 1)[1].strip()
            return reason.replace("llama_model_loader: ", "")
    errors = recent_errors(3)
    return errors[0].split(": ", 1)[-1] if errors else ""


def import_llama_cpp(gpu: GpuSettings) -> ModuleType:
    """Import llama_cpp with the ROCm environment applied and our log callback installed."""
    global _callback_ref
    apply_rocm_environment(gpu)
    try:
        import llama_cpp
    except (ImportError, OSError) as exc:
        raise EngineUnavailable(
            f"The llama.cpp engine (llama-cpp-python) cannot be loaded ({type(exc).__name__})",
            "Install it with `pip install llama-cpp-python==0.3.36`, or use the clinic server "
            "(set llm.backend = \"server\")",
        ) from None
    if _callback_ref is None:
        _callback_ref = llama_cpp.llama_log_callback(_on_native_log)
        llama_cpp.llama_log_set(_callback_ref, ctypes.c_void_p(0))
    return llama_cpp


class _ThreadDivert(io.TextIOBase):
    """A stand-in for sys.stdout/sys.stderr: one thread's writes go to the debug log, everyone else's pass through."""

    def __init__(self, original: TextIO, thread_id: int) -> None:
        super().__init__()
        self.original = original
        self._thread_id = thread_id

    def write(self, text: str) -> int:
        if threading.get_ident() != self._thread_id:
            return self.original.write(text)
        if text.strip():
            log.debug("%s", text.rstrip("\n"))
        return len(text)

    def flush(self) -> None:
        self.original.flush()

    def isatty(self) -> bool:
        return self.original.isatty()

    def fileno(self) -> int:
        return self.original.fileno()

    def __getattr__(self, name: str) -> Any:  # encoding, errors, buffer...: those of the real stream
        return getattr(self.original, name)


@contextlib.contextmanager
def divert_thread_prints() -> Iterator[None]:
    """While inside, this thread's Python-level prints to stdout/stderr go to the debug log."""
    me = threading.get_ident()
    out, err = _ThreadDivert(sys.stdout, me), _ThreadDivert(sys.stderr, me)
    sys.stdout, sys.stderr = out, err
    try:
        yield
    finally:
        # Restore only what is still ours: someone may have swapped the stream meanwhile (pytest's capture does).
        if sys.stdout is out:
            sys.stdout = out.original
        if sys.stderr is err:
            sys.stderr = err.original
