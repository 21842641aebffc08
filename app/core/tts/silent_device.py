"""An output stream that plays nothing, at a sound card's pace (or faster): the player's render thread works as it
would with speakers. The GUI benchmark uses it on machines with no sound card; the UI tests use it 10x faster."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import numpy as np

from app.core.tts.playback import OpenedStream, RenderFn, StreamOpener

log = logging.getLogger(__name__)
BLOCK = 1024


class SilentDevice:
    def __init__(
        self,
        sample_rate: int,
        render: RenderFn,
        on_finished: Callable[[], None],
        speed: float = 1.0,
        played: list[int] | None = None,
    ) -> None:
        """`played`, when given, gets how many non-zero samples each block held (tests check that sound came)."""
        self._render = render
        self._on_finished = on_finished
        self._pace_s = BLOCK / sample_rate / speed
        self._played = played
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._play, name="silent-device", daemon=True)
        self._thread.start()

    def _play(self) -> None:
        block = np.zeros(BLOCK, dtype=np.float32)
        due = time.monotonic()
        while not self._stopped.is_set():
            try:
                more = self._render(block)
            except Exception:  # as a sound card's callback would: the stream ends, whoever waits is told
                log.exception("rendering audio failed")
                self._on_finished()
                return
            if self._played is not None:
                self._played.append(int(np.count_nonzero(block)))
            if not more:
                self._on_finished()
                return
            due += self._pace_s
            self._stopped.wait(max(0.0, due - time.monotonic()))

    def abort(self) -> None:
        self._stopped.set()

    def close(self) -> None:
        self._stopped.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)


def silent_opener(speed: float = 1.0, played: list[int] | None = None) -> StreamOpener:
    """A `StreamOpener` whose streams are silent devices."""

    def opener(sample_rate: int, device: str, render: RenderFn, on_finished: Callable[[], None]) -> OpenedStream:
        return OpenedStream(SilentDevice(sample_rate, render, on_finished, speed, played), sample_rate)

    return opener
