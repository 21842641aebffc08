"""Conversion of any sample rate and channel count to 16 kHz mono, in one piece or streaming.

FFmpeg's resampler (through PyAV, the decoder faster-whisper itself uses) low-pass filters before decimating, so a
48 kHz microphone does not alias into the speech band the way naive sample dropping would.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.core.audio.base import SAMPLE_RATE, Samples
from app.core.errors import EngineUnavailable


def import_av() -> Any:
    try:
        import av
    except (ImportError, OSError) as exc:
        raise EngineUnavailable(
            f"The audio decoder (PyAV) cannot be loaded ({type(exc).__name__})",
            "Reinstall the application; the 'av' package must be installed",
        ) from None
    return av


def to_mono(block: np.ndarray) -> Samples:
    """Average the channels of a (frames, channels) block; a 1-D block is already mono."""
    data = np.asarray(block, dtype=np.float32)
    if data.ndim == 1:
        return data
    return np.ascontiguousarray(data.mean(axis=1, dtype=np.float32))


class StreamResampler:
    """Resamples successive mono float32 blocks from `source_rate` to 16 kHz, keeping filter state between blocks."""

    def __init__(self, source_rate: int) -> None:
        self.source_rate = int(source_rate)
        self._passthrough = self.source_rate == SAMPLE_RATE
        self._av: Any = None
        self._resampler: Any = None
        self._pts = 0
        if not self._passthrough:
            self._av = import_av()
            self._resampler = self._av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)

    def _frames_to_samples(self, frames: list[Any]) -> Samples:
        if not frames:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype(np.float32, copy=False)

    def push(self, mono: Samples) -> Samples:
        if self._passthrough:
            return mono
        if mono.size == 0:
            return np.zeros(0, dtype=np.float32)
        frame = self._av.AudioFrame.from_ndarray(
            np.ascontiguousarray(mono, dtype=np.float32).reshape(1, -1), format="flt", layout="mono"
        )
        frame.sample_rate = self.source_rate
        frame.pts = self._pts
        self._pts += mono.size
        return self._frames_to_samples(self._resampler.resample(frame))

    def flush(self) -> Samples:
        """The samples still inside the filter; call once at the end."""
        if self._passthrough:
            return np.zeros(0, dtype=np.float32)
        return self._frames_to_samples(self._resampler.resample(None))


def resample(samples: Samples, source_rate: int) -> Samples:
    """Whole-array conversion to 16 kHz (mono input)."""
    resampler = StreamResampler(source_rate)
    out = resampler.push(samples)
    tail = resampler.flush()
    return np.concatenate([out, tail]) if tail.size else out
