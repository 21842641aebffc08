"""What the fit planner needs from a GGUF file: layer count, bytes per layer, KV-cache bytes per token, context.

Read from the file's header only (the weights are never touched). The `gguf` package supplies the format's
constants (value types, quantisation block sizes, file-type names). Its `GGUFReader` parses every tokenizer string
into numpy views: 9 s for the 1.5B Qwen model and 2.8 s for SmolLM2 on the 2-core box, longer than loading the model
itself, and the planner runs before every load. So the header is walked here, skipping arrays the planner does not
need; tests/core/test_gpu_gguf_info.py checks the result against GGUFReader on the real SmolLM2 file.

`ModelMetadata` is a plain dataclass so tests can build a 70B-like model without a 40 GB file.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from gguf import GGML_QUANT_SIZES, GGUF_MAGIC, GGMLQuantizationType, GGUFValueType, LlamaFileType

from app.core.errors import ModelError

_SCALAR_FORMATS: dict[GGUFValueType, str] = {
    GGUFValueType.UINT8: "B",
    GGUFValueType.INT8: "b",
    GGUFValueType.UINT16: "H",
    GGUFValueType.INT16: "h",
    GGUFValueType.UINT32: "I",
    GGUFValueType.INT32: "i",
    GGUFValueType.FLOAT32: "f",
    GGUFValueType.BOOL: "?",
    GGUFValueType.UINT64: "Q",
    GGUFValueType.INT64: "q",
    GGUFValueType.FLOAT64: "d",
}
_KEEP_ARRAY_MAX = 4096  # per-layer arrays (head_count_kv on some models) are kept; vocabularies are skipped
_LAYER_TENSOR = re.compile(r"^blk\.(\d+)\.")
F16_BYTES = 2


@dataclass(frozen=True)
class ModelMetadata:
    name: str
    architecture: str
    file_type: str  # "Q8_0", "Q4_K_M", …
    n_layers: int  # repeating blocks; llama.cpp counts one more "layer" for the output
    n_ctx_train: int
    n_embd: int
    n_head: int
    n_head_kv: tuple[int, ...]  # per layer
    head_dim_k: int
    head_dim_v: int
    n_ff: int
    n_vocab: int
    layer_bytes: tuple[int, ...]  # weights of blk.N.*
    output_bytes: int  # output head + norm: on the GPU whenever any layer is offloaded
    token_embd_bytes: int  # stays on the CPU in llama.cpp
    other_bytes: int = 0  # anything else (rope tables, …), counted with the output
    tied_output_bytes: int = 0  # part of output_bytes that is a GPU copy of token_embd (tied embeddings)
    n_params: int = 0
    size_label: str = ""
    path: Path | None = None

    @property
    def total_bytes(self) -> int:
        """The weights in the file (a tied output head counted once)."""
        return (
            sum(self.layer_bytes)
            + self.output_bytes
            - self.tied_output_bytes
            + self.token_embd_bytes
            + self.other_bytes
        )

    @property
    def n_offloadable(self) -> int:
        """llama.cpp's "offloaded N/N layers": the blocks plus the output layer."""
        return self.n_layers + 1

    def kv_bytes_per_token_layer(self, layer: int, type_bytes: int = F16_BYTES) -> int:
        return self.n_head_kv[layer] * (self.head_dim_k + self.head_dim_v) * type_bytes

    def kv_bytes_per_token(self, type_bytes: int = F16_BYTES) -> int:
        return sum(self.kv_bytes_per_token_layer(i, type_bytes) for i in range(self.n_layers))

    @property
    def label(self) -> str:
        """'70B Q8_0' style, for plan summaries."""
        size = self.size_label or _params_label(self.n_params)
        return " ".join(part for part in (size, self.file_type) if part)


def _params_label(n_params: int) -> str:
    if n_params >= 10**9:
        return f"{n_params / 10**9:.0f}B" if n_params >= 10 * 10**9 else f"{n_params / 10**9:.1f}B"
    if n_params >= 10**6:
        return f"{n_params / 10**6:.0f}M"
    return ""


class _HeaderReader:
    """Reads GGUF values; every length is checked against the file size (a damaged header must not allocate or
    seek gigabytes)."""

    def __init__(self, handle: BinaryIO, endian: str, size: int) -> None:
        self.handle = handle
        self.endian = endian
        self.size = size

    def _skip(self, n_bytes: int) -> None:
        if n_bytes < 0 or self.handle.tell() + n_bytes > self.size:
            raise EOFError
        self.handle.seek(n_bytes, 1)

    def unpack(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        data = self.handle.read(size)
        if len(data) != size:
            raise EOFError
        return struct.unpack(self.endian + fmt, data)[0]

    def string(self) -> str:
        length = self.unpack("Q")
        if self.handle.tell() + length > self.size:
            raise EOFError
        data = self.handle.read(length)
        if len(data) != length:
            raise EOFError
        return data.decode("utf-8", errors="replace")

    def skip_string(self) -> None:
        self._skip(self.unpack("Q"))

    def value(self, kind: GGUFValueType) -> Any:
        if kind == GGUFValueType.STRING:
            return self.string()
        if kind == GGUFValueType.ARRAY:
            item_kind = GGUFValueType(self.unpack("I"))
            count = self.unpack("Q")
            if item_kind in _SCALAR_FORMATS and count <= _KEEP_ARRAY_MAX:
                return [self.unpack(_SCALAR_FORMATS[item_kind]) for _ in range(count)]
            if count > self.size:
                raise EOFError
            if item_kind in _SCALAR_FORMATS:
                self._skip(count * struct.calcsize(_SCALAR_FORMATS[item_kind]))
            elif item_kind == GGUFValueType.STRING:
                for _ in range(count):
                    self.skip_string()
            else:
                for _ in range(count):
                    self.value(item_kind)
            return None
        return self.unpack(_SCALAR_FORMATS[kind])


def read_header(path: Path) -> tuple[dict[str, Any], list[tuple[str, int, int]]]:
    """(metadata, [(tensor name, ggml type, n_elements)]). Raises ModelError for a file that is not GGUF."""
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
            if len(magic) != 4 or struct.unpack("<I", magic)[0] != GGUF_MAGIC:
                raise ModelError(f"{path.name} is not a GGUF model file", "Choose a .gguf file made for llama.cpp")
            version = struct.unpack("<I", handle.read(4))[0]
            endian = "<" if version < 65536 else ">"  # a big-endian file reads as a huge version
            reader = _HeaderReader(handle, endian, path.stat().st_size)
            if endian == ">":
                version = struct.unpack(">I", struct.pack("<I", version))[0]
            if version < 2:
                raise ModelError(f"{path.name} is GGUF version {version}, too old", "Convert it again with llama.cpp")
            n_tensors, n_kv = reader.unpack("Q"), reader.unpack("Q")
            if n_tensors > reader.size or n_kv > reader.size:
                raise EOFError
            metadata: dict[str, Any] = {}
            for _ in range(n_kv):
                key = reader.string()
                metadata[key] = reader.value(GGUFValueType(reader.unpack("I")))
            tensors: list[tuple[str, int, int]] = []
            for _ in range(n_tensors):
                name = reader.string()
                n_dims = reader.unpack("I")
                if n_dims > 8:
                    raise ValueError("too many dimensions")
                dims = [reader.unpack("Q") for _ in range(n_dims)]
                kind = reader.unpack("I")
                if GGMLQuantizationType(kind) not in GGML_QUANT_SIZES:
                    raise ValueError("unknown tensor type")
                reader.unpack("Q")  # offset into the data section
                n_elements = 1
                for dim in dims:
                    n_elements *= dim
                tensors.append((name, kind, n_elements))
    except (EOFError, ValueError, struct.error) as exc:
        raise ModelError(
            f"{path.name} is damaged: its GGUF header cannot be read ({type(exc).__name__})",
            "Copy or install the model again",
        ) from None
    except OSError as exc:
        raise ModelError(f"{path.name} cannot be read ({exc.strerror})", "Check the file and its permissions") from None
    return metadata, tensors


def tensor_bytes(kind: int, n_elements: int) -> int:
    block_size, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(kind)]
    return n_elements // block_size * type_size


def _file_type_name(metadata: dict[str, Any], tensors: list[tuple[str, int, int]]) -> str:
    code = metadata.get("general.file_type")
    if isinstance(code, int):
        try:
            return LlamaFileType(code).name.removeprefix("MOSTLY_")
        except ValueError:
            pass
    kinds = [kind for name, kind, _ in tensors if _LAYER_TENSOR.match(name) and name.endswith("ffn_down.weight")]
    return GGMLQuantizationType(max(set(kinds), key=kinds.count)).name if kinds else ""


def metadata_from_header(
    metadata: dict[str, Any], tensors: list[tuple[str, int, int]], path: Path | None = None
) -> ModelMetadata:
    arch = str(metadata.get("general.architecture", "llama"))

    def key(name: str, default: Any = None) -> Any:
        return metadata.get(f"{arch}.{name}", default)

    n_layers = int(key("block_count", 0))
    if n_layers <= 0:
        raise ModelError(
            f"{path.name if path else 'the model'} has no layer count in its metadata",
            "This GGUF is not a language model llama.cpp can offload",
        )
    n_embd = int(key("embedding_length", 0))
    n_head_raw = key("attention.head_count", 0)
    n_head = int(max(n_head_raw) if isinstance(n_head_raw, list) else n_head_raw)
    kv_raw = key("attention.head_count_kv", n_head_raw)
    n_head_kv = tuple(int(v) for v in kv_raw) if isinstance(kv_raw, list) else (int(kv_raw),) * n_layers
    head_dim = n_embd // n_head if n_head else 0
    layer_bytes = [0] * n_layers
    output = token_embd = other = n_params = tied = 0
    has_output = any(name == "output.weight" for name, _, _ in tensors)
    for name, kind, n_elements in tensors:
        size = tensor_bytes(kind, n_elements)
        n_params += n_elements
        layer = _LAYER_TENSOR.match(name)
        if layer and int(layer.group(1)) < n_layers:
            layer_bytes[int(layer.group(1))] += size
        elif name.startswith("token_embd."):
            token_embd += size
            if not has_output and name == "token_embd.weight":
                output += size  # tied embeddings: llama.cpp puts a second copy on the output layer's device
                tied = size
        elif name.startswith(("output.", "output_norm.")):
            output += size
        else:
            other += size
    n_ff_raw = key("feed_forward_length", 0)
    vocab = metadata.get(f"{arch}.vocab_size") or metadata.get("tokenizer.ggml.tokens_count")
    if not vocab:
        vocab = next((n // max(n_embd, 1) for name, _, n in tensors if name == "token_embd.weight"), 0)
    return ModelMetadata(
        name=str(metadata.get("general.name") or (path.stem if path else "model")),
        architecture=arch,
        file_type=_file_type_name(metadata, tensors),
        n_layers=n_layers,
        n_ctx_train=int(key("context_length", 0)) or 4096,
        n_embd=n_embd,
        n_head=n_head,
        n_head_kv=n_head_kv,
        head_dim_k=int(key("attention.key_length", head_dim)),
        head_dim_v=int(key("attention.value_length", head_dim)),
        n_ff=int(max(n_ff_raw) if isinstance(n_ff_raw, list) else n_ff_raw),
        n_vocab=int(vocab),
        layer_bytes=tuple(layer_bytes),
        output_bytes=output,
        token_embd_bytes=token_embd,
        other_bytes=other,
        tied_output_bytes=tied,
        n_params=n_params,
        size_label=str(metadata.get("general.size_label") or ""),
        path=path,
    )


_CACHE: dict[tuple[str, int, int], ModelMetadata] = {}


def read_model_metadata(path: Path) -> ModelMetadata:
    """Metadata of a .gguf file; cached per (path, size, mtime) for the process."""
    try:
        stat = path.stat()
    except OSError:
        raise ModelError(f"The model file {path} does not exist", "Install the model or pick another one") from None
    cache_key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if cache_key not in _CACHE:
        metadata, tensors = read_header(path)
        _CACHE[cache_key] = metadata_from_header(metadata, tensors, path)
    return _CACHE[cache_key]
