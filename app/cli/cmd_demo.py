"""`clinic-assistant demo [AUDIO]`: the whole consultation pipeline headless, on the shipped sample dictation.

Prints the transcript, what the model was given (redacted), and the drafted SOAP note re-identified; writes the
spoken note to a WAV file; stores the encounter in a demo store (its own folder and a published passphrase: it is
for the fictitious sample patient only, never for real patients).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.cli.chat_models import check_chat_model
from app.cli.context import CliContext
from app.cli.private_files import create_private
from app.core.paths import resource

DEMO_PASSPHRASE = "demo store - fictitious patients only - 2026"
DEMO_PATIENT = {"family_name": "Tredgold", "given_names": "Oswin", "mrn": "447291", "date_of_birth": "1958-03-04"}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("demo", help="run the whole pipeline headless on a sample dictation")
    p.add_argument("audio", nargs="?", type=Path, help="an audio file (default: the shipped sample dictation)")
    p.add_argument("-o", "--output", type=Path, help="WAV file for the spoken note (default: in the demo folder)")
    p.add_argument("--task", choices=("soap", "summary", "referral", "question"), default="soap")
    p.add_argument("--model", help="chat model (default: the settings' model)")
    p.add_argument("--no-speech", action="store_true", help="do not synthesise the spoken note")
    p.add_argument("--json", action="store_true", help="print the results as one JSON object")
    p.set_defaults(run=run)


def _demo_store(folder: Path) -> Any:
    from datetime import date

    from app.core.storage import Store, StoreWorker

    worker = StoreWorker(Store(folder))

    def open_store(store: Store) -> None:  # on the store's own thread: the connection belongs to it
        if store.exists():
            store.unlock(DEMO_PASSPHRASE)
        else:
            store.create(DEMO_PASSPHRASE)

    worker.run(open_store).result()

    def patient_id(repos: Any) -> int:
        found = repos.patients.find_by_mrn(DEMO_PATIENT["mrn"])
        if found is None:
            found = repos.patients.add(
                DEMO_PATIENT["family_name"],
                DEMO_PATIENT["given_names"],
                date_of_birth=date.fromisoformat(DEMO_PATIENT["date_of_birth"]),
                mrn=DEMO_PATIENT["mrn"],
            )
        return int(found.id)

    return worker, worker.submit(patient_id).result()


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.core.audio.replay import FileReplaySource
    from app.core.errors import AudioError
    from app.core.services import consultation as c
    from app.core.services.engines import (
        live_transcriber_factory,
        load_language_model,
        load_redactor,
        load_speaker,
    )

    audio = args.audio or resource("sample", "dictation.wav")
    if not audio.is_file():
        raise AudioError(f"The audio file {audio} does not exist", "Check the path")
    demo_dir = ctx.data_dir / "demo"
    wav_path = args.output or demo_dir / "answer.wav"
    if args.output is not None and not args.no_speech:
        from app.core.tts.wav import check_wav_target

        check_wav_target(args.output)  # a bad -o is one line now, not after the whole pipeline
    if ctx.settings.llm.backend == "local":
        check_chat_model(args.model or ctx.settings.llm.model, ctx.models_dir)
    ctx.message("loading the engines (speech, redaction, language model, voice)…")
    source = FileReplaySource(audio)
    live = live_transcriber_factory(ctx.settings, ctx.models_dir)
    redactor = load_redactor(ctx.settings, ctx.models_dir)
    llm = load_language_model(ctx.settings, ctx.models_dir, args.model)
    speaker = None if args.no_speech else load_speaker(ctx.settings, ctx.models_dir)
    worker, patient_id = _demo_store(demo_dir)
    pipeline = c.ConsultationPipeline(
        ctx.settings, live=live, redactor=redactor, llm=llm, speaker=speaker, store=worker
    )
    request = c.ConsultationRequest(patient_id=patient_id, task=args.task, speak=speaker is not None)
    out: dict[str, Any] = {"audio": str(audio), "saved": []}
    chunks = []
    failed: c.StageFailed | None = None
    try:
        for event in pipeline.run(source, request):
            if isinstance(event, c.StageStarted):
                ctx.progress(f"{event.stage}…")
            elif isinstance(event, c.TranscriptDone):
                out["transcript"] = event.result.text
            elif isinstance(event, c.Redacted):
                out["redacted"] = event.result.redacted_text
                out["identifiers"] = [
                    {"kind": s.kind.value, "placeholder": p.placeholder}
                    for s, p in ((p.span, p) for p in event.result.placed)
                ]
            elif isinstance(event, c.AnswerDone):
                out["note"] = event.display_text
                out["model"] = event.draft.completion.model
            elif isinstance(event, c.Notice):
                ctx.message(event.text)
            elif isinstance(event, c.SpeechChunk):
                chunks.append(event.chunk)
            elif isinstance(event, c.Saved):
                out["saved"].append({"record": event.record, "id": event.record_id})
            elif isinstance(event, c.StageFailed):
                failed = event
        if chunks and speaker is not None:
            create_private(wav_path)  # the spoken note of a patient: owner-only (0600), like the store
            c.write_speech(chunks, wav_path, speaker.sample_rate)
            out["wav"] = str(wav_path)
    finally:
        llm.close()
        worker.shutdown()
    ctx.end_progress()
    out["timeline"] = pipeline.timeline.as_dict()
    if args.json:
        ctx.result_json(out)
    else:
        for title, key in (
            ("TRANSCRIPT", "transcript"),
            ("WHAT THE MODEL SAW (REDACTED)", "redacted"),
            (f"DRAFT {args.task.upper()} NOTE (re-identified; check before use)", "note"),
        ):
            if key in out:
                ctx.result(f"== {title} ==\n{out[key]}\n")
        if "wav" in out:
            ctx.result(f"== SPOKEN NOTE ==\n{out['wav']}\n")
        t = out["timeline"]
        ctx.message(
            f"stored in the demo store {demo_dir} (passphrase: '{DEMO_PASSPHRASE}'). Latency after the end of speech: "
            f"transcript {t['speech_end_to_transcript_s']} s, first token {t['speech_end_to_first_token_s']} s, "
            f"first audio {t['speech_end_to_first_audio_s']} s"
        )
    if failed is not None:
        from app.core.errors import AppError

        raise AppError(f"The {failed.stage} stage failed: {failed.error.message}", failed.error.hint)
    return 0
