"""`clinic-assistant check-note --transcript FILE --note FILE [--source FILE]... [--json]`.

Links each sentence of a note to the consultation sentences that support it and flags the facts the consultation
does not say, or says otherwise (numbers, medicines, sides, negations, ages, dates). No model is loaded.

--json prints one object {"sentences": [{"text", "start", "end", "support": [{"start", "end"}], "flags": [{"kind",
"text", "start", "end", "reason"}]}]}: a sentence's and a flag's offsets are into the note, a support span's into the
transcript. The text output lists each flagged or unsupported sentence with its reasons, then one summary line.
Flags are findings, not failures: the command exits 0 whenever it could check the note. A file that is not UTF-8 is
read with the bad bytes replaced (and a warning); a missing, unreadable or empty file is an error (exit 2).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from app.cli.context import CliContext
from app.core.errors import InputError

REPLACEMENT = "\ufffd"
SHOWN_CHARS = 100  # of a sentence in the text output


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "check-note",
        help="link a note's sentences to the consultation and flag facts it does not say",
        description="Check a drafted note against the consultation it was written from: each sentence is linked to "
        "what was said, and numbers, medicines, sides, negations, ages and dates that were not said are flagged.",
    )
    p.add_argument("--transcript", metavar="FILE", type=Path, required=True,
                   help="the consultation: dictation or dialogue, plain text ('-' reads standard input)")
    p.add_argument("--note", metavar="FILE", type=Path, required=True, help="the note, letter or answer to check")
    p.add_argument("--source", metavar="FILE", type=Path, action="append", default=[],
                   help="another text a fact may come from (a prior summary, the patient's age and sex); repeatable")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=run)


def read_text(path: Path, what: str, ctx: CliContext) -> str:
    """The text of a file (or standard input for '-'), never refused for bad bytes; an error if it is empty."""
    try:
        raw = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"The {what} file {path} does not exist", "Check the path and run the command again") from None
    except IsADirectoryError:
        raise InputError(f"The {what} path {path} is a folder", "Pass the text file itself") from None
    except OSError as exc:
        raise InputError(f"Cannot read the {what} file {path} ({exc.strerror})",
                         "Check the file name and its permissions") from None
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    text = raw.decode("utf-8", errors="replace")
    replaced = text.count(REPLACEMENT) - raw.count(REPLACEMENT.encode("utf-8"))
    if replaced:
        ctx.message(f"warning: {replaced} character(s) of the {what} file {path} were not UTF-8 text and were "
                    "replaced by U+FFFD; the rest is checked as given")
    if not text.strip():
        raise InputError(f"The {what} file {path} is empty", f"Pass a file that holds the {what}")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.core.services.grounding import check_answer

    if str(args.transcript) == "-" and str(args.note) == "-":
        raise InputError("Only one of --transcript and --note can read standard input", "Pass the other as a file")
    transcript = read_text(args.transcript, "transcript", ctx)
    note = read_text(args.note, "note", ctx)
    sources = [read_text(path, "source", ctx) for path in args.source]
    report = check_answer(transcript, note, sources)
    if args.json:
        ctx.result_json(report.as_dict())
        return 0
    for sentence in report.sentences:
        if sentence.support and not sentence.flags:
            continue
        shown = " ".join(sentence.text.split())
        shown = shown if len(shown) <= SHOWN_CHARS else shown[: SHOWN_CHARS - 1] + "…"
        ctx.result(f"[{sentence.start}-{sentence.end}] {shown}")
        if not sentence.support:
            ctx.result("    unsupported: nothing in the consultation says this")
        for flag in sentence.flags:
            ctx.result(f"    {flag.kind}: {flag.reason}")
    kinds = Counter(flag.kind for flag in report.flags)
    by_kind = ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))
    total = len(report.sentences)
    ctx.result(
        f"{total} sentence(s): {total - len(report.unsupported)} supported, {len(report.unsupported)} unsupported; "
        f"{len(report.flags)} flag(s)" + (f" ({by_kind})" if by_kind else "")
    )
    return 0
