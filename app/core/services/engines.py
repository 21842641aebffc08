"""Building the engines the pipeline needs from the settings: the one place the CLI and the GUI share for it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app.core.asr.live import LiveTranscriber
from app.core.config import Settings
from app.core.llm.base import LanguageModel
from app.core.redact.base import Redactor
from app.core.tts.base import Speaker


def live_transcriber_factory(
    settings: Settings, models_dir: Path, model: str | None = None
) -> Callable[[], LiveTranscriber]:
    """Loads the speech model once; each dictation gets a fresh LiveTranscriber over it."""
    from app.core.asr.faster_whisper_engine import load_transcriber
    from app.core.asr.vocabulary import load_vocabulary

    transcriber = load_transcriber(settings.asr, models_dir, model)
    vocabulary = load_vocabulary(settings.asr)
    return lambda: LiveTranscriber.from_settings(transcriber, settings.asr, vocabulary)


def load_redactor(settings: Settings, models_dir: Path) -> Redactor:
    from app.core.redact.engine import SpacyRedactor

    return SpacyRedactor.from_settings(settings, models_dir)


def load_language_model(settings: Settings, models_dir: Path, model: str | None = None) -> LanguageModel:
    from app.core.llm.factory import create_language_model

    return create_language_model(settings, models_dir, model=model)


def load_speaker(settings: Settings, models_dir: Path) -> Speaker:
    from app.core.tts.piper_engine import PiperSpeaker

    return PiperSpeaker.from_settings(settings, models_dir=models_dir)
