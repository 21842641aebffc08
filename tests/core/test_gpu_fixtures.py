"""Inputs shared by the GPU tests, and checks that the constructed ones are what they claim to be.

Recorded inputs are read from tests/data/gpu (real outputs from real machines, copied from the development
data). What is NOT recorded is constructed here, and says so:
- two W7900s in one machine: no such recording exists; `two_w7900_rocminfo()` copies the GPU agent of the recorded
  single-W7900 rocminfo (ROCm 6.0, Manjaro) as a second agent with another PCI address.
- a 70B model: `llama70b_metadata()` builds Llama-3-70B's shapes (80 layers, 8192 embd, 64 heads, 8 KV heads,
  28672 FFN, 128256 vocab) as a dataclass, and `write_header_only_gguf()` writes the same tensor table as a GGUF
  header with no weights, so the planner can be run on "a 70B file" through the real CLI.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFWriter

from app.core.gpu.gguf_info import ModelMetadata, read_model_metadata
from app.core.gpu.llama_build import LlamaBuild
from app.core.gpu.rocminfo import parse_rocminfo
from app.core.gpu.runner import ProbeSources

GPU_DATA = Path(__file__).resolve().parents[1] / "data" / "gpu"
W7900_ROCMINFO = "w7900_rocminfo_rocm6.0_manjaro.txt"
GIB = 2**30


def read(name: str) -> str:
    return (GPU_DATA / name).read_text(encoding="utf-8")


def two_w7900_rocminfo() -> str:
    """CONSTRUCTED: the recorded single-W7900 dump with its GPU agent repeated as Agent 3 (bus 0x03, node 2)."""
    text = read(W7900_ROCMINFO)
    start = text.index("Agent 2")
    start = text.rindex("*******", 0, start)
    end = text.index("*** Done ***")
    second = (
        text[start:end]
        .replace("Agent 2", "Agent 3")
        .replace("GPU-9e8b159eef31d025", "GPU-constructed00002")
        .replace("BDFID:                   3584", "BDFID:                   768")
        .replace("Node:                    1 ", "Node:                    2 ")
    )
    return text[:end] + second + text[end:]


def hip_build() -> LlamaBuild:
    """A HIP build of llama.cpp as the probe would see it (the real one here is a CPU build)."""
    return LlamaBuild(importable=True, gpu_offload=True, backends=["ROCm", "CPU"], version="test")


def cpu_build() -> LlamaBuild:
    return LlamaBuild(importable=True, gpu_offload=False, backends=["CPU"], version="test")


def sources(**kwargs: object) -> ProbeSources:
    defaults: dict[str, object] = {"llama": hip_build(), "ram_total_mib": 131072, "ram_available_mib": 120000}
    defaults.update(kwargs)
    return ProbeSources(**defaults)  # type: ignore[arg-type]


# Llama-3-70B shapes (numpy order: rows = outputs).
L70 = {"n_layers": 80, "n_embd": 8192, "n_head": 64, "n_head_kv": 8, "head_dim": 128, "n_ff": 28672, "n_vocab": 128256}


def _layer_tensors(kind: GGMLQuantizationType) -> list[tuple[str, tuple[int, ...], GGMLQuantizationType]]:
    e, kv, ff = L70["n_embd"], L70["n_head_kv"] * L70["head_dim"], L70["n_ff"]
    f32 = GGMLQuantizationType.F32
    return [
        ("attn_norm.weight", (e,), f32),
        ("ffn_norm.weight", (e,), f32),
        ("attn_q.weight", (e, e), kind),
        ("attn_k.weight", (kv, e), kind),
        ("attn_v.weight", (kv, e), kind),
        ("attn_output.weight", (e, e), kind),
        ("ffn_gate.weight", (ff, e), kind),
        ("ffn_up.weight", (ff, e), kind),
        ("ffn_down.weight", (e, ff), kind),
    ]


def _nbytes(shape: tuple[int, ...], kind: GGMLQuantizationType) -> int:
    block, size = GGML_QUANT_SIZES[kind]
    return int(np.prod(shape)) // block * size


def llama70b_metadata(kind: GGMLQuantizationType = GGMLQuantizationType.Q8_0) -> ModelMetadata:
    """CONSTRUCTED: Llama-3-70B's tensor sizes at one quantisation (output head Q6_K for K-quants, as llama.cpp
    quantises it), without any file."""
    layer = sum(_nbytes(shape, k) for _, shape, k in _layer_tensors(kind))
    head_kind = GGMLQuantizationType.Q6_K if kind == GGMLQuantizationType.Q4_K else kind
    e, v = L70["n_embd"], L70["n_vocab"]
    return ModelMetadata(
        name="Llama 3 70B (constructed)",
        architecture="llama",
        file_type="Q8_0" if kind == GGMLQuantizationType.Q8_0 else "Q4_K_M",
        n_layers=L70["n_layers"],
        n_ctx_train=131072,
        n_embd=e,
        n_head=L70["n_head"],
        n_head_kv=(L70["n_head_kv"],) * L70["n_layers"],
        head_dim_k=128,
        head_dim_v=128,
        n_ff=L70["n_ff"],
        n_vocab=v,
        layer_bytes=(layer,) * L70["n_layers"],
        output_bytes=_nbytes((v, e), head_kind) + e * 4,
        token_embd_bytes=_nbytes((v, e), kind),
        n_params=70_553_706_496,
        size_label="70B",
    )


def write_header_only_gguf(path: Path, kind: GGMLQuantizationType = GGMLQuantizationType.Q8_0) -> Path:
    """CONSTRUCTED: a GGUF header with Llama-3-70B's metadata and tensor table but no tensor data (~40 KB)."""
    writer = GGUFWriter(str(path), "llama")
    writer.add_name("Llama 3 70B (header only, constructed)")
    writer.add_size_label("70B")
    writer.add_file_type(7 if kind == GGMLQuantizationType.Q8_0 else 15)  # MOSTLY_Q8_0 / MOSTLY_Q4_K_M
    writer.add_block_count(L70["n_layers"])
    writer.add_context_length(131072)
    writer.add_embedding_length(L70["n_embd"])
    writer.add_feed_forward_length(L70["n_ff"])
    writer.add_head_count(L70["n_head"])
    writer.add_head_count_kv(L70["n_head_kv"])
    writer.add_vocab_size(L70["n_vocab"])
    head_kind = GGMLQuantizationType.Q6_K if kind == GGMLQuantizationType.Q4_K else kind
    e, v = L70["n_embd"], L70["n_vocab"]

    def info(name: str, shape: tuple[int, ...], k: GGMLQuantizationType) -> None:
        writer.add_tensor_info(name, shape, np.dtype(np.float32), _nbytes(shape, k), raw_dtype=k)

    info("token_embd.weight", (v, e), kind)
    info("output_norm.weight", (e,), GGMLQuantizationType.F32)
    info("output.weight", (v, e), head_kind)
    for layer in range(L70["n_layers"]):
        for name, shape, k in _layer_tensors(kind):
            info(f"blk.{layer}.{name}", shape, k)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    writer.close()
    return path


def test_constructed_two_w7900_rocminfo_has_two_w7900_agents() -> None:
    result = parse_rocminfo(two_w7900_rocminfo())
    assert [d.name for d in result.devices] == ["AMD Radeon Pro W7900", "AMD Radeon Pro W7900"]
    assert [d.pci for d in result.devices] == [(0x0E, 0, 0), (0x03, 0, 0)]
    assert result.cpu_agents == 1


def test_header_only_70b_file_reads_back_as_the_constructed_metadata(tmp_path: Path) -> None:
    path = write_header_only_gguf(tmp_path / "llama70b-q8_0-header-only.gguf")
    assert path.stat().st_size < 100_000
    from_file = read_model_metadata(path)
    built = llama70b_metadata()
    assert from_file.layer_bytes == built.layer_bytes
    assert from_file.output_bytes == built.output_bytes
    assert from_file.token_embd_bytes == built.token_embd_bytes
    assert from_file.kv_bytes_per_token() == built.kv_bytes_per_token() == 80 * 2 * 8 * 128 * 2
    assert from_file.label == "70B Q8_0"
    # 69.8 GiB of weights: the figure the example plan quotes as "70B q8_0, 69 GB".
    assert 69.5 < from_file.total_bytes / GIB < 70.0
