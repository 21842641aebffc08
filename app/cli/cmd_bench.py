"""`clinic-assistant bench [STAGE] [--json]`: each stage's figures and its ratio against the library called directly."""

from __future__ import annotations

import argparse
import importlib
import json
import time
from pathlib import Path
from typing import Any

from app.cli.context import CliContext
from app.core.errors import InputError

STAGES = ("asr", "redact", "llm", "tts", "store", "pipeline", "grounding", "summary", "server", "gui")
# Where each stage lives: the core's stages never touch Qt; the window's responsiveness needs the window, so that
# module is imported only when the stage is asked for (the CLI itself stays free of Qt).
MODULES = {stage: f"app.core.bench.{stage}" for stage in STAGES} | {"gui": "app.ui.gui_bench"}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("bench", help="measure each stage on this machine")
    p.add_argument("stage", nargs="?", choices=STAGES, help="one stage (default: all)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--quick", action="store_true", help="few repetitions: checks the plumbing, not for numbers")
    p.add_argument("-o", "--output", type=Path, help="also write the JSON results to this file")
    p.add_argument(
        "--sets",
        default="",
        metavar="SETS",
        help="redact: also score these data sets, comma-separated or 'all' "
        "(dev, heldout, nursing, conversations, world, aci); always in full, also with --quick",
    )
    p.set_defaults(run=run)


def run_stages(stages: list[str], ctx: CliContext, quick: bool, redact_sets: str = "") -> dict[str, Any]:
    from app.core.bench.common import BenchRequest, machine_description
    from app.core.bench.redact_sets import parse_sets

    request = BenchRequest(
        ctx.settings,
        ctx.models_dir,
        ctx.data_dir,
        quick=quick,
        progress=ctx.progress,
        redact_sets=parse_sets(redact_sets) if redact_sets else (),
    )
    results: dict[str, Any] = {"machine": machine_description(), "quick": quick, "stages": {}}
    for stage in stages:
        try:
            module = importlib.import_module(MODULES[stage])
        except ImportError as exc:  # also a Qt without its system libraries, for the window's stage
            raise InputError(
                f"The '{stage}' benchmark cannot run here ({type(exc).__name__})",
                "Run `clinic-assistant self-check`; the window's stage needs the same libraries as the window",
            ) from exc
        ctx.message(f"bench {stage}: running")
        started = time.perf_counter()
        figures = module.run(request)
        figures["wall_s"] = round(time.perf_counter() - started, 2)
        results["stages"][stage] = figures
        ctx.end_progress()
    return results


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    stages = [args.stage] if args.stage else list(STAGES)
    results = run_stages(stages, ctx, args.quick, args.sets)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    if args.json:
        ctx.result_json(results)
    else:
        for stage, figures in results["stages"].items():
            ctx.result(f"[{stage}]")
            for key, value in figures.items():
                if key != "sets":
                    ctx.result(f"  {key:40} {value}")
            if stage == "redact":
                for line in redact_long_text_table(figures):
                    ctx.result(line)
                for line in redact_sets_table(figures.get("sets") or {}):
                    ctx.result(line)
    return 0


def redact_sets_table(sets: dict[str, Any]) -> list[str]:
    from app.core.bench.redact_sets import sets_table

    return list(sets_table(sets)) if sets else []


def redact_long_text_table(figures: dict[str, Any]) -> list[str]:
    """The long-text figures of `bench redact` as a table: the same time per 100 KB at every size is linear."""
    rows = [
        (key.removeprefix("long_").removesuffix("_s_per_100kb").upper(), value)
        for key, value in figures.items()
        if key.startswith("long_") and key.endswith("_s_per_100kb") and key != "long_target_s_per_100kb"
    ]
    if not rows:
        return []
    target = figures.get("long_target_s_per_100kb")
    lines = ["  long text   s per 100 KB" + (f"   (target <= {target})" if target is not None else "")]
    lines += [f"  {size:>9}   {value:>12}" for size, value in rows]
    if "long_growth" in figures:
        lines.append(f"  largest / smallest: {figures['long_growth']} (1.0 = linear)")
    return lines
