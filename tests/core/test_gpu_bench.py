"""The built-in llama-bench: which split modes are measured where, and a real quick run on the CPU build."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.config import GpuSettings
from app.core.errors import Cancelled, CancelToken
from app.core.gpu.bench import BenchReport, BenchRow, bench_modes, run_bench
from app.core.gpu.probe import build_probe
from tests.core.test_gpu_fixtures import W7900_ROCMINFO, cpu_build, read, sources, two_w7900_rocminfo
from tests.core.test_gpu_parsers import P2P_KERNEL
from tests.support.tiny_gguf import write_tiny_gguf


def test_modes_per_machine() -> None:
    assert bench_modes(build_probe(sources(llama=cpu_build()))) == [("none", "")]
    assert bench_modes(build_probe(sources(rocminfo=read(W7900_ROCMINFO)))) == [("none", "")]
    # CONSTRUCTED two-W7900 machine; without a kernel config P2P is unknown, so row split is not benchmarked.
    two = bench_modes(build_probe(sources(rocminfo=two_w7900_rocminfo())))
    assert two == [("none", ""), ("layer", ""), ("row", "PCIe peer-to-peer is unknown")]
    capable = build_probe(sources(rocminfo=two_w7900_rocminfo(), kernel_config=P2P_KERNEL, kernel_config_source="x"))
    assert bench_modes(capable)[2] == ("row", "")


def test_table_looks_like_llama_bench() -> None:
    report = BenchReport("m.gguf", "70B Q4_K_M", 39.59, "HIP", ["AMD Radeon Pro W7900"], 3, fastest="none")
    # The recorded W7900 figures (w7900_llama-bench_llama31-70b-q4km_fa1.txt), as a row of this table.
    report.rows.append(
        BenchRow(
            "none",
            "ok",
            n_gpu_layers=81,
            pp_tokens=512,
            tg_tokens=128,
            pp_tps=297.53,
            pp_sd=0.11,
            tg_tps=11.35,
            tg_sd=0.05,
        )
    )
    report.rows.append(BenchRow("row", "skipped", "PCIe peer-to-peer is no"))
    lines = report.table().splitlines()
    assert lines[2] == "| 70B Q4_K_M | 39.59 GiB | HIP | none | 81 | pp512 | 297.53 ± 0.11 |"
    assert lines[3] == "| 70B Q4_K_M | 39.59 GiB | HIP | none | 81 | tg128 | 11.35 ± 0.05 |"
    assert "skipped: PCIe peer-to-peer is no" in lines[4]


@pytest.mark.integration
def test_quick_bench_on_the_cpu_build(tmp_path: Path) -> None:
    model = write_tiny_gguf(tmp_path / "tiny.gguf")
    report = run_bench(model, GpuSettings(), quick=True)
    (row,) = report.rows
    assert (row.split_mode, row.status, row.n_gpu_layers, row.pp_tokens, row.tg_tokens) == ("none", "ok", 0, 64, 16)
    assert row.pp_tps > 0 and row.tg_tps > 0 and row.load_s > 0
    assert report.backend == "CPU" and report.fastest == "none" and report.devices == []


class CancelAfter(CancelToken):
    """Cancels itself at the n-th check: in the middle of the measured token loop."""

    def __init__(self, checks: int) -> None:
        super().__init__()
        self.left = checks

    def raise_if_cancelled(self) -> None:
        self.left -= 1
        if self.left <= 0:
            self.cancel()
        super().raise_if_cancelled()


@pytest.mark.integration
def test_bench_stops_between_tokens_when_cancelled(tmp_path: Path) -> None:
    model = write_tiny_gguf(tmp_path / "tiny.gguf")
    cancel = CancelAfter(checks=6)  # 1 before the mode, 1 per repetition, then one per generated token
    with pytest.raises(Cancelled):
        run_bench(model, GpuSettings(), quick=True, cancel=cancel)
    assert cancel.left == 0


@pytest.mark.integration
def test_two_gpu_modes_and_the_row_guard(tmp_path: Path) -> None:
    # CONSTRUCTED two-W7900 probe with a P2P kernel. This CPU build has no GPU, so llama.cpp ignores the GPU
    # parameters and every mode really runs on the CPU: this checks which modes are run and that row split is only
    # timed after the guard passed, not GPU speed.
    model = write_tiny_gguf(tmp_path / "tiny.gguf")
    probe = build_probe(sources(rocminfo=two_w7900_rocminfo(), kernel_config=P2P_KERNEL, kernel_config_source="x"))

    def row_differs(path: Path, plan: object, mode: str) -> list[int]:
        return [1, 2, 3] if mode == "layer" else [1, 2, 4]

    report = run_bench(model, GpuSettings(), probe=probe, quick=True, row_check=row_differs)
    assert [(r.split_mode, r.status) for r in report.rows] == [("none", "ok"), ("layer", "ok"), ("row", "skipped")]
    assert "row split produced different text" in report.rows[2].note
    assert report.rows[1].n_gpu_layers == 3 and report.devices == ["AMD Radeon Pro W7900"] * 2

    def row_agrees(path: Path, plan: object, mode: str) -> list[int]:
        return [1, 2, 3]

    report = run_bench(model, GpuSettings(), probe=probe, quick=True, row_check=row_agrees)
    assert [(r.split_mode, r.status) for r in report.rows] == [("none", "ok"), ("layer", "ok"), ("row", "ok")]
    assert report.fastest in ("none", "layer", "row")
