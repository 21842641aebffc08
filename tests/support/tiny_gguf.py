"""Writes a tiny random-weight llama GGUF (~0.5 MB) that llama-cpp-python loads in milliseconds.

Why: unit and integration tests of the LLM layer need a real model file (real llama.cpp loading, tokenising,
streaming, grammar-constrained sampling) without the 100 MB SmolLM2 or the 1 GB default model.

Shape: 2 layers, 64-dim embeddings, 4 heads, a SentencePiece ("llama") vocabulary with byte fallback (every UTF-8
byte has a `<0xNN>` token, so any text tokenises), and a ChatML chat template stored in the GGUF metadata, so the
app's chat path (template from metadata) is exercised exactly as with a real model.

The output rows of control and byte tokens are zeroed: greedy decoding then picks readable "normal" tokens and never
ends on its own, so at temperature 0 a stream always runs to `max_tokens` and is the same on every run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gguf import GGUFWriter, TokenType

ARCH = "llama"
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

_SPECIAL = [("<unk>", TokenType.UNKNOWN), ("<s>", TokenType.CONTROL), ("</s>", TokenType.CONTROL),
            ("<|im_start|>", TokenType.CONTROL), ("<|im_end|>", TokenType.CONTROL)]
# Normal pieces: single characters and a few clinical words (SPM marks a leading space with U+2581).
_CHARS = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:;!?'\"-()/{}[]")
_WORDS = ["the", "patient", "pain", "chest", "blood", "pressure", "history", "plan", "note", "dose", "mg", "daily",
          "and", "of", "with", "no", "is", "a", "to", "in"]
IM_END_ID = 4


def _vocabulary() -> tuple[list[str], list[float], list[int]]:
    tokens: list[str] = []
    scores: list[float] = []
    types: list[int] = []
    for text, kind in _SPECIAL:
        tokens.append(text)
        scores.append(0.0)
        types.append(int(kind))
    for byte in range(256):
        tokens.append(f"<0x{byte:02X}>")
        scores.append(0.0)
        types.append(int(TokenType.BYTE))
    pieces = ["\u2581"] + _CHARS + ["\u2581" + c for c in _CHARS[:26]]
    for word in _WORDS:
        # Every prefix must exist for SentencePiece's pairwise merges to reach the whole word.
        pieces.extend("\u2581" + word[:n] for n in range(2, len(word) + 1))
    for piece in dict.fromkeys(pieces):  # ordered, unique
        tokens.append(piece)
        scores.append(-1.0 / len(piece))  # longer pieces win merges
        types.append(int(TokenType.NORMAL))
    return tokens, scores, types


def write_tiny_gguf(
    path: Path,
    *,
    seed: int = 0,
    n_layers: int = 2,
    n_embd: int = 64,
    n_ctx_train: int = 2048,
    chat_template: str | None = CHATML_TEMPLATE,
    ends_at_once: bool = False,
) -> Path:
    """Write the model to `path` and return it. Same arguments, same bytes. `chat_template=None` leaves it out;
    `ends_at_once` makes greedy decoding pick the end-of-turn token first (an empty answer, finish "stop")."""
    rng = np.random.default_rng(seed)
    tokens, scores, types = _vocabulary()
    n_vocab = len(tokens)
    n_head = 4
    n_ff = 2 * n_embd

    def weights(*shape: int, scale: float = 0.08) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    writer = GGUFWriter(str(path), ARCH)
    writer.add_name("tiny-random-llama")
    writer.add_context_length(n_ctx_train)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layers)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head)
    writer.add_rope_dimension_count(n_embd // n_head)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(n_vocab)
    writer.add_file_type(0)  # all F32
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(IM_END_ID)
    writer.add_add_bos_token(False)
    writer.add_add_eos_token(False)
    if chat_template is not None:
        writer.add_chat_template(chat_template)

    # numpy shapes are (rows, cols) = (out, in); GGUFWriter reverses them into ggml's order.
    token_embd = weights(n_vocab, n_embd, scale=1.0)
    output = weights(n_vocab, n_embd, scale=1.0)
    normal = np.array([t == int(TokenType.NORMAL) for t in types])
    output[~normal] = 0.0
    blocks = {
        layer: {
            "attn_q": weights(n_embd, n_embd), "attn_k": weights(n_embd, n_embd), "attn_v": weights(n_embd, n_embd),
            "attn_output": weights(n_embd, n_embd), "ffn_gate": weights(n_ff, n_embd), "ffn_up": weights(n_ff, n_embd),
            "ffn_down": weights(n_embd, n_ff),
        }
        for layer in range(n_layers)
    }
    if ends_at_once:
        # Hidden dimension 0 carries a constant +10 from every token embedding that no layer writes to, so after the
        # final RMS norm it is always clearly positive; only the end-of-turn row reads it, with a large weight.
        token_embd[:, 0] = 10.0
        for block in blocks.values():
            block["attn_output"][0, :] = 0.0
            block["ffn_down"][0, :] = 0.0
        output[:, 0] = 0.0
        output[IM_END_ID, 0] = 100.0
    writer.add_tensor("token_embd.weight", token_embd)
    writer.add_tensor("output_norm.weight", np.ones(n_embd, dtype=np.float32))
    writer.add_tensor("output.weight", output)
    for layer, block in blocks.items():
        prefix = f"blk.{layer}"
        writer.add_tensor(f"{prefix}.attn_norm.weight", np.ones(n_embd, dtype=np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            writer.add_tensor(f"{prefix}.{name}.weight", block[name])
        writer.add_tensor(f"{prefix}.ffn_norm.weight", np.ones(n_embd, dtype=np.float32))
        for name in ("ffn_gate", "ffn_up", "ffn_down"):
            writer.add_tensor(f"{prefix}.{name}.weight", block[name])

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def write_truncated_copy(source: Path, target: Path, keep_fraction: float = 0.6) -> Path:
    """A GGUF cut off part-way through its tensor data (an interrupted copy or download)."""
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * keep_fraction)])
    return target


def write_garbage_gguf(target: Path, size: int = 4096, seed: int = 1) -> Path:
    """A file with the GGUF magic and a version but random bytes after it (a corrupt file)."""
    rng = np.random.default_rng(seed)
    target.write_bytes(b"GGUF" + (3).to_bytes(4, "little") + rng.bytes(size))
    return target


def write_oversized_gguf(target: Path, *, n_layers: int = 80, n_embd: int = 8192, n_vocab: int = 32000) -> Path:
    """A header-only GGUF describing a ~300 GB F32 llama model (the weights are absent: the file is a few KB).

    The GPU fit planner reads only the header, so this is how a test meets "the model does not fit in memory"
    without a huge file or a huge machine.
    """
    n_ff = 28672
    writer = GGUFWriter(str(target), ARCH)
    writer.add_name("oversized-llama")
    writer.add_context_length(4096)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layers)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(64)
    writer.add_head_count_kv(8)
    writer.add_rope_dimension_count(128)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(n_vocab)
    writer.add_file_type(0)
    writer.add_tokenizer_model("llama")

    def info(name: str, *shape: int) -> None:
        count = int(np.prod(shape))
        writer.add_tensor_info(name, shape, np.dtype(np.float32), count * 4)

    info("token_embd.weight", n_vocab, n_embd)
    info("output_norm.weight", n_embd)
    info("output.weight", n_vocab, n_embd)
    kv = n_embd // 8
    for layer in range(n_layers):
        p = f"blk.{layer}"
        info(f"{p}.attn_norm.weight", n_embd)
        info(f"{p}.attn_q.weight", n_embd, n_embd)
        info(f"{p}.attn_k.weight", kv, n_embd)
        info(f"{p}.attn_v.weight", kv, n_embd)
        info(f"{p}.attn_output.weight", n_embd, n_embd)
        info(f"{p}.ffn_norm.weight", n_embd)
        info(f"{p}.ffn_gate.weight", n_ff, n_embd)
        info(f"{p}.ffn_up.weight", n_ff, n_embd)
        info(f"{p}.ffn_down.weight", n_embd, n_ff)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    writer.close()
    return target
