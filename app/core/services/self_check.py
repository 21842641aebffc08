"""`self-check`: load every engine on a tiny input and say, per engine, whether it works on this machine.

Used on a fresh install and on the frozen bundle, so each check uses the same code paths as the app, with inputs
that carry no patient data (a fictitious sample, silence, a throw-away store in a temporary folder).
"""

from __future__ import annotations

import logging
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from app.core.config import Settings
from app.core.errors import AppError
from app.core.paths import resource
from app.core.services.warmup import REDACTION_SAMPLE, SPEECH_SAMPLE

log = logging.getLogger(__name__)
Status = Literal["ok", "warning", "failed"]


@dataclass(frozen=True)
class CheckResult:
    engine: str
    status: Status
    detail: str
    seconds: float


def _asr(settings: Settings, models_dir: Path) -> tuple[Status, str]:
    from app.core.asr.base import DecodeOptions
    from app.core.asr.faster_whisper_engine import load_transcriber
    from app.core.audio.decode import decode_file

    transcriber = load_transcriber(settings.asr, models_dir)
    audio = decode_file(resource("sample", "dictation.wav")).samples[: 16000 * 4]
    result = transcriber.transcribe(audio, DecodeOptions.from_settings(settings.asr))
    text = " ".join(s.text for s in result.segments).strip()
    if not text:
        return "failed", f"{transcriber.name} heard nothing in the sample dictation"
    return "ok", f"{transcriber.name}: {len(text.split())} words from 4 s of the sample"


def _redaction(settings: Settings, models_dir: Path) -> tuple[Status, str]:
    from app.core.redact.engine import SpacyRedactor

    redactor = SpacyRedactor.from_settings(settings, models_dir)
    result = redactor.redact(REDACTION_SAMPLE)
    kinds = sorted({s.kind.value for s in result.spans})
    if len(result.spans) < 3:
        return "failed", f"found only {len(result.spans)} of 4 identifiers in a test sentence"
    return "ok", f"found {', '.join(kinds)} in a test sentence"


def _llm(settings: Settings, models_dir: Path) -> tuple[Status, str]:
    from app.core.llm.base import ChatMessage, GenerationRequest, Sampling
    from app.core.llm.factory import create_language_model

    model = create_language_model(settings, models_dir)
    try:
        for _ in model.load():
            pass
        request = GenerationRequest(
            (ChatMessage("user", "Reply with the single word: ready"),), Sampling(temperature=0.0, max_tokens=4, seed=1)
        )
        completion = model.complete(request)
    finally:
        model.close()
    if not completion.text.strip():
        return "failed", f"{model.model_name} ({model.backend}) answered nothing"
    return "ok", f"{model.model_name} ({model.backend}) answered {completion.timings.completion_tokens} tokens"


def _tts(settings: Settings, models_dir: Path) -> tuple[Status, str]:
    from app.core.tts.piper_engine import PiperSpeaker

    speaker = PiperSpeaker.from_settings(settings, models_dir=models_dir)
    seconds = sum(chunk.duration_s for chunk in speaker.synthesize(SPEECH_SAMPLE))
    if seconds < 0.5:
        return "failed", f"voice {speaker.voice.name} produced only {seconds:.2f} s of audio"
    return "ok", f"voice {speaker.voice.name}: {seconds:.1f} s of speech"


def _store(settings: Settings, models_dir: Path) -> tuple[Status, str]:
    from app.core.storage import Store

    with tempfile.TemporaryDirectory(prefix="clinic-self-check-") as folder:
        store = Store(Path(folder), kdf_iterations=settings.storage.kdf_iterations)
        try:
            store.create("self-check passphrase, not a secret 42!")
            report = store.check()
        finally:
            store.close()
    if not report.ok:
        return "failed", "a new encrypted store failed its integrity check"
    return "ok", "created, wrote and checked an encrypted store"


def _audio(settings: Settings, models_dir: Path) -> tuple[Status, str]:
    from app.core.audio.capture import list_input_devices

    devices = list_input_devices()
    if not devices:
        return "warning", "no microphone found: dictation works from audio files only"
    return "ok", f"{len(devices)} input device(s)"


def _gpu(settings: Settings, models_dir: Path) -> tuple[Status, str]:
    from app.core.gpu.probe import probe_gpus

    probe = probe_gpus(settings.gpu)
    if not probe.gpu_offload:
        return "ok", f"llama.cpp build: {probe.build} (no GPU offload; the model runs on the CPU)"
    return "ok", f"llama.cpp build: {probe.build}, {len(probe.devices)} GPU(s)"


CHECKS: dict[str, Callable[[Settings, Path], tuple[Status, str]]] = {
    "speech recognition": _asr,
    "redaction": _redaction,
    "language model": _llm,
    "read-aloud": _tts,
    "encrypted store": _store,
    "audio devices": _audio,
    "gpu": _gpu,
}


def run_self_check(settings: Settings, models_dir: Path, only: list[str] | None = None) -> Iterator[CheckResult]:
    for name, check in CHECKS.items():
        if only and name not in only:
            continue
        started = time.perf_counter()
        try:
            status, detail = check(settings, models_dir)
        except AppError as exc:
            status, detail = "failed", exc.one_line()
        except Exception as exc:  # a self-check reports; it never crashes on one engine
            log.error(
                "self-check %s raised %s:\n%s",
                name,
                type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            status, detail = "failed", f"unexpected {type(exc).__name__}; see the log"
        yield CheckResult(name, status, detail, round(time.perf_counter() - started, 2))
