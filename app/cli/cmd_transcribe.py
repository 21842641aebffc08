"""`clinic-assistant transcribe AUDIO... [--model NAME] [--json]`: audio files to text.

A file that cannot be read is reported on stderr and skipped; the others are still transcribed, and the exit code
is non-zero at the end. With --json, stdout carries one object per line and file:
{"file", "text", "language", "duration_s", "segments": [{"start", "end", "text"}]}; `text` has the dictation
commands and number formatting applied (unless --raw), `segments` keep what the recogniser heard.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from app.cli.context import CliContext
from app.core.errors import AudioError

log = logging.getLogger(__name__)

EXIT_SOME_FILES_FAILED = 2


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("transcribe", help="transcribe audio files (wav, flac, mp3, ogg, m4a)")
    p.add_argument("audio", nargs="+", type=Path, metavar="AUDIO", help="audio file(s)")
    p.add_argument("--model", help="speech model: whisper-base, whisper-tiny.en, or a CTranslate2 folder")
    p.add_argument("--language", help="spoken language code (en, fr, …) or 'auto' (default: the settings)")
    p.add_argument("--raw", action="store_true", help="no dictation commands or number formatting")
    p.add_argument("--json", action="store_true", help="one JSON object per file on stdout")
    p.set_defaults(run=run)


def minutes(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def percent(done: float, total: float) -> int:
    return min(100, round(100 * done / total)) if total > 0 else 100


def _as_json(path: Path, transcript: Any) -> dict[str, Any]:
    return {
        "file": str(path),
        "text": transcript.text,
        "language": transcript.language,
        "duration_s": round(transcript.duration_s, 3),
        "segments": [
            {"start": round(s.start, 2), "end": round(s.end, 2), "text": s.text.strip()} for s in transcript.segments
        ],
    }


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.core.asr.base import DecodeOptions
    from app.core.asr.files import transcribe_file
    from app.core.asr.vocabulary import load_vocabulary
    from app.core.dictation.document import DictationOptions
    from app.core.services.engines import load_asr_transcriber

    asr = ctx.settings.asr
    if args.language:
        asr = asr.model_copy(update={"language": args.language})
    # Progress only on a terminal (where it is overwritten): in a log or a pipe, stderr holds just the error lines.
    ctx.progress(f"loading speech model {args.model or asr.model}", terminal_only=True)
    transcriber = load_asr_transcriber(asr, ctx.models_dir, args.model)
    options = DecodeOptions.from_settings(asr, load_vocabulary(asr))
    dictation = DictationOptions(
        commands=asr.dictation_commands and not args.raw,
        format_numbers=asr.format_numbers and not args.raw,
        low_confidence=asr.low_confidence,
    )
    failed = 0
    for index, path in enumerate(args.audio, start=1):
        which = f" ({index}/{len(args.audio)})" if len(args.audio) > 1 else ""
        ctx.progress(f"transcribing {path.name}{which}", terminal_only=True)

        def show(done_s: float, total_s: float, name: str = path.name, which: str = which) -> None:
            ctx.progress(f"transcribing {name}{which}: {minutes(done_s)} of {minutes(total_s)} "
                         f"({percent(done_s, total_s)} %)", terminal_only=True)

        try:
            transcript = transcribe_file(path, transcriber, options, dictation, progress=show)
        except AudioError as exc:
            failed += 1
            ctx.message(f"error: {exc.one_line()}")
            log.warning("file %d of %d could not be transcribed: %s", index, len(args.audio), exc.kind)
            continue
        if args.json:
            ctx.result_json(_as_json(path, transcript))
        else:
            if len(args.audio) > 1:
                ctx.result(f"# {path}")
            ctx.result(transcript.text)
    ctx.end_progress()
    if failed:
        if failed > 1:  # one failure is already said by its own error line
            ctx.message(f"{failed} of {len(args.audio)} files could not be transcribed (errors above)")
        return EXIT_SOME_FILES_FAILED
    return 0
