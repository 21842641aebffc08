"""What a speech recogniser promises: the `Transcriber` protocol and the result types every layer passes around.

Audio is always 16 kHz mono float32 in [-1, 1] (`app.core.audio.SAMPLE_RATE`); times are seconds from the start of
the audio handed to `transcribe`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from app.core.asr.vocabulary import Vocabulary
from app.core.config import AsrSettings
from app.core.errors import CancelToken

Samples = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Word:
    """One recognised word. `text` keeps Whisper's spacing and punctuation (" daily,")."""

    text: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True)
class Segment:
    """A stretch of recognised speech. `confidence` is exp(average token log-probability), 0..1."""

    start: float
    end: float
    text: str
    confidence: float
    words: tuple[Word, ...] = ()
    no_speech_prob: float = 0.0
    avg_logprob: float = 0.0
    compression_ratio: float = 1.0

    def shifted(self, offset: float) -> Segment:
        """The same segment with times moved by `offset` (an utterance decoded on its own, placed in a recording)."""
        words = tuple(Word(w.text, w.start + offset, w.end + offset, w.probability) for w in self.words)
        return Segment(
            self.start + offset, self.end + offset, self.text, self.confidence, words,
            self.no_speech_prob, self.avg_logprob, self.compression_ratio,
        )


@dataclass(frozen=True)
class DecodeOptions:
    """How to decode. Built from `AsrSettings` with `from_settings`; engines must not read settings themselves."""

    language: str | None = "en"  # None = detect
    beam_size: int = 1
    # Greedy only. Whisper's fallback re-decodes a failed window at rising temperatures: a full decode per step, and
    # on near-silence it samples exactly the invented text the guards exist to stop. The guards drop (or trim) a
    # failed passage instead.
    temperature: float = 0.0
    vad: bool = True
    vocabulary: Vocabulary = field(default_factory=Vocabulary)  # hint terms; also what the echo guard looks for
    word_timestamps: bool = True  # word probabilities (low-confidence marking) need the alignment pass
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    speech_threshold: float = 0.5  # VAD probability that counts as speech

    @classmethod
    def from_settings(cls, asr: AsrSettings, vocabulary: Vocabulary | None = None) -> DecodeOptions:
        return cls(
            language=None if asr.language == "auto" else asr.language,
            beam_size=asr.beam_size,
            vad=asr.vad,
            vocabulary=vocabulary or Vocabulary(),
            no_speech_threshold=asr.no_speech_threshold,
            log_prob_threshold=asr.log_prob_threshold,
            compression_ratio_threshold=asr.compression_ratio_threshold,
            speech_threshold=asr.vad_threshold,
        )

    def for_utterances(self) -> DecodeOptions:
        """Options for speech already cut at pauses by the VAD: no second VAD pass, one decode per utterance."""
        return replace(self, vad=False)


@dataclass
class Transcription:
    """The answer to `Transcriber.transcribe`: known up front (language, duration), then segments as they come.

    `segments` is a generator: decoding happens while it is iterated, and the cancel token is checked between
    segments. `dropped` counts segments the hallucination guards removed (filled in while iterating).
    """

    language: str
    language_probability: float
    duration_s: float
    segments: Iterator[Segment]
    dropped: list[str] = field(default_factory=list)  # guard names, one per dropped segment (never the text)


@runtime_checkable
class Transcriber(Protocol):
    """A loaded speech model. Not thread-safe: own it from one worker thread."""

    @property
    def name(self) -> str: ...

    @property
    def multilingual(self) -> bool: ...

    def transcribe(self, audio: Samples, options: DecodeOptions, cancel: CancelToken | None = None) -> Transcription:
        """Decode `audio` (16 kHz mono float32). Raises `Cancelled` from the segment iterator when cancelled."""
        ...
