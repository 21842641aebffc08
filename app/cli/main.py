"""`clinic-assistant <command>`: global options, command registry, and the one place errors become exit codes.

Each command lives in its own module with `register(subparsers)`, which adds a parser whose `run(args, ctx)` returns
an exit code. Command modules import engines lazily inside `run`, so `--help` and light commands stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from app import __version__
from app.cli.context import CliContext, configure_streams
from app.core.config import data_dir, load_settings, models_dir
from app.core.errors import AppError, Cancelled
from app.core.logs import close_logging, safe_traceback, setup_logging
from app.core.paths import log_dir

log = logging.getLogger("app.cli")

EXIT_OK = 0
EXIT_FAILED = 1  # the command ran and reported failure (self-check, verify)
EXIT_ERROR = 2  # bad input or an AppError
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130

COMMAND_MODULES: tuple[str, ...] = (
    "app.cli.cmd_models",
    "app.cli.cmd_self_check",
    "app.cli.cmd_transcribe",
    "app.cli.cmd_redact",
    "app.cli.cmd_ask",
    "app.cli.cmd_speak",
    "app.cli.cmd_demo",
    "app.cli.cmd_gpu",
    "app.cli.cmd_store",
    "app.cli.cmd_check_note",
    "app.cli.cmd_patient",
    "app.cli.cmd_note",
    "app.cli.cmd_bench",
)


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on a usage error already; make the message one clear line with a hint."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"error: {message}. Run '{self.prog} --help' for the options.", file=sys.stderr)
        raise SystemExit(EXIT_ERROR)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="clinic-assistant",
        description="Offline clinical dictation, redaction and drafting. With no command, starts the window.",
    )
    parser.add_argument("--version", action="version", version=f"clinic-assistant {__version__}")
    parser.add_argument("--data-dir", type=Path, help="folder for the encrypted store, logs and caches")
    parser.add_argument("--models-dir", type=Path, help="folder with the models")
    parser.add_argument(
        "--config", type=Path, help="settings file (default: the user config dir, or $CLINIC_CONFIG_FILE)"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and log at debug level")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def make_context(args: argparse.Namespace) -> tuple[CliContext, list[str]]:
    overrides: dict[str, dict[str, str]] = {"storage": {}}
    if args.data_dir:
        overrides["storage"]["data_dir"] = str(args.data_dir)
    if args.models_dir:
        overrides["storage"]["models_dir"] = str(args.models_dir)
    loaded = load_settings(args.config, overrides)
    ctx = CliContext(
        settings=loaded.settings,
        data_dir=data_dir(loaded.settings),
        models_dir=models_dir(loaded.settings),
        config_file=loaded.path,
        debug=args.debug,
    )
    notice = loaded.missing_file_notice
    return ctx, ([notice] if notice else []) + loaded.warnings


def _run_gui(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.ui.launch import run_gui  # Qt is imported only when the window is wanted

    return run_gui(ctx)


def main(argv: Sequence[str] | None = None) -> int:
    configure_streams()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        args.command = "gui"
        args.run = _run_gui
    try:
        ctx, warnings = make_context(args)
        setup_logging(log_dir(ctx.data_dir), debug=args.debug)
        ctx.warnings = warnings
        for warning in warnings:
            # the log file is strict UTF-8: a non-UTF-8 path in a warning must not become a logging error
            log.warning("settings: %s", warning.encode("utf-8", "backslashreplace").decode("utf-8"))
            ctx.message(f"warning: {warning}")
        log.info("command %s started", args.command)
        code = int(args.run(args, ctx))
        log.info("command %s finished with %d", args.command, code)
        return code
    except AppError as exc:
        log.warning("command %s failed: %s", args.command, exc.kind)
        if args.debug:
            raise
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return EXIT_ERROR
    except (KeyboardInterrupt, Cancelled):
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # the last net: never a raw traceback that might quote patient text
        log.error("internal error in %s:\n%s", args.command, safe_traceback(exc))
        if args.debug:
            raise
        print(
            f"error: unexpected internal failure ({type(exc).__name__}). Run again with --debug for the traceback, "
            "and report it.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    finally:
        close_logging()
