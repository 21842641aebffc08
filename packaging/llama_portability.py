"""Is the installed llama-cpp-python safe to ship to other machines? (run by build.sh before bundling)

A default llama.cpp build is compiled with -march=native: it runs only on CPUs with the builder's instruction set
and crashes with "Illegal instruction" elsewhere. The wheel records its CMake options in
`lib/cmake/ggml/ggml-config.cmake` (installed beside site-packages with the package, listed in its RECORD), e.g.
`set(GGML_NATIVE "OFF")`: that file is the evidence. When it is missing, llama.cpp's own report of the instruction
sets it was compiled for (`llama_print_system_info()`) is the fallback: a portable x86-64 build uses at most
AVX2/FMA/F16C/BMI2, so anything beyond (AVX-512, AVX-VNNI, AMX) means a native build on a newer CPU.

Usage: python packaging/llama_portability.py   -> prints JSON; exit 0 portable, 3 native, 4 undecided
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

CONFIG_MEMBER = "lib/cmake/ggml/ggml-config.cmake"
# The x86 features ggml enables when GGML_NATIVE=OFF (its CMake defaults INS_ENB=ON for these).
PORTABLE_X86_FEATURES = frozenset({"SSE3", "SSSE3", "AVX", "AVX2", "F16C", "FMA", "BMI2", "SSE4_2"})
# Markers in the system info that are build options, not instruction sets.
NON_ISA_MARKERS = frozenset({"LLAMAFILE", "OPENMP", "REPACK", "ACCELERATE", "KLEIDIAI"})
GPU_OPTIONS = {"GGML_HIP": "hip", "GGML_CUDA": "cuda", "GGML_VULKAN": "vulkan", "GGML_SYCL": "sycl"}

EXIT_PORTABLE = 0
EXIT_NATIVE = 3
EXIT_UNDECIDED = 4


@dataclass
class LlamaBuildReport:
    version: str
    native: bool | None  # None: could not tell
    evidence: str
    gpu: str = "cpu"  # cpu, hip, cuda, vulkan, sycl
    cpu_features: list[str] = field(default_factory=list)  # instruction sets the library was compiled to use
    options: dict[str, str] = field(default_factory=dict)


def parse_ggml_config(text: str) -> dict[str, str]:
    """`set(GGML_X "VALUE")` lines of ggml-config.cmake as a dict."""
    return dict(re.findall(r'^\s*set\((GGML_[A-Z0-9_]+)\s+"([^"]*)"\)', text, flags=re.MULTILINE))


def parse_system_info(text: str) -> list[str]:
    """The enabled instruction sets in `CPU : SSE3 = 1 | AVX = 1 | ... |` (build options left out)."""
    features = []
    for name, value in re.findall(r"([A-Z][A-Z0-9_]*)\s*=\s*(\d+)", text):
        if value != "0" and name not in NON_ISA_MARKERS:
            features.append(name)
    return features


def judge(options: dict[str, str], cpu_features: list[str], version: str) -> LlamaBuildReport:
    gpu = next((kind for opt, kind in GPU_OPTIONS.items() if options.get(opt) == "ON"), "cpu")
    if "GGML_NATIVE" in options:
        native = options["GGML_NATIVE"] == "ON"
        evidence = f"{CONFIG_MEMBER}: GGML_NATIVE={options['GGML_NATIVE']}"
        return LlamaBuildReport(version, native, evidence, gpu, cpu_features, options)
    beyond = sorted(set(cpu_features) - PORTABLE_X86_FEATURES)
    if beyond:
        evidence = f"compiled for {', '.join(beyond)}, beyond the portable x86-64 set"
        return LlamaBuildReport(version, True, evidence, gpu, cpu_features, options)
    evidence = f"no {CONFIG_MEMBER}; instruction sets ({', '.join(cpu_features)}) are within the portable set"
    return LlamaBuildReport(version, None, evidence, gpu, cpu_features, options)


def _system_info(python: str) -> str:
    # In a child process: importing llama_cpp loads the native library (and, on a HIP build, initialises ROCm).
    code = "import llama_cpp; print(llama_cpp.llama_print_system_info().decode())"
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"llama_cpp cannot be imported: {done.stderr.strip().splitlines()[-1:]}")
    return done.stdout


def inspect_installed(python: str = sys.executable) -> LlamaBuildReport:
    dist = metadata.distribution("llama_cpp_python")
    options: dict[str, str] = {}
    for member in dist.files or ():
        if str(member).replace("\\", "/") == CONFIG_MEMBER:
            config = Path(str(dist.locate_file(member)))
            if config.is_file():
                options = parse_ggml_config(config.read_text(encoding="utf-8"))
    return judge(options, parse_system_info(_system_info(python)), dist.version)


def main() -> int:
    try:
        report = inspect_installed()
    except (metadata.PackageNotFoundError, RuntimeError) as exc:
        print(json.dumps({"error": str(exc)}))
        return EXIT_UNDECIDED
    print(json.dumps(asdict(report), indent=2))
    if report.native is None:
        return EXIT_UNDECIDED
    return EXIT_NATIVE if report.native else EXIT_PORTABLE


if __name__ == "__main__":
    sys.exit(main())
