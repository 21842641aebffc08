"""`clinic-assistant self-check`: every engine on a tiny input; non-zero if any failed."""

from __future__ import annotations

import argparse

from app.cli.context import CliContext


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("self-check", help="load every engine on a tiny input and report OK/failed per engine")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.core.services.self_check import run_self_check

    results = []
    for result in run_self_check(ctx.settings, ctx.models_dir):
        results.append(result)
        if not args.json:
            mark = {"ok": "OK", "warning": "WARN", "failed": "FAILED"}[result.status]
            ctx.result(f"{result.engine:20} {mark:6} {result.detail} ({result.seconds:.1f} s)")
    if args.json:
        ctx.result_json([r.__dict__ for r in results])
    failed = [r.engine for r in results if r.status == "failed"]
    if failed:
        ctx.message(f"error: {len(failed)} engine(s) failed: {', '.join(failed)}. Run with --debug and see the log.")
    return 1 if failed else 0
