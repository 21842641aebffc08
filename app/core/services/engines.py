"""Building the engines from the settings: the one registry the window, the CLI and the benchmarks share.

Each loader imports its heavy library inside itself, so a missing native library is a typed `AppError` when the
engine is first needed, not an import-time crash, and the CLI and the core tests stay light. The window calls these
on the worker lane that will own the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.asr.live import LiveTranscriber
from app.core.config import AsrSettings, Settings
from app.core.llm.base import Backend, LanguageModel
from app.core.redact.base import Redactor
from app.core.tts.base import Speaker, VoiceInfo

if TYPE_CHECKING:
    from app.core.asr.base import Transcriber
    from app.core.audio.capture import MicrophoneSource
    from app.core.storage.store import Store
    from app.core.tts.playback import StreamOpener


def live_transcriber_factory(
    settings: Settings, models_dir: Path, model: str | None = None
) -> Callable[[], LiveTranscriber]:
    """Loads the speech model once; each dictation gets a fresh LiveTranscriber over it."""
    from app.core.asr.vocabulary import load_vocabulary

    transcriber = load_transcriber(settings, models_dir, model)
    vocabulary = load_vocabulary(settings.asr)
    return lambda: LiveTranscriber.from_settings(transcriber, settings.asr, vocabulary)


def load_store(settings: Settings, data_dir: Path) -> Store:
    from app.core.storage.store import Store

    return Store.from_settings(settings, data_dir)


def load_transcriber(settings: Settings, models_dir: Path, model: str | None = None) -> Transcriber:
    from app.core.asr.faster_whisper_engine import load_transcriber as load

    return load(settings.asr, models_dir, model)


def load_asr_transcriber(asr: AsrSettings, models_dir: Path, model: str | None = None) -> Transcriber:
    """From the speech settings alone (a command that overrides the language for one run)."""
    from app.core.asr.faster_whisper_engine import load_transcriber as load

    return load(asr, models_dir, model)


def open_microphone(settings: Settings) -> MicrophoneSource:
    from app.core.audio.capture import MicrophoneSource

    return MicrophoneSource(settings.asr.input_device, queue_seconds=settings.asr.queue_seconds)


def sound_output() -> StreamOpener:
    """How audio reaches the speakers (sounddevice)."""
    from app.core.tts.playback import open_sounddevice_stream

    return open_sounddevice_stream


def load_redactor(settings: Settings, models_dir: Path) -> Redactor:
    from app.core.redact.engine import SpacyRedactor

    return SpacyRedactor.from_settings(settings, models_dir)


def load_language_model(
    settings: Settings, models_dir: Path, model: str | None = None, *, backend: Backend | None = None
) -> LanguageModel:
    """`model` and `backend` override the settings (command-line flags)."""
    from app.core.llm.factory import create_language_model

    return create_language_model(settings, models_dir, backend=backend, model=model)


def load_speaker(settings: Settings, models_dir: Path, voice: VoiceInfo | None = None) -> Speaker:
    """The voice named in the settings, or `voice` (already resolved)."""
    from app.core.tts.piper_engine import PiperSpeaker

    return PiperSpeaker.from_settings(settings, voice, models_dir=models_dir)
