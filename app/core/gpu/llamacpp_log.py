"""Read llama.cpp's own log text: which devices its HIP backend found, and why a load failed.

The device lines changed format four times (all recorded):
    ggml_init_cublas: found 2 ROCm devices:                    (2023–early 2024)
      Device 0: Radeon RX 7900 XTX, compute capability 11.0, VMM: no
    ggml_cuda_init: found 1 ROCm devices:                      (2024)
    ggml_cuda_init: found 1 ROCm devices:
      Device 0: AMD Radeon RX 7900 XTX, gfx1100 (0x1100), VMM: no, Wave Size: 32          (2025)
    ggml_cuda_init: found 2 ROCm devices (Total VRAM: 31898 MiB):
      Device 0: AMD Radeon RX 9070, gfx1201 (0x1201), VMM: no, Wave Size: 32, VRAM: 16304 MiB   (2026)
and the model loader prints `using device ROCm0 (AMD Radeon 780M Graphics) - 59175 MiB free` (newer builds add the
PCI address: `using device ROCm0 (AMD Radeon PRO W7900) (0000:03:00.0) - 45998 MiB free`). `--list-devices` prints
`  ROCm0: AMD Radeon PRO W7800 (32752 MiB, 32586 MiB free)`. Logs arrive with journald/ollama prefixes, Windows CRLF
and terminal colour codes: every parser reads `clean_text(text)` and searches lines rather than anchoring them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.core.gpu.devices import MIB, DeviceReading, clean_text, hsa_override_advice, normalise_gfx

_DEVICE = re.compile(
    r"\bDevice (\d+): (.*?), (?:compute capability (\d+)\.(\d+)|(gfx[0-9a-z:+-]+)(?: \(0x[0-9a-f]+\))?)(.*)$"
)
_VRAM = re.compile(r"VRAM: (\d+) MiB")
_FREE = re.compile(r"using device (?:ROCm|CUDA|HIP)(\d+) \((.*?)\)(?: \([0-9a-fA-F:.]+\))? - (\d+) MiB free")
_LISTED = re.compile(r"^\s*(?:ROCm|CUDA|HIP)(\d+): (.*?) \((\d+) MiB, (\d+) MiB free\)")
_OFFLOADED = re.compile(r"offloaded (\d+)/(\d+) layers to GPU")
_TENSILE = re.compile(r"TensileLibrary.*GPU arch\s*:\s*(gfx[0-9a-f]+)|Cannot read .*TensileLibrary.*?(gfx[0-9a-f]+)")

_NO_DEVICE = (
    "ROCm found no usable GPU: check that the user is in the 'render' and 'video' groups and that the GPU is "
    "supported by this ROCm (HSA_OVERRIDE_GFX_VERSION for unsupported RDNA2/780M chips)"
)
# Known failure lines → what the user should do. Order matters: the first match is the most specific.
_FAILURES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"no ROCm-capable device is detected|hipErrorNoDevice|Tensile host: No devices found"), _NO_DEVICE),
    (
        re.compile(r"invalid device function|hipErrorNoBinaryForGpu|Unable to find code object|no kernel image is"),
        "llama.cpp was not built for one of the GPUs (often an integrated GPU): hide it with gpu.hip_visible_devices "
        "or rebuild with its gfx target in GPU_TARGETS",
    ),
    (
        re.compile(
            r"out of memory|ErrorOutOfMemory|(?:failed|unable) to allocate (?:ROCm|CUDA|HIP)\d* buffer"
            r"|failed to allocate compute|failed to allocate buffer for kv cache",
            re.IGNORECASE,
        ),
        "the GPU ran out of memory: lower the context size or the layers on the GPU (run 'gpu plan')",
    ),
    (
        re.compile(r"HSA_STATUS_ERROR_MEMORY_APERTURE_VIOLATION|Memory access fault by GPU"),
        "the GPU faulted: try split mode 'layer' instead of 'row', and update the ROCm driver",
    ),
)


@dataclass
class Offload:
    """What llama.cpp's loader says it put on the GPUs: `offloaded 81/81 layers to GPU` and each device's
    weights (`ROCm0 model buffer size = 20431.77 MiB`)."""

    offloaded: int
    total: int
    device_mib: dict[str, float] = field(default_factory=dict)


def parse_device_lines(text: str) -> list[DeviceReading]:
    lines = clean_text(text).splitlines()
    readings: dict[int, DeviceReading] = {}
    for line in lines:
        match = _DEVICE.search(line)
        if match:
            index, name = int(match.group(1)), match.group(2).strip()
            vram = _VRAM.search(match.group(6) or "")
            readings[index] = DeviceReading(
                source="llama.cpp",
                index=index,
                name=name or None,  # MI100 nodes have printed empty names
                gfx=normalise_gfx(match.group(5)),
                total_bytes=int(vram.group(1)) * MIB if vram else None,
            )
    for line in lines:
        listed = _LISTED.match(line)
        if listed:
            index = int(listed.group(1))
            reading = readings.setdefault(index, DeviceReading(source="llama.cpp", index=index))
            reading.name = reading.name or listed.group(2).strip() or None
            reading.total_bytes = int(listed.group(3)) * MIB
            reading.free_bytes = int(listed.group(4)) * MIB
        free = _FREE.search(line)
        if free and int(free.group(1)) in readings:
            readings[int(free.group(1))].free_bytes = int(free.group(3)) * MIB
    return [readings[index] for index in sorted(readings)]


def found_device_count(text: str) -> int | None:
    """`found N ROCm devices`; 0 when ROCm said there is none; None when the text does not say."""
    text = clean_text(text)
    if "no ROCm-capable device" in text or re.search(r"failed to initialize (?:ROCm|HIP)", text):
        return 0
    match = re.search(r"found (\d+) (?:ROCm|CUDA|HIP) devices", text)
    return int(match.group(1)) if match else None


def _tensile_advice(gfx: str) -> str:
    version = hsa_override_advice(gfx)
    if version:
        return (
            f'rocBLAS has no kernels for this GPU ({gfx}): set gpu.hsa_override_gfx_version = "{version}" '
            "(HSA_OVERRIDE_GFX_VERSION)"
        )
    return (
        f"rocBLAS has no kernels for this GPU ({gfx}): this ROCm release does not support it; use a ROCm release "
        "that lists it, or the CPU build"
    )


def explain_failure(text: str) -> str | None:
    text = clean_text(text)
    # A missing device explains everything after it; a missing rocBLAS library comes before any other error.
    if _FAILURES[0][0].search(text):
        return _FAILURES[0][1]
    tensile = _TENSILE.search(text)
    if tensile:
        return _tensile_advice(tensile.group(1) or tensile.group(2))
    for pattern, advice in _FAILURES[1:]:
        if pattern.search(text):
            return advice
    return None


# Where the weights went: "load_tensors: ROCm0 model buffer size = 16228.09 MiB", "CPU_Mapped model buffer size",
# and before 2025 "llm_load_tensors: ROCm0 buffer size = ...". KV, compute and output buffers are not weights.
_WEIGHTS = re.compile(
    r"(?:(?:llm_)?load_tensors:\s+(\w+) (?:model )?buffer size|\b(\w+) model buffer size)\s*=\s*(\d{1,9}(?:\.\d+)?) MiB"
)
_GPU_BUFFER = re.compile(r"(?:ROCm|CUDA|HIP|Vulkan|SYCL)\d+")


def weight_buffers(text: str) -> dict[str, float]:
    """MiB of model weights per buffer (`ROCm0`, `CPU_Mapped`...) in a llama.cpp load log."""
    found: dict[str, float] = {}
    for match in _WEIGHTS.finditer(clean_text(text)):
        found[match.group(1) or match.group(2)] = float(match.group(3))
    return found


def weights_on_gpu(text: str) -> bool | None:
    """Whether a load put any weights on a GPU; None when the log names no weight buffer."""
    buffers = weight_buffers(text)
    return any(_GPU_BUFFER.fullmatch(name) for name in buffers) if buffers else None


def parse_offload(text: str) -> Offload | None:
    """The last `offloaded N/M layers to GPU` in the log (a reload prints it again), or None."""
    text = clean_text(text)
    matches = list(_OFFLOADED.finditer(text))
    if not matches:
        return None
    last = matches[-1]
    buffers = {n: mib for n, mib in weight_buffers(text[last.start() :]).items() if _GPU_BUFFER.fullmatch(n)}
    return Offload(int(last.group(1)), int(last.group(2)), buffers)


def parse_system_info(text: str) -> list[str]:
    """Backends named in llama_print_system_info(), e.g. 'ROCm : NO_VMM = 1 | ... | CPU : SSE3 = 1 | ...'."""
    names = re.findall(r"(?:^|\|)\s*([A-Za-z][A-Za-z0-9_]*) : ", clean_text(text))
    return list(dict.fromkeys(names))
