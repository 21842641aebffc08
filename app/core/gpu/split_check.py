"""The row-split guard: before row split is used, run a short deterministic prompt in row mode and in layer mode and
compare the tokens; on a mismatch or a crash, use layer split and say why.

Why: row split is the one mode that needs GPU peer-to-peer access, and where it is broken it fails badly — a
segfault right after loading with `-sm row` on 4×MI100 over plain PCIe (recorded), crashes on kernels without
CONFIG_HSA_AMD_P2P. So each mode runs in its own child process (`clinic-assistant gpu split-worker`): a crash
there is a verdict, not the end of the app. Greedy decoding (temperature 0, fixed seed, 16 tokens) makes the two
runs comparable. On a CPU build the check is "not applicable"; tests force it to run both modes on the CPU.
The verdict is cached per model file, devices and split, so the check runs once, not at every load.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from app.core.config import GpuSettings
from app.core.gpu.plan import LLAMA_SPLIT_MODES, FitPlan, plan_for_model
from app.core.gpu.probe import GpuProbe

log = logging.getLogger(__name__)

CHECK_PROMPT = "The four chambers of the human heart are the left atrium, the right atrium,"
CHECK_TOKENS = 16
CHECK_SEED = 1234
CHECK_CTX = 256
CACHE_FILE = "split_check.json"

Status = Literal["not_applicable", "match", "mismatch", "failed"]
# (model path, plan, split mode) -> greedy token ids; raises SplitWorkerError when the run crashes or fails.
TokenGenerator = Callable[[Path, FitPlan, str], list[int]]


class SplitWorkerError(Exception):
    """The child process running one split mode crashed, failed or timed out."""


@dataclass
class SplitCheckResult:
    status: Status
    split_mode: str  # what to use
    message: str
    row_tokens: list[int] = field(default_factory=list)
    layer_tokens: list[int] = field(default_factory=list)
    first_difference: int | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def worker_command() -> list[str]:
    """How to start `gpu split-worker`: the app binary itself when frozen, `python -m app` from a checkout."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "gpu", "split-worker"]
    return [sys.executable, "-m", "app", "gpu", "split-worker"]


def subprocess_generator(timeout_s: float = 900.0) -> TokenGenerator:
    def generate(model_path: Path, plan: FitPlan, split_mode: str) -> list[int]:
        argv = [
            *worker_command(),
            str(model_path),
            "--split-mode",
            split_mode,
            "--n-gpu-layers",
            str(plan.n_gpu_layers),
            "--main-gpu",
            str(plan.main_gpu),
            "--tensor-split",
            ",".join(str(s) for s in plan.tensor_split),
            "--tokens",
            str(CHECK_TOKENS),
        ]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise SplitWorkerError(f"{split_mode} split did not finish within {timeout_s:g} s") from None
        if done.returncode < 0:
            raise SplitWorkerError(f"{split_mode} split crashed (signal {-done.returncode})")
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise SplitWorkerError(f"{split_mode} split failed (exit {done.returncode}: {last[:200]})")
        try:
            return [int(t) for t in json.loads(done.stdout.strip().splitlines()[-1])["tokens"]]
        except (ValueError, KeyError, IndexError, TypeError):
            raise SplitWorkerError(f"{split_mode} split worker gave no token list") from None

    return generate


def greedy_tokens(
    model_path: Path,
    split_mode: str,
    n_gpu_layers: int,
    main_gpu: int,
    tensor_split: Sequence[float],
    n_tokens: int = CHECK_TOKENS,
) -> list[int]:
    """Run in the worker process: load with the given split and decode greedily."""
    import llama_cpp

    llm = llama_cpp.Llama(
        model_path=str(model_path),
        n_ctx=CHECK_CTX,
        n_batch=64,
        n_gpu_layers=n_gpu_layers,
        split_mode=LLAMA_SPLIT_MODES[split_mode],
        main_gpu=main_gpu,
        tensor_split=list(tensor_split) or None,
        seed=CHECK_SEED,
        verbose=False,
    )
    try:
        prompt = llm.tokenize(CHECK_PROMPT.encode("utf-8"), add_bos=True)
        tokens: list[int] = []
        for token in llm.generate(prompt, top_k=1, top_p=1.0, min_p=0.0, temp=0.0, repeat_penalty=1.0):
            if token == llm.token_eos():
                break
            tokens.append(int(token))
            if len(tokens) >= n_tokens:
                break
        return tokens
    finally:
        llm.close()


def compare(row: list[int], layer: list[int]) -> int | None:
    """Index of the first differing token, or None when the runs agree."""
    for i, (a, b) in enumerate(zip(row, layer, strict=False)):
        if a != b:
            return i
    return None if len(row) == len(layer) else min(len(row), len(layer))


def check_row_split(
    model_path: Path, plan: FitPlan, probe: GpuProbe, generate: TokenGenerator | None = None, force: bool = False
) -> SplitCheckResult:
    """Compare row and layer split on `plan`. `force` runs it even where it does not apply (tests on the CPU)."""
    applies = probe.gpu_offload and plan.split_mode == "row" and len([s for s in plan.tensor_split if s > 0]) > 1
    if not applies and not force:
        why = "CPU build" if not probe.gpu_offload else "the plan does not use row split across several GPUs"
        return SplitCheckResult("not_applicable", plan.split_mode, f"row-split check not applicable ({why})")
    generate = generate or subprocess_generator()
    started = time.perf_counter()
    try:
        layer = generate(model_path, plan, "layer")
    except SplitWorkerError as exc:
        # Layer split itself failing is not row split's fault: report it without blaming either mode.
        return SplitCheckResult(
            "failed", "layer", f"row-split check could not run: {exc}", seconds=time.perf_counter() - started
        )
    try:
        row = generate(model_path, plan, "row")
    except SplitWorkerError as exc:
        return SplitCheckResult(
            "failed",
            "layer",
            f"row split is unusable here ({exc}): using layer split",
            layer_tokens=layer,
            seconds=time.perf_counter() - started,
        )
    seconds = time.perf_counter() - started
    diff = compare(row, layer)
    if diff is None:
        return SplitCheckResult(
            "match", "row", f"row split gives the same {len(row)} tokens as layer split", row, layer, None, seconds
        )
    return SplitCheckResult(
        "mismatch",
        "layer",
        f"row split produced different text from layer split (from token {diff + 1} of {len(layer)}): "
        "using layer split; row split is not reliable on this machine",
        row,
        layer,
        diff,
        seconds,
    )


def _cache_key(model_path: Path, plan: FitPlan, probe: GpuProbe) -> str:
    stat = model_path.stat()
    devices = ";".join(f"{d.index}:{d.name}" for d in probe.devices)
    return (
        f"{model_path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{devices}|{plan.tensor_split}|{probe.llama_version}"
    )


def guard_row_split(
    model_path: Path,
    plan: FitPlan,
    gpu: GpuSettings,
    probe: GpuProbe,
    cache_dir: Path | None = None,
    generate: TokenGenerator | None = None,
) -> tuple[FitPlan, SplitCheckResult]:
    """Return the plan to use: unchanged if it is not row split or row split checks out, else re-planned for layer
    split with the reason in its warnings. Skipped when gpu.row_split_check is off."""
    if plan.split_mode != "row" or not gpu.row_split_check:
        return plan, SplitCheckResult("not_applicable", plan.split_mode, "row-split check not needed")
    cache_path = cache_dir / CACHE_FILE if cache_dir else None
    key = _cache_key(model_path, plan, probe)
    cache: dict[str, dict[str, object]] = {}
    if cache_path and cache_path.is_file():
        try:
            cache = json.loads(cache_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            cache = {}
    if key in cache:
        result = SplitCheckResult(**cache[key])  # type: ignore[arg-type]
    else:
        result = check_row_split(model_path, plan, probe, generate)
        if cache_path and result.status in ("match", "mismatch", "failed"):
            cache[key] = result.to_dict()
            try:
                cache_path.parent.mkdir(parents=True, exist_ok=True)
                cache_path.write_text(json.dumps(cache, indent=1), encoding="utf-8")
            except OSError as exc:
                log.warning("split-check cache not written: %s", exc.strerror)
    if result.split_mode == "row":
        return plan, result
    layer_plan = plan_for_model(model_path, gpu, probe, n_ctx=plan.n_ctx, split_mode="layer")
    return dataclasses.replace(layer_plan, warnings=[*layer_plan.warnings, result.message]), result
