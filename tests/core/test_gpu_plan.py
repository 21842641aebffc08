"""The fit planner on recorded probes (1 W7900, 780M, CPU-only) and constructed ones (2 W7900s), with a synthetic
Llama-3-70B (see test_gpu_fixtures: CONSTRUCTED metadata, no 40 GB file) and the real SmolLM2/Qwen files."""

from __future__ import annotations

from pathlib import Path

import pytest
from gguf import GGMLQuantizationType

from app.core.config import GpuSettings
from app.core.errors import GpuError
from app.core.gpu.footprint import assign_slots, compute_buffer_bytes
from app.core.gpu.gguf_info import ModelMetadata, read_model_metadata
from app.core.gpu.llama_build import LlamaBuild
from app.core.gpu.llamacpp_log import parse_device_lines
from app.core.gpu.plan import plan_for_metadata, plan_for_model
from app.core.gpu.probe import GpuProbe, build_probe
from tests.core.test_gpu_fixtures import (
    GIB,
    W7900_ROCMINFO,
    cpu_build,
    llama70b_metadata,
    read,
    sources,
    two_w7900_rocminfo,
    write_header_only_gguf,
)
from tests.core.test_gpu_parsers import P2P_KERNEL

Q8 = GGMLQuantizationType.Q8_0
Q4K = GGMLQuantizationType.Q4_K


def one_w7900(ram_mib: int = 120000) -> GpuProbe:
    return build_probe(sources(rocminfo=read(W7900_ROCMINFO), ram_available_mib=ram_mib))


def two_w7900(p2p: bool = False) -> GpuProbe:
    """CONSTRUCTED two-W7900 machine (see two_w7900_rocminfo); with `p2p` a constructed P2P-capable kernel config."""
    extra = {"kernel_config": P2P_KERNEL, "kernel_config_source": "/boot/config-test"} if p2p else {}
    return build_probe(sources(rocminfo=two_w7900_rocminfo(), **extra))


def test_70b_q8_on_two_w7900_is_a_layer_split_with_everything_on_gpu() -> None:
    plan = plan_for_metadata(llama70b_metadata(Q8), GpuSettings(n_ctx=8192), two_w7900())
    assert plan.split_mode == "layer"
    assert plan.n_gpu_layers == 81 and plan.n_ctx == 8192
    assert plan.tensor_split == [0.5, 0.5]  # equal free VRAM, equal shares
    assert [d.layers for d in plan.devices] == [41, 40] and plan.devices[1].holds_output
    assert plan.summary.startswith(
        "70B Q8_0, 69.8 GiB: 2× AMD Radeon Pro W7900 (45.0 GiB free each), layer split, "
        "all 81 layers on GPU, ctx 8192, "
    )
    assert 14 * 1024 < plan.headroom_mib < 18 * 1024
    assert plan.kv_mib == 2560  # 80 layers × 2 × 8 heads × 128 × 2 bytes × 8192 tokens
    assert all(d.planned_mib <= d.free_mib - 1024 for d in plan.devices)  # the per-GPU margin is kept
    assert plan.warnings == []
    assert plan.llama_kwargs() == {
        "n_gpu_layers": 81,
        "n_ctx": 8192,
        "split_mode": 1,
        "main_gpu": 0,
        "tensor_split": [0.5, 0.5],
    }


def test_70b_q8_on_one_w7900_offloads_what_fits_and_checks_the_ram() -> None:
    plan = plan_for_metadata(llama70b_metadata(Q8), GpuSettings(n_ctx=8192), one_w7900())
    assert plan.split_mode == "none" and 40 <= plan.n_gpu_layers < 81
    assert plan.devices[0].planned_mib <= 46064 - 1024
    assert f"{plan.n_gpu_layers} of 81 layers on GPU" in plan.summary
    assert any("generation will be slower" in w for w in plan.warnings)
    assert plan.ram_mib > 25 * 1024  # the CPU half of a 70 GiB model
    with pytest.raises(GpuError) as refused:
        plan_for_metadata(llama70b_metadata(Q8), GpuSettings(n_ctx=8192), one_w7900(ram_mib=16 * 1024))
    assert "cannot load" in refused.value.message and "RAM" in refused.value.message
    assert "smaller model" in refused.value.hint


def test_70b_q4_k_m_fits_one_w7900_at_8k_and_the_context_shrinks_to_keep_it_there() -> None:
    meta = llama70b_metadata(Q4K)
    assert 37 < meta.total_bytes / GIB < 38
    at_8k = plan_for_metadata(meta, GpuSettings(n_ctx=8192), one_w7900())
    assert (at_8k.split_mode, at_8k.n_gpu_layers, at_8k.n_ctx) == ("none", 81, 8192)
    from_settings = plan_for_metadata(meta, GpuSettings(n_ctx=16384), one_w7900())
    assert (from_settings.n_gpu_layers, from_settings.n_ctx) == (81, 8192)
    assert "context reduced from 16384 to 8192" in from_settings.warnings[0]
    asked = plan_for_metadata(meta, GpuSettings(), one_w7900(), n_ctx=16384)  # --ctx is not shrunk
    assert asked.n_ctx == 16384 and asked.n_gpu_layers < 81


def test_a_model_that_fits_one_of_two_gpus_uses_one() -> None:
    plan = plan_for_metadata(llama70b_metadata(Q4K), GpuSettings(n_ctx=8192), two_w7900())
    assert plan.split_mode == "none" and plan.tensor_split == [] and len(plan.devices) == 1
    forced = plan_for_metadata(llama70b_metadata(Q4K), GpuSettings(n_ctx=8192), two_w7900(), allow_single=False)
    assert forced.split_mode == "layer" and forced.tensor_split == [0.5, 0.5]


def test_row_split_only_with_p2p() -> None:
    settings = GpuSettings(n_ctx=8192, split_mode="row")
    no_p2p = plan_for_metadata(llama70b_metadata(Q8), settings, two_w7900())
    assert no_p2p.split_mode == "layer"
    assert any("peer-to-peer is unknown" in w for w in no_p2p.warnings)
    with_p2p = plan_for_metadata(llama70b_metadata(Q8), settings, two_w7900(p2p=True))
    assert with_p2p.split_mode == "row" and with_p2p.n_gpu_layers == 81
    assert with_p2p.tensor_split == [0.5, 0.5] and with_p2p.main_gpu == 0
    # The KV cache and compute buffer sit on the main GPU in row mode.
    assert with_p2p.devices[0].planned_mib > with_p2p.devices[1].planned_mib


def test_explicit_layer_counts_are_checked_not_trusted() -> None:
    meta = llama70b_metadata(Q8)
    ok = plan_for_metadata(meta, GpuSettings(n_ctx=8192, n_gpu_layers=30), one_w7900())
    assert ok.n_gpu_layers == 30
    with pytest.raises(GpuError) as too_many:
        plan_for_metadata(meta, GpuSettings(n_ctx=8192, n_gpu_layers="all"), one_w7900())
    assert "81 layers" in too_many.value.message and "'auto'" in too_many.value.hint
    cpu = plan_for_metadata(meta, GpuSettings(n_ctx=8192, n_gpu_layers=0), two_w7900())
    assert cpu.n_gpu_layers == 0 and "gpu.n_gpu_layers is 0" in cpu.summary


def test_user_tensor_split_is_used_as_given() -> None:
    plan = plan_for_metadata(llama70b_metadata(Q8), GpuSettings(n_ctx=4096, tensor_split=[3, 2]), two_w7900())
    assert plan.split_mode == "layer" and plan.tensor_split == [0.6, 0.4]
    assert [d.layers for d in plan.devices] == [49, 32]


def test_igpu_gets_no_share_of_the_split() -> None:
    # Recorded: two 7900 XTX and an iGPU (rocminfo grep form has no pool sizes, so the recorded amd-smi memory of
    # a 2×7900 XTX machine is added as HIP's view: CONSTRUCTED pairing of two recordings).
    hip = [*parse_device_lines(read("7900xtx_x2_llamacpp_version_found2_rocm.txt"))]
    for device in hip:
        device.total_bytes, device.free_bytes = 24560 * 2**20, 24000 * 2**20
    igpu = parse_device_lines("  Device 2: AMD Radeon Graphics, gfx1100 (0x1100), VMM: no, Wave Size: 32")[0]
    igpu.total_bytes, igpu.free_bytes = 2048 * 2**20, 1500 * 2**20
    probe = build_probe(
        sources(
            rocminfo=read("7900xtx_x2_plus_igpu_rocminfo_grep_names_rocm7.2.txt"),
            llama=LlamaBuild(True, True, ["ROCm"], [*hip, igpu]),
        )
    )
    plan = plan_for_metadata(llama70b_metadata(Q4K), GpuSettings(n_ctx=4096), probe)
    assert plan.split_mode == "layer" and len(plan.tensor_split) == 3 and plan.tensor_split[2] == 0.0
    assert [d.index for d in plan.devices] == [0, 1]


def test_780m_plan_uses_the_igpu_when_it_is_the_only_gpu() -> None:
    hip = parse_device_lines(read("780m_llamacpp_windows_found1_rocm_device_partial.txt"))
    hip[0].total_bytes = 60000 * 2**20  # CONSTRUCTED total: the recording gives only "59175 MiB free"
    probe = build_probe(
        sources(
            rocm_smi=read("780m_rocm-smi_showallinfo_json_partial.txt"), llama=LlamaBuild(True, True, ["ROCm"], hip)
        )
    )
    plan = plan_for_metadata(llama70b_metadata(Q4K), GpuSettings(n_ctx=4096), probe)
    assert plan.split_mode == "none" and plan.n_gpu_layers == 81
    assert plan.summary.split(": ")[1].startswith("AMD Radeon 780M Graphics (57.8 GiB free)")


def test_cpu_build_plans_zero_layers_and_checks_ram(models_dir: Path) -> None:
    probe = build_probe(
        sources(rocminfo=read("no_gpu_agent_rocminfo_cpu_only_rocm6.2.txt"), llama=cpu_build(), ram_available_mib=11840)
    )  # the recorded machine: 12,124,424 KB of RAM
    meta = llama70b_metadata(Q4K)
    with pytest.raises(GpuError) as refused:
        plan_for_metadata(meta, GpuSettings(), probe)
    assert "RAM" in refused.value.message
    smol = read_model_metadata(models_dir / "smollm2-135m-instruct.gguf")
    plan = plan_for_metadata(smol, GpuSettings(), probe)
    assert (plan.n_gpu_layers, plan.split_mode, plan.tensor_split) == (0, "none", [])
    assert "CPU only (this llama.cpp build has no GPU offload)" in plan.summary


def test_context_is_capped_at_the_training_context(models_dir: Path) -> None:
    smol = read_model_metadata(models_dir / "smollm2-135m-instruct.gguf")
    plan = plan_for_metadata(smol, GpuSettings(), one_w7900(), n_ctx=32768)
    assert plan.n_ctx == 8192 and "trained for" in plan.warnings[0]


def test_real_qwen_on_recorded_w7900(models_dir: Path) -> None:
    plan = plan_for_model(models_dir / "qwen2.5-1.5b-instruct.gguf", GpuSettings(), one_w7900())
    assert (plan.split_mode, plan.n_gpu_layers, plan.n_ctx, plan.main_gpu) == ("none", 29, 4096, 0)
    assert plan.summary.startswith("1.5B Q4_K_M, 1.0 GiB: AMD Radeon Pro W7900 (45.0 GiB free), one GPU, all 29")


def test_header_only_70b_file_through_plan_for_model(tmp_path: Path) -> None:
    path = write_header_only_gguf(tmp_path / "llama70b-q8_0.gguf")
    plan = plan_for_model(path, GpuSettings(n_ctx=8192), two_w7900())
    direct = plan_for_metadata(llama70b_metadata(Q8), GpuSettings(n_ctx=8192), two_w7900())
    assert (plan.n_gpu_layers, plan.tensor_split, plan.headroom_mib) == (
        direct.n_gpu_layers,
        direct.tensor_split,
        direct.headroom_mib,
    )


def test_slot_placement_mirrors_llama_cpp() -> None:
    # 3 blocks + output, everything offloaded, split 1:1 → slots 0,1 on device 0; 2 and the output on device 1.
    assert assign_slots(4, 3, [1.0, 1.0]) == [0, 0, 1, 1]
    # Partial offload takes the LAST slots, so the output head is on the GPU as soon as one layer is.
    assert assign_slots(1, 3, [1.0]) == [None, None, None, 0]
    assert assign_slots(2, 3, [1.0, 1.0]) == [None, None, 0, 1]
    assert assign_slots(0, 3, [1.0]) == [None] * 4
    # A zero share (the iGPU) gets nothing.
    assert 1 not in assign_slots(4, 3, [1.0, 0.0, 1.0])


def test_compute_buffer_estimate_against_a_recorded_rocm_load() -> None:
    # Recorded (7900xtx_x2_llamacpp_load_log): a 32-layer, 4096-embd, 32-head model (KV 2000 MiB at n_ctx 16000,
    # i.e. 8 KV heads of 128) logged "ROCm0 compute buffer size = 1083.28 MiB" with n_ubatch 512.
    mixtral_like = ModelMetadata(
        name="recorded",
        architecture="llama",
        file_type="",
        n_layers=32,
        n_ctx_train=32768,
        n_embd=4096,
        n_head=32,
        n_head_kv=(8,) * 32,
        head_dim_k=128,
        head_dim_v=128,
        n_ff=14336,
        n_vocab=32002,
        layer_bytes=(1,) * 32,
        output_bytes=1,
        token_embd_bytes=1,
    )
    assert mixtral_like.kv_bytes_per_token() * 16000 == 2000 * 2**20
    estimate = compute_buffer_bytes(mixtral_like, 16000, 512, flash_attn=False, holds_output=False) / 2**20
    assert 1083.28 <= estimate <= 1083.28 * 1.1  # conservative, within 10%
