"""A built-in llama-bench: prompt processing (pp512) and generation (tg128) speed for each split mode this machine
offers, so a clinic can pick the fastest setting that is also sane.

Measured like llama-bench: pp = N prompt tokens evaluated in one batch from an empty context; tg = N tokens decoded
one at a time from an empty context (no sampling), each after a warm-up, repeated and reported as mean ± sd in
tokens/s. Modes: "none" always (one GPU, or the CPU on a CPU build); with two or more GPUs also "layer", and "row"
only when PCIe P2P is known to work and the row-split guard agrees with layer split. The fastest is the one with the
best generation speed (what a doctor waits for), prompt speed breaking ties. `quick=True` runs pp64/tg16 once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.config import GpuSettings
from app.core.errors import AppError, CancelToken, EngineUnavailable, GpuError
from app.core.gpu.gguf_info import ModelMetadata, read_model_metadata
from app.core.gpu.llama_build import capture_llama_log
from app.core.gpu.llamacpp_log import explain_failure
from app.core.gpu.plan import FitPlan, SplitMode, plan_for_metadata
from app.core.gpu.probe import GpuProbe, probe_gpus
from app.core.gpu.split_check import TokenGenerator, check_row_split

FULL = (512, 128, 3)  # pp tokens, tg tokens, repetitions
QUICK = (64, 16, 1)


@dataclass
class BenchRow:
    split_mode: str
    status: str  # "ok", "skipped", "failed"
    note: str = ""
    n_gpu_layers: int = 0
    pp_tokens: int = 0
    tg_tokens: int = 0
    pp_tps: float = 0.0
    pp_sd: float = 0.0
    tg_tps: float = 0.0
    tg_sd: float = 0.0
    load_s: float = 0.0


@dataclass
class BenchReport:
    model: str
    model_label: str
    size_gib: float
    backend: str
    devices: list[str]
    repetitions: int
    rows: list[BenchRow] = field(default_factory=list)
    fastest: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def table(self) -> str:
        """llama-bench's table layout."""
        lines = [
            "| model | size | backend | split | ngl | test | t/s |",
            "| --- | ---: | --- | --- | --: | ---: | ---: |",
        ]
        for row in self.rows:
            if row.status != "ok":
                lines.append(
                    f"| {self.model_label} | {self.size_gib:.2f} GiB | {self.backend} | {row.split_mode} | "
                    f"- | - | {row.status}: {row.note} |"
                )
                continue
            for test, tps, sd in (
                (f"pp{row.pp_tokens}", row.pp_tps, row.pp_sd),
                (f"tg{row.tg_tokens}", row.tg_tps, row.tg_sd),
            ):
                lines.append(
                    f"| {self.model_label} | {self.size_gib:.2f} GiB | {self.backend} | {row.split_mode} | "
                    f"{row.n_gpu_layers} | {test} | {tps:.2f} ± {sd:.2f} |"
                )
        if self.fastest:
            lines.append(f"\nfastest: {self.fastest}")
        return "\n".join(lines)


def bench_modes(probe: GpuProbe) -> list[tuple[SplitMode, str]]:
    """[(mode, reason to skip or "")] for this machine."""
    gpus = probe.plan_devices() if probe.gpu_offload else []
    if len(gpus) < 2:
        return [("none", "")]
    row_skip = "" if probe.p2p.state == "yes" else f"PCIe peer-to-peer is {probe.p2p.state}"
    return [("none", ""), ("layer", ""), ("row", row_skip)]


def _tokens(meta: ModelMetadata, count: int, seed: int) -> list[int]:
    # Ordinary vocabulary ids (skipping the first 100, where control tokens usually sit), same on every run.
    rng = random.Random(seed)
    high = max(meta.n_vocab - 1, 200)
    return [rng.randrange(100, high) for _ in range(count)]


def _import_llama_cpp() -> Any:
    try:
        import llama_cpp
    except (ImportError, OSError) as exc:
        raise EngineUnavailable(
            f"llama.cpp cannot be loaded ({type(exc).__name__})", "Install llama-cpp-python (see docs/gpu.md)"
        ) from None
    return llama_cpp


def _load(llama_cpp: Any, lines: list[str], model_path: Path, plan: FitPlan, gpu: GpuSettings, n_batch: int) -> Any:
    threads = gpu.n_threads or None
    # verbose=True keeps llama-cpp-python from redirecting file descriptors 1/2 process-wide; its Python-side
    # prints are swallowed here, and llama.cpp's own log (captured by the caller) explains a failure.
    with contextlib.redirect_stderr(io.StringIO()):
        try:
            return llama_cpp.Llama(
                model_path=str(model_path),
                n_batch=n_batch,
                n_threads=threads,
                n_threads_batch=threads,
                flash_attn=gpu.flash_attn,
                offload_kqv=gpu.offload_kqv,
                use_mmap=gpu.use_mmap,
                verbose=True,
                **plan.llama_kwargs(),
            )
        except (ValueError, RuntimeError, OSError) as exc:
            advice = explain_failure("".join(lines))
            raise GpuError(
                f"llama.cpp could not load the model with {plan.split_mode} split ({type(exc).__name__})",
                advice or "Run 'clinic-assistant gpu plan MODEL' and check the free VRAM",
            ) from None


def _measure(
    llm: Any, prompt: list[int], generation: list[int], repetitions: int, cancel: CancelToken
) -> tuple[list[float], list[float]]:
    # Warm-up: first use compiles/uploads kernels and touches the weights.
    llm.reset()
    llm.eval(prompt[: min(16, len(prompt))])
    llm.reset()
    llm.eval(generation[:1])
    pp_rates, tg_rates = [], []
    for _ in range(repetitions):
        cancel.raise_if_cancelled()
        llm.reset()
        started = time.perf_counter()
        llm.eval(prompt)
        pp_rates.append(len(prompt) / (time.perf_counter() - started))
        llm.reset()
        started = time.perf_counter()
        for token in generation:
            cancel.raise_if_cancelled()
            llm.eval([token])
        tg_rates.append(len(generation) / (time.perf_counter() - started))
    return pp_rates, tg_rates


def _bench_mode(
    model_path: Path,
    meta: ModelMetadata,
    gpu: GpuSettings,
    probe: GpuProbe,
    mode: SplitMode,
    sizes: tuple[int, int, int],
    cancel: CancelToken,
) -> BenchRow:
    pp, tg, repetitions = sizes
    n_ctx = max(512, pp + tg + 64)
    try:
        plan = plan_for_metadata(meta, gpu, probe, n_ctx=n_ctx, split_mode=mode, allow_single=mode == "none")
    except AppError as exc:
        return BenchRow(mode, "skipped", exc.one_line())
    if mode != "none" and plan.split_mode != mode:
        return BenchRow(mode, "skipped", f"the planner chose {plan.split_mode} split")
    llama_cpp = _import_llama_cpp()
    with capture_llama_log(llama_cpp) as lines:
        started = time.perf_counter()
        llm = _load(llama_cpp, lines, model_path, plan, gpu, n_batch=max(pp, 32))
        load_s = time.perf_counter() - started
        try:
            pp_rates, tg_rates = _measure(llm, _tokens(meta, pp, 1), _tokens(meta, tg, 2), repetitions, cancel)
        finally:
            llm.close()

    def spread(rates: list[float]) -> float:
        return statistics.stdev(rates) if len(rates) > 1 else 0.0

    return BenchRow(
        split_mode=mode,
        status="ok",
        note="; ".join(plan.warnings),
        n_gpu_layers=plan.n_gpu_layers,
        pp_tokens=pp,
        tg_tokens=tg,
        pp_tps=round(statistics.fmean(pp_rates), 2),
        pp_sd=round(spread(pp_rates), 2),
        tg_tps=round(statistics.fmean(tg_rates), 2),
        tg_sd=round(spread(tg_rates), 2),
        load_s=round(load_s, 3),
    )


def run_bench(
    model_path: Path,
    gpu: GpuSettings,
    probe: GpuProbe | None = None,
    quick: bool = False,
    cancel: CancelToken | None = None,
    progress: Callable[[str], None] | None = None,
    row_check: TokenGenerator | None = None,
) -> BenchReport:
    probe = probe or probe_gpus(gpu)
    cancel = cancel or CancelToken()
    meta = read_model_metadata(model_path)
    sizes = QUICK if quick else FULL
    report = BenchReport(
        model=model_path.name,
        model_label=meta.label or meta.name,
        size_gib=round(meta.total_bytes / 2**30, 2),
        backend=probe.build,
        devices=[d.name for d in probe.plan_devices()] if probe.gpu_offload else [],
        repetitions=sizes[2],
    )
    for mode, skip in bench_modes(probe):
        cancel.raise_if_cancelled()
        if skip:
            report.rows.append(BenchRow(mode, "skipped", skip))
            continue
        if mode == "row":
            # Never time row split in this process before the guard has seen it work in a child process.
            try:
                row_plan = plan_for_metadata(meta, gpu, probe, split_mode="row", allow_single=False)
            except AppError as exc:
                report.rows.append(BenchRow(mode, "skipped", exc.one_line()))
                continue
            verdict = check_row_split(model_path, row_plan, probe, row_check)
            if verdict.split_mode != "row":
                report.rows.append(BenchRow(mode, "skipped", verdict.message))
                continue
        if progress:
            progress(f"benchmarking {mode} split: pp{sizes[0]} and tg{sizes[1]}, {sizes[2]}×")
        try:
            report.rows.append(_bench_mode(model_path, meta, gpu, probe, mode, sizes, cancel))
        except GpuError as exc:
            report.rows.append(BenchRow(mode, "failed", exc.one_line()))
    measured = [row for row in report.rows if row.status == "ok"]
    if measured:
        report.fastest = max(measured, key=lambda r: (r.tg_tps, r.pp_tps)).split_mode
    return report
