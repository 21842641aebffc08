"""What this process's llama.cpp build can do: GPU offload at all, which backend, and the devices it sees.

`llama_supports_gpu_offload()` is False on a CPU build: that must be reported as "CPU build", never papered over
by a silent CPU fallback. On a GPU build, ggml's device registry (bound here with ctypes, since llama-cpp-python
does not wrap it) gives each device's name and HIP's free/total memory, in the order llama.cpp numbers them for
`main_gpu` and `tensor_split`. HIP's free figure ignores graphics allocations and on Windows can exceed the total:
it is clamped here and combined with sysfs/rocm-smi "used" by the probe.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from app.core.gpu.devices import DeviceReading
from app.core.gpu.llamacpp_log import parse_device_lines, parse_system_info

log = logging.getLogger(__name__)

# enum ggml_backend_dev_type { CPU, GPU, IGPU, ACCEL }
_DEV_TYPE_GPU = 1
_DEV_TYPE_IGPU = 2
GPU_BACKENDS = ("ROCm", "HIP", "CUDA", "Vulkan", "Metal", "SYCL", "MUSA", "OpenCL", "CANN")


@dataclass
class LlamaBuild:
    importable: bool
    gpu_offload: bool
    backends: list[str] = field(default_factory=list)  # from llama_print_system_info, e.g. ["ROCm", "CPU"]
    devices: list[DeviceReading] = field(default_factory=list)  # llama.cpp's GPU devices, in its index order
    version: str = ""
    error: str | None = None

    @property
    def kind(self) -> str:
        """'HIP', 'CUDA', 'Vulkan', …, 'CPU', or 'unavailable' (llama_cpp cannot be imported)."""
        if not self.importable:
            return "unavailable"
        for backend in self.backends:
            if backend in GPU_BACKENDS:
                return "HIP" if backend in ("ROCm", "HIP") else backend
        return "GPU" if self.gpu_offload else "CPU"


@contextlib.contextmanager
def capture_llama_log(llama_cpp: Any) -> Iterator[list[str]]:
    """Collect llama.cpp/ggml log text while the block runs, then put back whatever callback was installed before
    (the LLM engine installs its own).

    The log callback is process-global: callers run on the thread that owns llama.cpp, so nothing else logs meanwhile.
    """
    lines: list[str] = []
    previous = llama_cpp.llama_log_callback()
    previous_data = ctypes.c_void_p()
    llama_cpp.llama_log_get(ctypes.byref(previous), ctypes.byref(previous_data))

    @llama_cpp.llama_log_callback  # type: ignore[misc]
    def _collect(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        lines.append(text.decode("utf-8", errors="replace"))

    llama_cpp.llama_log_set(_collect, ctypes.c_void_p(0))
    try:
        yield lines
    finally:
        llama_cpp.llama_log_set(previous, previous_data)


def _ggml_devices(lib: Any) -> list[DeviceReading]:
    """GPU and iGPU devices from ggml's registry with HIP's free/total. Empty if the symbols are missing."""
    try:
        count_fn = lib.ggml_backend_dev_count
        get_fn = lib.ggml_backend_dev_get
        type_fn = lib.ggml_backend_dev_type
        desc_fn = lib.ggml_backend_dev_description
        memory_fn = lib.ggml_backend_dev_memory
    except AttributeError:
        return []
    count_fn.restype, count_fn.argtypes = ctypes.c_size_t, []
    get_fn.restype, get_fn.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    type_fn.restype, type_fn.argtypes = ctypes.c_int, [ctypes.c_void_p]
    desc_fn.restype, desc_fn.argtypes = ctypes.c_char_p, [ctypes.c_void_p]
    memory_fn.restype = None
    memory_fn.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_size_t)]
    readings: list[DeviceReading] = []
    for i in range(int(count_fn())):
        dev = get_fn(i)
        if not dev or type_fn(dev) not in (_DEV_TYPE_GPU, _DEV_TYPE_IGPU):
            continue
        free, total = ctypes.c_size_t(0), ctypes.c_size_t(0)
        memory_fn(dev, ctypes.byref(free), ctypes.byref(total))
        description = (desc_fn(dev) or b"").decode("utf-8", errors="replace").strip()
        total_bytes = int(total.value) or None
        free_bytes = int(free.value)
        if total_bytes is not None:
            free_bytes = min(free_bytes, total_bytes)  # HIP on Windows has reported free > total
        readings.append(
            DeviceReading(
                source="llama.cpp",
                index=len(readings),
                name=description or None,
                total_bytes=total_bytes,
                free_bytes=free_bytes if total_bytes is not None else None,
            )
        )
    return readings


def query_llama_build() -> LlamaBuild:
    try:
        import llama_cpp
    except (ImportError, OSError) as exc:
        return LlamaBuild(importable=False, gpu_offload=False, error=f"{type(exc).__name__}: {exc}")
    version = str(getattr(llama_cpp, "__version__", ""))
    try:
        offload = bool(llama_cpp.llama_supports_gpu_offload())
        backends = parse_system_info((llama_cpp.llama_print_system_info() or b"").decode("utf-8", "replace"))
        with capture_llama_log(llama_cpp) as lines:
            # The first device query initialises the HIP backend, which logs its device lines (with gfx names).
            devices = _ggml_devices(llama_cpp.llama_cpp._lib)
        logged = parse_device_lines("".join(lines))
        for device in devices:
            same = next((r for r in logged if r.index == device.index), None)
            if same is not None:
                device.gfx = same.gfx
    except (OSError, AttributeError, ValueError) as exc:
        log.warning("llama.cpp device query failed: %s", type(exc).__name__)
        return LlamaBuild(importable=True, gpu_offload=False, version=version, error=f"{type(exc).__name__}: {exc}")
    return LlamaBuild(importable=True, gpu_offload=offload, backends=backends, devices=devices, version=version)
