"""`clinic-assistant note add`: a note the doctor typed or pasted, stored in a new encounter.

    note add --mrn MRN --reason TEXT --date YYYY-MM-DD (--text FILE | -) [--accept] [--kind KIND] [--json]

The note is stored as the doctor's (not a model's draft) in a new, closed encounter dated --date. `--accept` accepts
it and extracts its facts for the patient summary right away (the parsers; with `--model`, the language model's step
on the redacted note too). With `--passphrase-stdin` and `-`, the first line of stdin is the passphrase and the rest
is the note.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, time
from pathlib import Path

from app.cli.cmd_patient import add_store_options, describe_outcome, load_engines, parse_date, patient_by_mrn
from app.cli.cmd_store import _unlocked
from app.cli.context import CliContext
from app.cli.text_input import decode_bytes, read_stdin, replace_lone_surrogates
from app.core.errors import InputError

KINDS = ("soap", "summary", "letter", "other")
MAX_NOTE_BYTES = 5_000_000


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("note", help="add a note typed or pasted by the doctor",
                       description="Notes written by the doctor, outside a dictation.")
    actions = p.add_subparsers(dest="note_action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="store a note in a new encounter (and accept it)",
                             description="Store a note in a new encounter dated --date.")
    add.add_argument("--mrn", required=True, help="the patient's MRN")
    add.add_argument("--reason", required=True, help="the reason for the encounter")
    add.add_argument("--date", required=True, help="the encounter's date, YYYY-MM-DD")
    add.add_argument("--text", metavar="FILE", help="the note's text file ('-' for stdin)")
    add.add_argument("stdin", nargs="?", choices=["-"], help="'-': read the note from stdin")
    add.add_argument("--kind", choices=KINDS, default="other", help="the kind of note (default: other)")
    add.add_argument("--accept", action="store_true", help="accept it and extract its facts for the summary")
    add_store_options(add, model=True)
    p.set_defaults(run=run)


def _source(args: argparse.Namespace) -> str:
    given = [s for s in (args.text, args.stdin) if s]
    if len(given) != 1:
        raise InputError("Give the note once: --text FILE, or '-' to read it from stdin", "See 'note add --help'")
    return given[0]


def _read_note(source: str, args: argparse.Namespace, ctx: CliContext) -> str:
    if source == "-":
        # after a passphrase line, stdin's text layer has read ahead: read the rest from it, not from its bytes
        text, replaced = replace_lone_surrogates(sys.stdin.read()) if args.passphrase_stdin else read_stdin()
        where = "standard input"
    else:
        try:
            raw = Path(source).read_bytes()
        except OSError as exc:
            raise InputError(f"Cannot read the note file ({exc.strerror})", "Check the path") from None
        if len(raw) > MAX_NOTE_BYTES:
            raise InputError("The note file is larger than 5 MB", "Is it the right file?")
        text, replaced = decode_bytes(raw)
        where = "the note file"
    if replaced:
        ctx.message(f"warning: {replaced} character(s) in {where} were not valid UTF-8 and were replaced by U+FFFD")
    if not text.strip():
        raise InputError("The note is empty", "Give the note's text")
    return text


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.core.services.summaries import ExtractionOutcome, accept_note, extract_note_version
    from app.core.storage import EncounterStatus, NoteAuthor, NoteKind

    source = _source(args)
    day = parse_date(args.date, "--date")
    if not args.reason.strip():
        raise InputError("The reason is empty", "Give the reason for the encounter")
    if source != "-" or not args.passphrase_stdin:
        text = _read_note(source, args, ctx)  # before the passphrase prompt: a bad file fails fast
    llm, redactor = load_engines(args, ctx) if args.accept else (None, None)
    outcome: ExtractionOutcome | None = None
    try:
        with _unlocked(args, ctx) as store:
            if source == "-" and args.passphrase_stdin:
                text = _read_note(source, args, ctx)
            repos = store.repositories()
            patient = patient_by_mrn(repos, args.mrn)
            # midday UTC: the date stays the date in every time zone a clinic is in
            with repos.db.transaction("save the note"):
                encounter = repos.encounters.add(patient.id, datetime.combine(day, time(12), UTC), args.reason.strip())
                note = repos.notes.create(encounter.id, NoteKind(args.kind), text, author=NoteAuthor.DOCTOR)
                repos.encounters.set_status(encounter.id, EncounterStatus.CLOSED)
            if args.accept:
                note = accept_note(repos, note.id)
                ctx.progress("extracting the note's facts…")
                outcome = extract_note_version(repos, llm, redactor, note.latest.id)
                ctx.end_progress()
    finally:
        if llm is not None:
            llm.close()
    if args.json:
        ctx.result_json({
            "patient_id": patient.id, "encounter_id": encounter.id, "note_id": note.id,
            "note_version_id": note.latest.id, "accepted": args.accept,
            "extraction": None if outcome is None else {
                "status": outcome.status.value if outcome.status else None, "facts": outcome.facts,
                "extractor": outcome.extractor, "error": outcome.error,
            },
        })
    else:
        state = "accepted" if args.accept else "a draft (not accepted)"
        ctx.result(f"Stored note {note.id} in encounter {encounter.id} ({day.isoformat()}), {state}")
        if outcome is not None:
            ctx.result(f"Summary: {describe_outcome(outcome)}")
    return 0
