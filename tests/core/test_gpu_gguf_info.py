"""GGUF metadata for the planner, checked against the gguf package's GGUFReader and against what llama.cpp itself
reports when it loads the real SmolLM2 file."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from gguf import GGUFReader

from app.core.errors import ModelError
from app.core.gpu.footprint import compute_buffer_bytes
from app.core.gpu.gguf_info import read_header, read_model_metadata, tensor_bytes
from tests.support.tiny_gguf import write_garbage_gguf, write_tiny_gguf, write_truncated_copy


@pytest.fixture(scope="module")
def smollm2(models_dir: Path) -> Path:
    path = models_dir / "smollm2-135m-instruct.gguf"
    assert path.is_file(), f"{path} is missing: run `clinic-assistant models install`"
    return path


def test_smollm2_metadata(smollm2: Path) -> None:
    meta = read_model_metadata(smollm2)
    assert (meta.architecture, meta.file_type, meta.size_label, meta.label) == ("llama", "Q4_1", "135M", "135M Q4_1")
    assert (meta.n_layers, meta.n_offloadable, meta.n_ctx_train) == (30, 31, 8192)
    assert (meta.n_embd, meta.n_head, meta.n_head_kv, meta.head_dim_k, meta.n_ff, meta.n_vocab) == (
        576,
        9,
        (3,) * 30,
        64,
        1536,
        49152,
    )
    # Tied embeddings: no output.weight, so the GPU gets a copy of token_embd with the output layer.
    assert meta.tied_output_bytes == meta.token_embd_bytes > 0
    assert meta.kv_bytes_per_token() == 30 * 2 * 3 * 64 * 2 == 23040


def test_smollm2_tensor_sizes_agree_with_ggufreader(smollm2: Path) -> None:
    reader = GGUFReader(smollm2)
    meta = read_model_metadata(smollm2)
    by_layer = [0] * meta.n_layers
    others = 0
    for tensor in reader.tensors:
        match = re.match(r"blk\.(\d+)\.", tensor.name)
        if match:
            by_layer[int(match.group(1))] += int(tensor.n_bytes)
        else:
            others += int(tensor.n_bytes)
        assert tensor_bytes(int(tensor.tensor_type), int(tensor.n_elements)) == int(tensor.n_bytes)
    assert tuple(by_layer) == meta.layer_bytes
    assert others == meta.token_embd_bytes + meta.output_bytes - meta.tied_output_bytes + meta.other_bytes
    assert int(reader.fields["llama.block_count"].contents()) == meta.n_layers
    metadata, tensors = read_header(smollm2)
    assert metadata["general.name"] == reader.fields["general.name"].contents()
    assert len(tensors) == len(reader.tensors)


def test_reading_the_header_is_fast(models_dir: Path) -> None:
    qwen = models_dir / "qwen2.5-1.5b-instruct.gguf"
    started = time.perf_counter()
    meta = read_model_metadata(qwen)
    # GGUFReader needs ~9 s for this file's 151,936-token vocabulary on the 2-core box; the header walk skips it.
    assert time.perf_counter() - started < 3.0
    assert (meta.n_layers, meta.file_type, meta.n_head_kv[0], meta.n_vocab) == (28, "Q4_K_M", 2, 151936)
    assert meta.tied_output_bytes == 0 and meta.output_bytes > 0


def test_tiny_gguf(tmp_path: Path) -> None:
    meta = read_model_metadata(write_tiny_gguf(tmp_path / "tiny.gguf"))
    assert (meta.n_layers, meta.n_embd, meta.n_head, meta.n_ctx_train, meta.file_type) == (2, 64, 4, 2048, "ALL_F32")
    assert meta.layer_bytes[0] == (4 * 64 * 64 + 3 * 64 * 128 + 2 * 64) * 4


def test_damaged_and_foreign_files_are_model_errors(tmp_path: Path) -> None:
    tiny = write_tiny_gguf(tmp_path / "tiny.gguf")
    cut = write_truncated_copy(tiny, tmp_path / "cut.gguf", keep_fraction=0.001)
    with pytest.raises(ModelError, match="damaged"):
        read_model_metadata(cut)
    with pytest.raises(ModelError):
        read_model_metadata(write_garbage_gguf(tmp_path / "garbage.gguf"))
    text = tmp_path / "notes.gguf"
    text.write_text("not a model")
    with pytest.raises(ModelError, match="not a GGUF model file"):
        read_model_metadata(text)
    with pytest.raises(ModelError, match="does not exist"):
        read_model_metadata(tmp_path / "missing.gguf")


@pytest.mark.integration
def test_kv_and_compute_estimates_against_llama_cpp_loading_smollm2(smollm2: Path) -> None:
    import llama_cpp

    from app.core.gpu.llama_build import capture_llama_log

    meta = read_model_metadata(smollm2)
    with capture_llama_log(llama_cpp) as lines:
        llm = llama_cpp.Llama(str(smollm2), n_ctx=2048, n_batch=512, verbose=False)
        llm.close()
    log = "".join(lines)
    kv_mib = float(re.search(r"CPU KV buffer size =\s+([\d.]+) MiB", log).group(1))  # type: ignore[union-attr]
    compute_mib = float(re.search(r"CPU compute buffer size =\s+([\d.]+) MiB", log).group(1))  # type: ignore[union-attr]
    assert kv_mib == meta.kv_bytes_per_token() * 2048 / 2**20  # exact: f16 K and V per layer
    estimate = compute_buffer_bytes(meta, 2048, 512, flash_attn=False, holds_output=True) / 2**20
    assert compute_mib <= estimate <= 2 * compute_mib  # conservative, same order
