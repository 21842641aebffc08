"""`clinic-assistant redact (--text TEXT | --jsonl FILE | --eval GOLD.jsonl) [--json]`.

--text prints the redacted text (`--text -` reads standard input, for long pastes); with --json one object
{"redacted_text", "spans"}. --jsonl reads objects with "id" and "text" and writes one object per line
{"id", "redacted_text", "spans": [{"start", "end", "kind", "text"}]} (offsets into the input text). A line that is
not such an object is reported on stderr with its line number; the others are still processed and the command
exits non-zero at the end. --eval scores the engine against a gold file (recall and precision per kind).
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
from app.core.errors import InputError

EXIT_SOME_LINES_BAD = 1
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
        for number, raw in _read_lines(path):
            if not raw.strip():
                continue
            obj, reason = _parse_line(raw, fields)
            if obj is None:
                self.bad += 1
                self.ctx.message(f"error: {path} line {number}: {reason}; skipped")
                continue
            yield obj


def _parse_line(raw: bytes, fields: tuple[str, ...]) -> tuple[dict[str, Any] | None, str]:
    """The object on one line, or None and why not. Blank lines are skipped by the reader, not reported."""
    try:
        obj = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "not UTF-8 text"
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(obj, dict):
        return None, "not a JSON object"
    missing = [f for f in fields if f not in obj]
    if missing:
        return None, "missing " + " and ".join(f'"{f}"' for f in missing)
    if not isinstance(obj["text"], str):
        return None, '"text" is not a string'
    return obj, ""


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.core.redact.engine import SpacyRedactor

    if args.text is not None:
        text = sys.stdin.read() if args.text == "-" else args.text
        if not text.strip():
            raise InputError("There is no text to redact", "Pass the text after --text, or '-' to read standard input")
    redactor = SpacyRedactor.from_settings(ctx.settings, ctx.models_dir)
    if args.text is not None:
        result = redactor.redact(text)
        if args.json:
            ctx.result_json({"redacted_text": result.redacted_text, "spans": result.spans_json()})
        else:
            ctx.result(result.redacted_text)
        return 0
    if args.jsonl is not None:
        return _run_jsonl(redactor, args.jsonl, ctx)
    return _run_eval(redactor, args.eval, args.json, args.show_errors, ctx)


def _run_jsonl(redactor: Any, path: Path, ctx: CliContext) -> int:
    started = time.perf_counter()
    reader = JsonlReader(ctx)
    records = list(reader.records(path))
    count = 0
    for record, result in zip(records, redactor.redact_many(r["text"] for r in records), strict=True):
        ctx.result_json({"id": record["id"], "redacted_text": result.redacted_text, "spans": result.spans_json()})
        count += 1
        if count % PROGRESS_EVERY == 0:
            ctx.progress(f"redacted {count} of {len(records)} records")
    bad = reader.bad
    ctx.message(f"redacted {count} records in {time.perf_counter() - started:.1f} s")
    if bad:
        ctx.message(f"error: {bad} line(s) of {path} could not be read; the others were redacted")
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
