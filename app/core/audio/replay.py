"""Audio sources that replay samples or a file: the fake microphone of UI tests, benchmarks and demos.

In real-time mode a chunk is released when the wall clock reaches its end, exactly as a microphone would deliver
it; chunks a slow consumer has not taken yet wait (as in a capture queue) and are taken at once when it catches
up. `stop()` acts like the Stop button: audio after that moment is never "recorded".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from app.core.audio.base import SAMPLE_RATE, AudioChunk, Samples, meter_value
from app.core.audio.decode import decode_file
from app.core.errors import CancelToken

DEFAULT_CHUNK_S = 0.1


class ReplaySource:
    """Replays 16 kHz mono samples as `AudioChunk`s, in real time or as fast as the consumer takes them."""

    def __init__(
        self, samples: Samples, *, realtime: bool = False, chunk_s: float = DEFAULT_CHUNK_S, description: str = "replay"
    ) -> None:
        if chunk_s <= 0:
            raise ValueError("chunk_s must be positive")
        self._samples = np.ascontiguousarray(samples, dtype=np.float32)
        self._realtime = realtime
        self._chunk = max(1, round(chunk_s * SAMPLE_RATE))
        self._stopped = threading.Event()
        self._description = description
        self.started_at: float | None = None  # monotonic time of the first sample (real time): for latency figures

    @property
    def description(self) -> str:
        return self._description

    @property
    def duration_s(self) -> float:
        return self._samples.size / SAMPLE_RATE

    def stop(self) -> None:
        self._stopped.set()

    def chunks(self, cancel: CancelToken | None = None) -> Iterator[AudioChunk]:
        """One replay per source object: a Stop that came before this started still counts."""
        start = time.monotonic()
        self.started_at = start
        for offset in range(0, self._samples.size, self._chunk):
            if cancel is not None:
                cancel.raise_if_cancelled()
            block = self._samples[offset : offset + self._chunk]
            end_s = (offset + block.size) / SAMPLE_RATE
            captured_at: float | None = None
            if self._realtime:
                captured_at = start + end_s
                # Event.wait, not sleep: Stop must end the wait at once.
                if self._stopped.wait(max(0.0, captured_at - time.monotonic())):
                    return
            elif self._stopped.is_set():
                return
            yield AudioChunk(block, offset / SAMPLE_RATE, meter_value(block), captured_at)


class FileReplaySource(ReplaySource):
    """An audio file played as if it were being spoken into a microphone (decoded up front)."""

    def __init__(
        self, path: Path, *, realtime: bool = False, chunk_s: float = DEFAULT_CHUNK_S, cancel: CancelToken | None = None
    ) -> None:
        decoded = decode_file(Path(path), cancel)
        super().__init__(decoded.samples, realtime=realtime, chunk_s=chunk_s, description=f"file: {Path(path).name}")
