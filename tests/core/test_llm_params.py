"""Settings -> Llama(...) keyword arguments, the GPU planner seam, the ROCm environment, llama.cpp's log."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from app.core.config import GpuSettings
from app.core.llm import llama_params, native
from app.core.llm.llama_params import OffloadPlan, llama_kwargs, plan_gpu_offload


class _CpuOnlyLlamaCpp:
    @staticmethod
    def llama_supports_gpu_offload() -> bool:
        return False


def _plan(gpu: GpuSettings, tmp_path: Path) -> OffloadPlan:
    return plan_gpu_offload(tmp_path / "m.gguf", gpu, _CpuOnlyLlamaCpp())


@pytest.mark.parametrize(("mode", "number"), [("none", 0), ("layer", 1), ("row", 2)])
def test_every_gpu_setting_reaches_the_kwargs_unchanged(mode: str, number: int, tmp_path: Path) -> None:
    gpu = GpuSettings(
        n_gpu_layers=17, split_mode=mode, main_gpu=1, tensor_split=[3.0, 1.0], flash_attn=True, offload_kqv=False,
        n_ctx=8192, n_batch=256, n_threads=3, use_mmap=False, use_mlock=True,
    )
    kwargs = llama_kwargs(tmp_path / "m.gguf", gpu, _plan(gpu, tmp_path))
    assert kwargs == {
        "model_path": str(tmp_path / "m.gguf"),
        "n_gpu_layers": 17,
        "split_mode": number,
        "main_gpu": 1,
        "tensor_split": [3.0, 1.0],
        "flash_attn": True,
        "offload_kqv": False,
        "n_ctx": 8192,
        "n_batch": 256,
        "n_threads": 3,
        "n_threads_batch": 3,
        "use_mmap": False,
        "use_mlock": True,
        "verbose": True,
    }


def test_split_mode_numbers_match_llama_cpp() -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    assert llama_params.SPLIT_MODES == {
        "none": llama_cpp.LLAMA_SPLIT_MODE_NONE,
        "layer": llama_cpp.LLAMA_SPLIT_MODE_LAYER,
        "row": llama_cpp.LLAMA_SPLIT_MODE_ROW,
    }


def test_all_layers_and_all_threads(tmp_path: Path) -> None:
    gpu = GpuSettings(n_gpu_layers="all", n_threads=0, tensor_split=[])
    kwargs = llama_kwargs(tmp_path / "m.gguf", gpu, _plan(gpu, tmp_path))
    assert kwargs["n_gpu_layers"] == -1
    assert kwargs["n_threads"] == kwargs["n_threads_batch"] == os.cpu_count()
    assert kwargs["tensor_split"] is None  # llama.cpp then splits by free VRAM


def test_auto_asks_the_planner_and_uses_its_plan(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import app.core.gpu.plan as gpu_plan

    asked: list[tuple[Path, GpuSettings]] = []

    def fake_plan(path: Path, gpu: GpuSettings) -> Any:
        asked.append((path, gpu))
        return SimpleNamespace(
            n_gpu_layers=20, n_ctx=2048, tensor_split=[0.6, 0.4], split_mode="row", main_gpu=1,
            summary="2 GPUs, row split", warnings=["context lowered"],
        )

    monkeypatch.setattr(gpu_plan, "plan_for_model", fake_plan)
    gpu = GpuSettings(n_gpu_layers="auto", n_ctx=4096)
    plan = plan_gpu_offload(tmp_path / "m.gguf", gpu, _CpuOnlyLlamaCpp())
    assert asked == [(tmp_path / "m.gguf", gpu)]
    assert plan == OffloadPlan(20, "row", (0.6, 0.4), 2048, 1, "2 GPUs, row split")
    kwargs = llama_kwargs(tmp_path / "m.gguf", gpu, plan)
    assert (kwargs["n_gpu_layers"], kwargs["split_mode"], kwargs["tensor_split"], kwargs["n_ctx"]) == (
        20, 2, [0.6, 0.4], 2048,
    )


def test_auto_on_this_cpu_only_build_plans_no_gpu_layers(models_dir: Path) -> None:
    pytest.importorskip("llama_cpp")
    from app.core.llm.native import import_llama_cpp

    llama_cpp = import_llama_cpp(GpuSettings())
    if llama_cpp.llama_supports_gpu_offload():
        pytest.skip("this llama.cpp build has GPU offload")
    plan = plan_gpu_offload(models_dir / "smollm2-135m-instruct.gguf", GpuSettings(n_gpu_layers="auto"), llama_cpp)
    assert plan.n_gpu_layers == 0
    assert "CPU" in plan.reason


def test_split_mode_from_planner_in_any_form() -> None:
    from enum import Enum

    class Mode(Enum):
        ROW = "row"

    assert llama_params._split_mode_name(Mode.ROW) == "row"
    assert llama_params._split_mode_name(2) == "row"
    assert llama_params._split_mode_name("LAYER") == "layer"
    with pytest.raises(ValueError):
        llama_params._split_mode_name("diagonal")


def test_rocm_environment_is_exported(monkeypatch: pytest.MonkeyPatch) -> None:
    # setenv first: a delenv of an unset variable records nothing, so what the code under test exports would leak
    # into later tests (the GPU probe honours HIP_VISIBLE_DEVICES).
    for name in ("HIP_VISIBLE_DEVICES", "HSA_OVERRIDE_GFX_VERSION"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    applied = native.apply_rocm_environment(GpuSettings(hip_visible_devices="0, 1", hsa_override_gfx_version="11.0.0"))
    assert applied == {"HIP_VISIBLE_DEVICES": "0,1", "HSA_OVERRIDE_GFX_VERSION": "11.0.0"}
    assert os.environ["HIP_VISIBLE_DEVICES"] == "0,1"
    assert os.environ["HSA_OVERRIDE_GFX_VERSION"] == "11.0.0"


def test_empty_rocm_settings_leave_the_environment_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIP_VISIBLE_DEVICES", "1")
    assert native.apply_rocm_environment(GpuSettings()) == {}
    assert os.environ["HIP_VISIBLE_DEVICES"] == "1"


def test_load_failure_reason_is_llama_cpps_own_words() -> None:
    native.clear_recent()
    native._on_native_log(2, b"llama_model_loader: loaded meta data\n", None)
    native._on_native_log(
        4, b"llama_model_load: error loading model: tensor 'blk.0.ffn_up.weight' data is not within the file bounds\n",
        None,
    )
    native._on_native_log(4, b"llama_model_load_from_file_impl: failed to load model\n", None)
    assert native.load_failure_reason() == "tensor 'blk.0.ffn_up.weight' data is not within the file bounds"
    native.clear_recent()
    assert native.load_failure_reason() == ""
