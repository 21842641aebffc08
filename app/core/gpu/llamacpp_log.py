"""Read llama.cpp's own log text: which devices its HIP backend found, and why a load failed.

The device lines changed format four times (all recorded):
    ggml_init_cublas: found 2 ROCm devices:                    (2023–early 2024)
      Device 0: Radeon RX 7900 XTX, compute capability 11.0, VMM: no
    ggml_cuda_init: found 1 ROCm devices:                      (2024)
    ggml_cuda_init: found 1 ROCm devices:
      Device 0: AMD Radeon RX 7900 XTX, gfx1100 (0x1100), VMM: no, Wave Size: 32          (2025)
    ggml_cuda_init: found 2 ROCm devices (Total VRAM: 31898 MiB):
      Device 0: AMD Radeon RX 9070, gfx1201 (0x1201), VMM: no, Wave Size: 32, VRAM: 16304 MiB   (2026)
and the model loader prints `using device ROCm0 (AMD Radeon 780M Graphics) - 59175 MiB free`.
"""

from __future__ import annotations

import re

from app.core.gpu.devices import MIB, DeviceReading, normalise_gfx

_DEVICE = re.compile(
    r"^\s*Device (\d+): (.*?), (?:compute capability (\d+)\.(\d+)|(gfx[0-9a-z:+-]+)(?: \(0x[0-9a-f]+\))?)(.*)$"
)
_VRAM = re.compile(r"VRAM: (\d+) MiB")
_FREE = re.compile(r"using device (?:ROCm|CUDA|HIP)(\d+) \((.*?)\) - (\d+) MiB free")

# Known failure lines → what the user should do. Order matters: the first match is the most specific.
_FAILURES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"no ROCm-capable device is detected"),
        "ROCm found no usable GPU: check that the user is in the 'render' and 'video' groups and that the GPU is "
        "supported by this ROCm (HSA_OVERRIDE_GFX_VERSION for unsupported RDNA2/780M chips)",
    ),
    (
        re.compile(r"Cannot read .*TensileLibrary.*(gfx\d+)"),
        "rocBLAS has no kernels for this GPU: set gpu.hsa_override_gfx_version (10.3.0 for gfx1031/gfx1032)",
    ),
    (
        re.compile(r"invalid device function"),
        "llama.cpp was not built for one of the GPUs (often an integrated GPU): hide it with gpu.hip_visible_devices "
        "or rebuild with its gfx target in GPU_TARGETS",
    ),
    (
        re.compile(r"out of memory|failed to allocate (?:ROCm|CUDA)\d* buffer|failed to allocate compute"),
        "the GPU ran out of memory: lower the context size or the layers on the GPU (run 'gpu plan')",
    ),
    (
        re.compile(r"HSA_STATUS_ERROR_MEMORY_APERTURE_VIOLATION|Memory access fault by GPU"),
        "the GPU faulted: try split mode 'layer' instead of 'row', and update the ROCm driver",
    ),
)


def parse_device_lines(text: str) -> list[DeviceReading]:
    readings: list[DeviceReading] = []
    for line in text.splitlines():
        match = _DEVICE.match(line)
        if not match:
            continue
        index, name = int(match.group(1)), match.group(2).strip()
        gfx = normalise_gfx(match.group(5))
        vram = _VRAM.search(match.group(6) or "")
        readings.append(
            DeviceReading(
                source="llama.cpp",
                index=index,
                name=name or None,  # MI100 nodes have printed empty names
                gfx=gfx,
                total_bytes=int(vram.group(1)) * MIB if vram else None,
            )
        )
    for line in text.splitlines():
        free = _FREE.search(line)
        if free:
            for reading in readings:
                if reading.index == int(free.group(1)):
                    reading.free_bytes = int(free.group(3)) * MIB
    return readings


def found_device_count(text: str) -> int | None:
    """`found N ROCm devices`; 0 when ROCm said there is none; None when the text does not say."""
    if "no ROCm-capable device" in text:
        return 0
    match = re.search(r"found (\d+) (?:ROCm|CUDA) devices", text)
    return int(match.group(1)) if match else None


def explain_failure(text: str) -> str | None:
    for pattern, advice in _FAILURES:
        if pattern.search(text):
            return advice
    return None


def parse_system_info(text: str) -> list[str]:
    """Backends named in llama_print_system_info(), e.g. 'ROCm : NO_VMM = 1 | ... | CPU : SSE3 = 1 | ...'."""
    names = re.findall(r"(?:^|\|)\s*([A-Za-z][A-Za-z0-9_]*) : ", text)
    return list(dict.fromkeys(names))
