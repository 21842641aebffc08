"""The audio every layer passes around, and the `AudioSource` seam the UI injects (microphone or file replay).

All audio inside the app is 16 kHz mono float32 in [-1, 1]: what Whisper and the Silero VAD expect. Sources convert
whatever they read (a 48 kHz stereo microphone, a 44.1 kHz mp3) before handing it on.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from app.core.errors import CancelToken

SAMPLE_RATE = 16_000
Samples = npt.NDArray[np.float32]

# The level meter shows -60 dBFS (a quiet room) as empty and 0 dBFS as full.
METER_FLOOR_DB = -60.0


def level_dbfs(samples: Samples) -> float:
    """RMS level in dB relative to full scale; -inf-safe (silence gives the meter floor)."""
    if samples.size == 0:
        return METER_FLOOR_DB
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    if rms <= 0.0:
        return METER_FLOOR_DB
    return max(METER_FLOOR_DB, 20.0 * math.log10(rms))


def meter_value(samples: Samples) -> float:
    """0..1 for a level meter widget (linear in dB between the floor and full scale)."""
    return (level_dbfs(samples) - METER_FLOOR_DB) / -METER_FLOOR_DB


@dataclass(frozen=True)
class AudioChunk:
    """A block of captured audio.

    `start_s` is its position in the recording. `captured_at` is the `time.monotonic()` moment its last sample
    arrived (None for a source that is not real time): the live transcriber uses it to know how far behind it is.
    `dropped_s` is audio lost just before this chunk because the queue was full or the device overran: the UI must
    show it, never hide it.
    """

    samples: Samples
    start_s: float
    level: float
    captured_at: float | None = None
    dropped_s: float = 0.0

    @property
    def duration_s(self) -> float:
        return self.samples.size / SAMPLE_RATE

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


@runtime_checkable
class AudioSource(Protocol):
    """Something that yields 16 kHz mono chunks until stopped: a microphone, or a file replayed as a fake device.

    `chunks()` runs on a worker thread; `stop()` may be called from any thread. After `stop()` the iterator yields
    every chunk already captured, then ends: nothing recorded before Stop is lost. A failure (no microphone, the
    device vanished) is an `AudioError` raised after the chunks captured so far were yielded.
    """

    @property
    def description(self) -> str:
        """A short name for the UI ("USB microphone", "file: visit.wav")."""
        ...

    def chunks(self, cancel: CancelToken | None = None) -> Iterator[AudioChunk]: ...

    def stop(self) -> None: ...
