"""What every read-aloud engine promises: text or a token stream in, audio chunks out, cancellable between chunks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from app.core.errors import CancelToken

PCM16_MAX = 32767


@dataclass(frozen=True)
class AudioChunk:
    """Mono float32 samples in [-1, 1] for one sentence (or part of one), in the order they are to be played.

    `sentence` is the text as displayed (so a window can highlight what is being read); it lives in memory only and
    is never logged.
    """

    samples: np.ndarray
    sample_rate: int
    sentence_index: int
    sentence: str = ""

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate

    def pcm16(self) -> bytes:
        """Little-endian signed 16-bit samples, as a WAV file stores them."""
        clipped = np.clip(self.samples, -1.0, 1.0)
        return (clipped * PCM16_MAX).astype("<i2").tobytes()


@dataclass(frozen=True)
class VoiceInfo:
    """A Piper voice found in the models folder. `problem` says why it cannot be used (empty when it can)."""

    name: str
    model_path: Path
    config_path: Path
    sample_rate: int = 0
    language: str = ""
    quality: str = ""
    speakers: int = 1
    problem: str = ""

    @property
    def usable(self) -> bool:
        return not self.problem


@runtime_checkable
class Speaker(Protocol):
    """A loaded voice. Each chunk is yielded as soon as it is synthesised; the cancel token is checked between
    sentences and between chunks (raising `Cancelled`). Not for use from two threads at once."""

    @property
    def voice(self) -> VoiceInfo: ...

    @property
    def sample_rate(self) -> int: ...

    speed: float  # 1.0 = the voice's own rate; a change applies from the next sentence

    def synthesize(self, text: str, cancel: CancelToken | None = None) -> Iterator[AudioChunk]:
        """A finished text: normalised and split into sentences like a stream."""
        ...

    def speak_stream(self, tokens: Iterable[str], cancel: CancelToken | None = None) -> Iterator[AudioChunk]:
        """A token stream (a model answer as it is generated): each sentence is synthesised as soon as it ends."""
        ...
