"""An audio source that notes when the doctor's last word was spoken: the latency a doctor feels counts from there.

Not from the moment the source runs dry: the live transcriber asks for the chunk after the last one only when its
decode of the previous one is done, so "ran dry" can come a second or two after the speech ended (and the trailing
silence before Stop is no wait the doctor feels either). The moment is read from the chunk's capture time (the
wall clock when its last sample arrived) less the silence after the last loud frame in it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import numpy as np

from app.core.audio.base import SAMPLE_RATE, AudioChunk, AudioSource
from app.core.errors import CancelToken

FRAME = 480  # 30 ms frames at 16 kHz
# A frame louder than this holds speech: dictation into a microphone sits around -35 to -10 dBFS, a quiet room
# below -50. A measure, not a gate: nothing is cut on it.
SPEECH_DBFS = -45.0
_SPEECH_RMS = 10 ** (SPEECH_DBFS / 20)


def samples_after_speech(samples: np.ndarray) -> int | None:
    """How many samples follow the last frame that holds speech; None when no frame does."""
    usable = samples.size - samples.size % FRAME
    if usable == 0:
        return None
    frames = samples[:usable].reshape(-1, FRAME).astype(np.float64)
    loud = np.flatnonzero(np.sqrt(np.mean(frames * frames, axis=1)) >= _SPEECH_RMS)
    if loud.size == 0:
        return None
    return int(samples.size - (loud[-1] + 1) * FRAME)


class EndMarkingSource:
    """Passes a source through; when it runs dry, calls `on_end(seconds_ago)` with how long ago (on the monotonic
    clock) the last sample holding speech was captured, or 0 when no chunk held speech."""

    def __init__(self, source: AudioSource, on_end: Callable[[float], None]) -> None:
        self._source = source
        self._on_end = on_end
        self.last_speech_at: float | None = None  # time.monotonic() of the last sample holding speech

    @property
    def description(self) -> str:
        return self._source.description

    def chunks(self, cancel: CancelToken | None = None) -> Iterator[AudioChunk]:
        for chunk in self._source.chunks(cancel):
            self._note(chunk)
            yield chunk
        now = time.monotonic()
        self._on_end(max(0.0, now - self.last_speech_at) if self.last_speech_at is not None else 0.0)

    def _note(self, chunk: AudioChunk) -> None:
        after = samples_after_speech(chunk.samples)
        if after is None:
            return
        # A real-time source says when the chunk's last sample arrived; otherwise it is being fed now.
        arrived = chunk.captured_at if chunk.captured_at is not None else time.monotonic()
        self.last_speech_at = arrived - after / SAMPLE_RATE

    def stop(self) -> None:
        self._source.stop()
