"""The Piper voice (piper-tts 1.8, espeak-ng inside): normalised sentences in, one audio chunk per sentence out.

We split sentences ourselves (SentenceStreamer) instead of handing Piper the whole answer: Piper phonemises all of
its input before it synthesises the first sentence, so only our own splitting lets speech start while the model is
still writing. Each sentence is normalised first (units, doses, blood pressure...), see normalise.py.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from app.core.errors import CancelToken, EngineUnavailable, ModelError
from app.core.tts.base import AudioChunk, VoiceInfo
from app.core.tts.normalise import ClinicalNormaliser, DateOrder
from app.core.tts.rules import SpeechRules, load_rules
from app.core.tts.sentences import SentenceStreamer, split_lead
from app.core.tts.voices import resolve_voice

if TYPE_CHECKING:
    from app.core.config import Settings

log = logging.getLogger(__name__)

# The first sentence of an answer is synthesised in two parts when its first clause is at most this many words:
# ~3 s of speech, which Piper makes in well under half a second on a quiet 2-core machine.
FAST_START_WORDS = 9

_PIPER_HINT = "Reinstall the app's Python packages (piper-tts 1.8.0 and onnxruntime)"

# onnxruntime's default for the voice is one compute thread per core, spinning while it waits for work. Speech is
# synthesised while Whisper, llama.cpp and the window want the same 2 cores: there the spinning pool cost ~1.7x the
# CPU of one thread and finished later (1.1 s vs 0.7 s for three sentences with other work running), and it took
# the CPU the GUI thread needed (the stall probe's longest stalls). One thread is still several times real time.
SYNTHESIS_THREADS = 1


def _import_piper() -> Any:
    try:
        import piper
    except (ImportError, OSError) as exc:
        raise EngineUnavailable(
            f"The Piper speech engine cannot be loaded ({type(exc).__name__})", _PIPER_HINT
        ) from None
    return piper


def load_piper_voice(piper: Any, voice: VoiceInfo) -> Any:
    """`PiperVoice.load` for the CPU, with our session options (it offers none)."""
    import onnxruntime
    from piper.config import PiperConfig

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = SYNTHESIS_THREADS
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    with open(voice.config_path, encoding="utf-8") as config_file:
        config = PiperConfig.from_dict(json.load(config_file))
    session = onnxruntime.InferenceSession(
        str(voice.model_path), sess_options=options, providers=["CPUExecutionProvider"]
    )
    return piper.PiperVoice(session=session, config=config)


class PiperSpeaker:
    """A loaded Piper voice. Loading takes ~1-2 s; keep one per app and use it from one worker thread."""

    def __init__(
        self,
        voice: VoiceInfo,
        *,
        speed: float = 1.0,
        sentence_pause_s: float = 0.2,
        date_order: DateOrder = "month_first",
        rules: SpeechRules | None = None,
    ) -> None:
        piper = _import_piper()
        started = time.perf_counter()
        try:
            self._voice = load_piper_voice(piper, voice)
        except Exception as exc:  # onnxruntime raises its own types for a damaged model; JSON errors for a bad config
            raise ModelError(
                f"The voice '{voice.name}' could not be loaded ({type(exc).__name__})",
                "The voice files may be damaged: reinstall them (`clinic-assistant models install --force`)",
            ) from None
        self._piper = piper
        self._info = voice
        self._rules = rules or load_rules()
        self._normaliser = ClinicalNormaliser(self._rules, date_order)
        self.speed = speed
        self.sentence_pause_s = sentence_pause_s
        self.load_seconds = time.perf_counter() - started
        log.info("voice %s loaded in %.2f s", voice.name, self.load_seconds)

    @classmethod
    def from_settings(
        cls, settings: Settings, voice: VoiceInfo | None = None, models_dir: Path | None = None
    ) -> PiperSpeaker:
        """The voice named in the settings (or `voice`), with the settings' speed, pauses and date order."""
        tts = settings.tts
        if voice is None:
            from app.core.config import models_dir as default_models_dir

            voice = resolve_voice(tts.voice, models_dir or default_models_dir(settings))
        return cls(
            voice,
            speed=tts.speed,
            sentence_pause_s=tts.sentence_pause_s,
            date_order=tts.date_order,
        )

    @property
    def voice(self) -> VoiceInfo:
        return self._info

    @property
    def sample_rate(self) -> int:
        return int(self._voice.config.sample_rate)

    @property
    def normaliser(self) -> ClinicalNormaliser:
        return self._normaliser

    def synthesize(self, text: str, cancel: CancelToken | None = None) -> Iterator[AudioChunk]:
        return self.speak_stream([text], cancel)

    def speak_stream(self, tokens: Iterable[str], cancel: CancelToken | None = None) -> Iterator[AudioChunk]:
        streamer = SentenceStreamer(self._rules)
        index = 0
        for sentence in streamer.sentences(tokens, cancel):
            spoken = self._normaliser.normalise(sentence)
            if not any(ch.isalnum() for ch in spoken):
                continue  # markdown rules, a dropped placeholder: nothing to say
            parts = (split_lead(spoken, FAST_START_WORDS) if index == 0 else None) or (spoken,)
            for part_index, part in enumerate(parts):
                yield from self._speak_sentence(part, sentence, index, cancel, pause=part_index == 0)
            index += 1

    def _speak_sentence(
        self, spoken: str, sentence: str, index: int, cancel: CancelToken | None, pause: bool = True
    ) -> Iterator[AudioChunk]:
        if cancel:
            cancel.raise_if_cancelled()
        # Volume is not applied here: the Player scales at playback, so a change is heard at once.
        config = self._piper.SynthesisConfig(length_scale=self._voice.config.length_scale / max(self.speed, 0.1))
        pause_samples = int(self.sentence_pause_s * self.sample_rate) if index and pause else 0
        silence = np.zeros(pause_samples, dtype=np.float32)
        started = time.perf_counter()
        for part, piece in enumerate(self._voice.synthesize(spoken, syn_config=config)):
            if cancel:
                cancel.raise_if_cancelled()
            samples = np.asarray(piece.audio_float_array, dtype=np.float32)
            if part == 0 and len(silence):
                samples = np.concatenate([silence, samples])  # the pause before a sentence, never after the last
            yield AudioChunk(samples, self.sample_rate, index, sentence)
        log.debug("sentence %d synthesised in %.3f s", index, time.perf_counter() - started)
