"""Memory a llama.cpp model takes on each device for a given layer count, context and split.

Layer placement mirrors llama.cpp's `llama_model::load_tensors` in the vendored version (0.3.36): there are
n_layers + 1 slots (the blocks, then the output head); `n_gpu_layers = k` puts the LAST k slots on the GPUs, so the
output head goes to a GPU as soon as k ≥ 1; slot i goes to the first device whose cumulative tensor-split share
exceeds (i - first_gpu_slot) / k (std::upper_bound over float32 split points). The token embedding stays on the CPU.

The compute-buffer estimate is the attention-score matrix (n_ctx × n_ubatch × n_head × 4 bytes without flash
attention), activations, and the logits on the device holding the output head. Checked against a recorded load:
Mixtral-8x7B at n_ctx 16000 on 2×7900 XTX logged a 1083 MiB ROCm0 compute buffer; this estimate gives 1116 MiB.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.core.gpu.gguf_info import ModelMetadata

F32 = 4


def n_ubatch_for(n_batch: int) -> int:
    """llama-cpp-python passes n_ubatch = min(n_batch, 512)."""
    return min(n_batch, 512)


def compute_buffer_bytes(meta: ModelMetadata, n_ctx: int, n_ubatch: int, flash_attn: bool, holds_output: bool) -> int:
    scores = n_ctx * n_ubatch * (F32 if flash_attn else meta.n_head * F32)
    activations = n_ubatch * (4 * meta.n_embd + 3 * meta.n_ff) * F32
    logits = meta.n_vocab * n_ubatch * F32 if holds_output else 0
    return scores + activations + logits


def assign_slots(n_gpu_layers: int, n_layers: int, shares: Sequence[float]) -> list[int | None]:
    """Device position (into `shares`) of each slot 0..n_layers, or None for the CPU."""
    slots = n_layers + 1
    start = max(slots - n_gpu_layers, 0)
    active = min(max(n_gpu_layers, 0), slots)
    total = float(sum(shares))
    if active == 0 or total <= 0:
        return [None] * slots
    split_points = np.cumsum(np.asarray(shares, dtype=np.float32)) / np.float32(total)
    placement: list[int | None] = []
    for slot in range(slots):
        if slot < start or slot - start >= active:
            placement.append(None)
        else:
            position = np.float32(slot - start) / np.float32(active)
            placement.append(int(np.searchsorted(split_points, position, side="right")))
    return placement


@dataclass
class Footprint:
    device_bytes: list[int]  # per device position: weights + KV + compute
    device_layers: list[int]  # slots per device position (the output head counts as one)
    device_holds_output: list[bool]
    cpu_bytes: int  # RAM: CPU weights + CPU KV + CPU compute
    kv_bytes: int  # whole KV cache, wherever it is
    compute_bytes: int  # all compute buffers on GPUs
    gpu_slots: int


def footprint(
    meta: ModelMetadata,
    placement: Sequence[int | None],
    n_devices: int,
    n_ctx: int,
    n_ubatch: int,
    flash_attn: bool = False,
    offload_kqv: bool = True,
) -> Footprint:
    device_bytes = [0] * n_devices
    device_layers = [0] * n_devices
    holds_output = [False] * n_devices
    cpu = meta.token_embd_bytes
    kv_total = 0
    for slot, device in enumerate(placement):
        if slot < meta.n_layers:
            weights = meta.layer_bytes[slot]
            kv = meta.kv_bytes_per_token_layer(slot) * n_ctx
        else:
            weights = meta.output_bytes + meta.other_bytes
            kv = 0
        kv_total += kv
        if device is None:
            # On the CPU a tied output head is the token embedding itself, not a copy.
            cpu += weights - (meta.tied_output_bytes if slot == meta.n_layers else 0) + kv
            continue
        device_bytes[device] += weights + (kv if offload_kqv else 0)
        cpu += 0 if offload_kqv else kv
        device_layers[device] += 1
        if slot == meta.n_layers:
            holds_output[device] = True
    compute_total = 0
    for device in range(n_devices):
        if device_layers[device]:
            buffer = compute_buffer_bytes(meta, n_ctx, n_ubatch, flash_attn, holds_output[device])
            device_bytes[device] += buffer
            compute_total += buffer
    cpu_slots = sum(1 for device in placement if device is None)
    if cpu_slots:
        cpu += compute_buffer_bytes(meta, n_ctx, n_ubatch, flash_attn, placement[-1] is None)
    else:
        cpu += n_ubatch * meta.n_embd * F32 * 4  # embedding lookup and graph inputs
    return Footprint(
        device_bytes=device_bytes,
        device_layers=device_layers,
        device_holds_output=holds_output,
        cpu_bytes=cpu,
        kv_bytes=kv_total,
        compute_bytes=compute_total,
        gpu_slots=len(placement) - cpu_slots,
    )


def row_footprint(
    meta: ModelMetadata, shares: Sequence[float], main: int, n_ctx: int, n_ubatch: int, flash_attn: bool
) -> Footprint:
    """Row split, everything offloaded: each layer's matrices are cut across the devices by `shares`; the KV cache,
    norms and compute buffer live on the main GPU. An estimate: norms are counted with the matrices."""
    total_share = float(sum(shares))
    weights = sum(meta.layer_bytes) + meta.output_bytes + meta.other_bytes
    device_bytes = [int(weights * share / total_share) for share in shares]
    kv = meta.kv_bytes_per_token() * n_ctx
    compute = compute_buffer_bytes(meta, n_ctx, n_ubatch, flash_attn, holds_output=True)
    device_bytes[main] += kv + compute
    layers = [meta.n_layers + 1 if share > 0 else 0 for share in shares]
    return Footprint(
        device_bytes=device_bytes,
        device_layers=layers,
        device_holds_output=[share > 0 for share in shares],
        cpu_bytes=meta.token_embd_bytes + n_ubatch * meta.n_embd * F32 * 4,
        kv_bytes=kv,
        compute_bytes=compute,
        gpu_slots=meta.n_layers + 1,
    )
