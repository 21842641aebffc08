"""Each engine run once on a tiny input that carries no patient data, before the doctor first needs it.

An engine's first use costs more than its load: libraries imported on first call, regular expressions compiled,
ONNX and CTranslate2 buffers allocated, the voice-activity session built. Paid during the first consultation, that
work ran on the engine lanes just as dictation, the note and the voice started, and part of it holds Python's GIL
(CTranslate2's model constructor, regex compilation, imports): the GUI benchmark saw the window stall for 68-96 ms
then, and never above 11 ms in later consultations. The window therefore warms the engines while the doctor types
the passphrase (`EngineHub.preload`); `self-check` uses the same inputs to say whether each engine works.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from app.core.config import Settings
from app.core.errors import CancelToken

# Fictitious identifiers of four kinds: what the redactor must find (self-check counts them).
REDACTION_SAMPLE = "Oswin Tredgold, MRN 447291, phone 555-213-4409, seen on March 4, 2024."
SPEECH_SAMPLE = "Blood pressure 140/90."
SILENCE_S = 1.0

# What a dictation and a reading run besides the engines themselves, imported ahead on the engine's own lane.
_DICTATION_MODULES = ("app.core.asr.live", "app.core.asr.vocabulary", "app.core.services.consultation")
_READING_MODULES = ("app.core.tts.text_feed", "app.core.tts.read_aloud", "app.core.tts.playback")


def _import(modules: tuple[str, ...]) -> None:
    for module in modules:
        importlib.import_module(module)


def warm_transcriber(transcriber: Any, settings: Settings) -> None:
    """Decode a second of silence (allocates the model's buffers) and build the shared voice-activity session."""
    from app.core.asr.base import DecodeOptions
    from app.core.asr.vad import StreamingVad

    _import(_DICTATION_MODULES)
    silence = np.zeros(int(16000 * SILENCE_S), dtype=np.float32)
    StreamingVad().push(silence)
    transcriber.transcribe(silence, DecodeOptions.from_settings(settings.asr))


def warm_redactor(redactor: Any) -> None:
    redactor.redact(REDACTION_SAMPLE)


def warm_speaker(speaker: Any, cancel: CancelToken | None = None) -> None:
    """Synthesise a short sentence (phonemiser, text normaliser and ONNX session all run once) and discard it."""
    _import(_READING_MODULES)
    for _chunk in speaker.synthesize(SPEECH_SAMPLE, cancel):
        pass


def import_language_model(settings: Settings) -> None:
    """The local backend's library, not the model: the model is the big one and loads when dictation starts, but
    importing llama.cpp's bindings then stalled the window as the first dictation began."""
    if settings.llm.backend != "local":
        return
    from app.core.llm.native import import_llama_cpp

    import_llama_cpp(settings.gpu)  # with the ROCm environment applied first, as loading the model would
    # And what loading the model imports on the way (the fit planner reads the file's header with `gguf`).
    _import(("app.core.llm.llama_local", "app.core.llm.worker", "app.core.llm.prompts", "app.core.gpu.plan",
             "llama_cpp.llama_chat_format"))
