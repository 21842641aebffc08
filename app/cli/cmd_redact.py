"""`clinic-assistant redact (--text TEXT | --jsonl FILE | --eval GOLD.jsonl) [--json]`.

--text prints the redacted text (`--text -` reads standard input, for long pastes); with --json one object
{"redacted_text", "spans"}. --jsonl reads objects with "id" and "text" and writes one object per line
{"id", "redacted_text", "spans": [{"start", "end", "kind", "text"}]} (offsets into the input text). A line that is
not such an object (not UTF-8, not JSON, or a string holding a lone surrogate escape such as "\\udc80") is reported on
stderr with its line number and skipped; every other record is still redacted and the command exits with 2 at the
end. Free text (--text, standard input) is never refused for bad bytes: see app/cli/text_input.py.
--eval scores the engine against a gold file (recall and precision per kind).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.cli.context import CliContext
from app.cli.text_input import has_lone_surrogates, text_argument
from app.core.errors import AppError, InputError

EXIT_SOME_LINES_BAD = 2  # bad input, as for every command (README "Command line")
PROGRESS_EVERY = 200


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "redact",
        help="replace identifiers (names, dates, numbers, places…) with placeholders",
        description="Find the 18 HIPAA Safe Harbor identifier kinds and replace them with consistent placeholders.",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", metavar="TEXT", help="text to redact ('-' reads standard input)")
    source.add_argument("--jsonl", metavar="FILE", type=Path, help='JSON lines with "id" and "text" (- for stdin)')
    source.add_argument("--eval", metavar="GOLD", type=Path, help="score against a gold JSONL file with 'phi' spans")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--show-errors", action="store_true", help="with --eval --json: list misses and false positives")
    p.set_defaults(run=run)


def _read_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    if str(path) == "-":
        yield from enumerate(sys.stdin.buffer, start=1)
        return
    try:
        with open(path, "rb") as fh:
            yield from enumerate(fh, start=1)
    except OSError as exc:
        raise InputError(f"Cannot read {path} ({exc.strerror})", "Check the file name and its permissions") from None


class JsonlReader:
    """Objects from a JSONL file; bad lines are reported (number and reason, never content) and skipped."""

    def __init__(self, ctx: CliContext) -> None:
        self.ctx = ctx
        self.bad = 0

    def records(self, path: Path, fields: tuple[str, ...] = ("id", "text")) -> Iterator[dict[str, Any]]:
        for _number, obj in self.numbered(path, fields):
            yield obj

    def numbered(self, path: Path, fields: tuple[str, ...] = ("id", "text")) -> Iterator[tuple[int, dict[str, Any]]]:
        """(line number, object) for every good line."""
        for number, raw in _read_lines(path):
            if not raw.strip():
                continue
            obj, reason = _parse_line(raw, fields)
            if obj is None:
                self.report(path, number, reason)
                continue
            yield number, obj

    def report(self, path: Path, number: int, reason: str) -> None:
        self.bad += 1
        self.ctx.message(f"error: {path} line {number}: {reason}; skipped")


def _parse_line(raw: bytes, fields: tuple[str, ...]) -> tuple[dict[str, Any] | None, str]:
    """The object on one line, or None and why not. Blank lines are skipped by the reader, not reported."""
    try:
        obj = json.loads(raw.decode("utf-8").removeprefix("\ufeff"))  # a byte-order mark (Notepad) is not content
    except UnicodeDecodeError:
        return None, "not UTF-8 text"
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc.msg.removesuffix(' at')} at column {exc.colno})"
    if not isinstance(obj, dict):
        return None, "not a JSON object"
    missing = [f for f in fields if f not in obj]
    if missing:
        return None, "missing " + " and ".join(f'"{f}"' for f in missing)
    if not isinstance(obj["text"], str):
        return None, '"text" is not a string'
    if b"\\u" in raw and _holds_lone_surrogate(obj):  # only a \\uXXXX escape can make one in valid UTF-8
        return None, "a string holds a lone surrogate escape (\\ud800-\\udfff), which is not text"
    return obj, ""


def _holds_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return has_lone_surrogates(value)
    if isinstance(value, dict):
        return any(_holds_lone_surrogate(k) or _holds_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_lone_surrogate(v) for v in value)
    return False


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.core.services.engines import load_redactor

    if args.text is not None:
        text = text_argument(args.text, ctx)
        if not text.strip():
            raise InputError("There is no text to redact", "Pass the text after --text, or '-' to read standard input")
    redactor = load_redactor(ctx.settings, ctx.models_dir)
    if args.text is not None:
        result = _redact_text(redactor, text, ctx)
        if args.json:
            ctx.result_json({"redacted_text": result.redacted_text, "spans": result.spans_json()})
        else:
            ctx.result(result.redacted_text)
        return 0
    if args.jsonl is not None:
        return _run_jsonl(redactor, args.jsonl, ctx)
    return _run_eval(redactor, args.eval, args.json, args.show_errors, ctx)


# What the engine raises on a text it cannot take; anything else is a bug and reaches the CLI's last net.
_RECORD_FAILURES = (AppError, ValueError, RuntimeError, UnicodeError, MemoryError)


def _redact_each(
    redactor: Any, numbered: list[tuple[int, dict[str, Any]]], reader: JsonlReader, path: Path
) -> Iterator[tuple[dict[str, Any], Any]]:
    """(record, result) in input order. The batch is fast; if it fails part way (a record the engine cannot take),
    the rest are redacted one by one and only a record that fails on its own is reported and skipped."""
    done = 0
    try:
        for (_number, record), result in zip(
            numbered, redactor.redact_many(r["text"] for _n, r in numbered), strict=True
        ):
            yield record, result
            done += 1
        return
    except _RECORD_FAILURES:
        pass
    for number, record in numbered[done:]:
        try:
            result = redactor.redact(record["text"])
        except _RECORD_FAILURES as exc:
            reader.report(path, number, f"could not be redacted ({type(exc).__name__})")
            continue
        yield record, result


def _run_jsonl(redactor: Any, path: Path, ctx: CliContext) -> int:
    started = time.perf_counter()
    reader = JsonlReader(ctx)
    numbered = list(reader.numbered(path))
    count = 0
    for record, result in _redact_each(redactor, numbered, reader, path):
        ctx.result_json({"id": record["id"], "redacted_text": result.redacted_text, "spans": result.spans_json()})
        count += 1
        if count % PROGRESS_EVERY == 0:
            ctx.progress(f"redacted {count} of {len(numbered)} records")
    bad = reader.bad
    ctx.message(f"redacted {count} records in {time.perf_counter() - started:.1f} s")
    if bad:
        ctx.message(
            f"error: {bad} line(s) of {path} were skipped (reasons above); the other {count} record(s) were redacted. "
            "Fix those lines and run them again."
        )
        return EXIT_SOME_LINES_BAD
    return 0


def _run_eval(redactor: Any, path: Path, as_json: bool, show_errors: bool, ctx: CliContext) -> int:
    from app.core.redact.evaluate import Scorer, format_table, gold_record

    scorer = Scorer()
    reader = JsonlReader(ctx)
    gold = []
    for obj in reader.records(path, fields=("text",)):
        try:
            gold.append(gold_record(obj))
        except (KeyError, TypeError, ValueError) as exc:
            ctx.message(f"error: {path} record {obj.get('id', '?')}: gold spans unusable ({type(exc).__name__})")
            reader.bad += 1
    if not gold:
        raise InputError(f"No usable records in {path}", 'Each line needs "text" and "phi" spans (see --help)')
    started = time.perf_counter()
    for record, spans in zip(gold, redactor.detect_many([g.text for g in gold]), strict=True):
        scorer.add(record, spans)
    report = scorer.report(with_errors=show_errors)
    report["seconds"] = round(time.perf_counter() - started, 2)
    if as_json:
        ctx.result_json(report)
    else:
        for line in format_table(report):
            ctx.result(line)
    return EXIT_SOME_LINES_BAD if reader.bad else 0


# Inputs this long take seconds: they get a percentage on stderr (never on stdout, which carries the result).
PROGRESS_FROM_CHARS = 100_000
PROGRESS_STEP = 10  # percent between progress lines


def _redact_text(redactor: Any, text: str, ctx: CliContext) -> Any:
    """`redactor.redact(text)`, with "redacting: N%" lines on stderr when the text is large."""
    if len(text) < PROGRESS_FROM_CHARS:
        return redactor.redact(text)
    shown = 0

    def report(fraction: float) -> None:
        nonlocal shown
        percent = int(fraction * 100) // PROGRESS_STEP * PROGRESS_STEP
        if percent > shown:
            shown = percent
            ctx.progress(f"redacting: {percent}% of {len(text):,} characters")

    result = redactor.redact(text, progress=report)
    ctx.end_progress()
    return result
