"""The row-split guard. This machine has a CPU build, so "row" and "layer" both run on the CPU here: the real run
checks the plumbing (child processes, greedy decoding, comparison) and that identical runs agree; injected
generators check the decisions on a mismatch and on a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.config import GpuSettings
from app.core.gpu.plan import FitPlan, plan_for_metadata
from app.core.gpu.probe import GpuProbe, build_probe
from app.core.gpu.split_check import (
    SplitWorkerError,
    check_row_split,
    compare,
    greedy_tokens,
    guard_row_split,
    subprocess_generator,
)
from tests.core.test_gpu_fixtures import cpu_build, llama70b_metadata, sources, two_w7900_rocminfo
from tests.core.test_gpu_parsers import P2P_KERNEL
from tests.support.tiny_gguf import write_tiny_gguf


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_gguf(tmp_path_factory.mktemp("split") / "tiny.gguf")


def cpu_probe() -> GpuProbe:
    return build_probe(sources(llama=cpu_build()))


def cpu_plan() -> FitPlan:
    return FitPlan(n_gpu_layers=0, n_ctx=256, tensor_split=[], split_mode="none", main_gpu=0, summary="CPU")


def two_gpu_row() -> tuple[GpuProbe, FitPlan]:
    # CONSTRUCTED two-W7900 machine with a P2P kernel, and the constructed 70B metadata.
    probe = build_probe(
        sources(rocminfo=two_w7900_rocminfo(), kernel_config=P2P_KERNEL, kernel_config_source="/boot/config-test")
    )
    plan = plan_for_metadata(llama70b_metadata(), GpuSettings(n_ctx=8192, split_mode="row"), probe)
    assert plan.split_mode == "row"
    return probe, plan


def test_compare() -> None:
    assert compare([1, 2, 3], [1, 2, 3]) is None
    assert compare([1, 2, 4], [1, 2, 3]) == 2
    assert compare([1, 2], [1, 2, 3]) == 2


def test_not_applicable_on_a_cpu_build(tiny: Path) -> None:
    def never(model: Path, plan: FitPlan, mode: str) -> list[int]:
        raise AssertionError("must not run")

    result = check_row_split(tiny, cpu_plan(), cpu_probe(), never)
    assert (result.status, result.split_mode) == ("not_applicable", "none")
    assert "CPU build" in result.message


@pytest.mark.integration
def test_both_modes_really_run_and_agree_on_the_cpu(tiny: Path) -> None:
    result = check_row_split(tiny, cpu_plan(), cpu_probe(), subprocess_generator(timeout_s=120), force=True)
    assert result.status == "match", result.message
    assert result.split_mode == "row"
    assert len(result.row_tokens) == 16 and result.row_tokens == result.layer_tokens


@pytest.mark.integration
def test_greedy_tokens_are_deterministic_in_process(tiny: Path) -> None:
    first = greedy_tokens(tiny, "layer", 0, 0, [], n_tokens=8)
    assert first == greedy_tokens(tiny, "row", 0, 0, [], n_tokens=8) and len(first) == 8


def test_mismatch_falls_back_to_layer_and_says_so(tiny: Path) -> None:
    def row_goes_wrong(model: Path, plan: FitPlan, mode: str) -> list[int]:
        return [5, 6, 7, 8] if mode == "layer" else [5, 6, 99, 100]

    result = check_row_split(tiny, cpu_plan(), cpu_probe(), row_goes_wrong, force=True)
    assert (result.status, result.split_mode, result.first_difference) == ("mismatch", "layer", 2)
    assert "from token 3 of 4" in result.message and "using layer split" in result.message


def test_row_crash_falls_back_to_layer(tiny: Path) -> None:
    def row_segfaults(model: Path, plan: FitPlan, mode: str) -> list[int]:
        if mode == "row":
            raise SplitWorkerError("row split crashed (signal 11)")
        return [1, 2, 3]

    result = check_row_split(tiny, cpu_plan(), cpu_probe(), row_segfaults, force=True)
    assert (result.status, result.split_mode) == ("failed", "layer")
    assert "signal 11" in result.message


def test_guard_replans_for_layer_split_and_caches_the_verdict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    probe, plan = two_gpu_row()
    model = tmp_path / "model.gguf"
    model.write_bytes(b"stand-in: the guard only stats this file; planning uses the constructed metadata")
    monkeypatch.setattr(
        "app.core.gpu.split_check.plan_for_model",
        lambda path, gpu, probe, n_ctx, split_mode: plan_for_metadata(
            llama70b_metadata(), gpu, probe, n_ctx, split_mode
        ),
    )
    calls: list[str] = []

    def row_goes_wrong(path: Path, checked: FitPlan, mode: str) -> list[int]:
        calls.append(mode)
        return [1, 2, 3] if mode == "layer" else [1, 9, 9]

    settings = GpuSettings(n_ctx=8192, split_mode="row")
    used, result = guard_row_split(model, plan, settings, probe, tmp_path / "cache", row_goes_wrong)
    assert result.status == "mismatch" and used.split_mode == "layer"
    assert used.warnings[-1] == result.message
    assert calls == ["layer", "row"]
    again, cached = guard_row_split(model, plan, settings, probe, tmp_path / "cache", row_goes_wrong)
    assert calls == ["layer", "row"]  # the verdict came from the cache
    assert cached.status == "mismatch" and again.split_mode == "layer"
    off, skipped = guard_row_split(model, plan, GpuSettings(split_mode="row", row_split_check=False), probe)
    assert off is plan and skipped.status == "not_applicable"
