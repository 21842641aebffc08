"""One answer read aloud: synthesis on the calling thread (the TTS worker), playback on the audio thread.

`run` takes the answer's token stream (or a one-item list with the whole text), queues each sentence's audio as
soon as it is synthesised, and returns when everything has been heard or `stop` was called. `stop`, `pause`,
`resume`, `volume` and `speed` may be called from any thread (the window's buttons).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from app.core.errors import AudioError, Cancelled, CancelToken
from app.core.tts.base import AudioChunk, Speaker
from app.core.tts.playback import Player

log = logging.getLogger(__name__)

STALL_SECONDS = 5.0  # no audio played for this long while not paused: the device has gone away


@dataclass
class ReadAloudResult:
    stopped: bool
    sentences: int
    audio_seconds: float
    first_audio_s: float | None  # from `run` being called to the first sentence reaching the player


class ReadAloud:
    def __init__(self, speaker: Speaker, player: Player, on_chunk: Callable[[AudioChunk], None] | None = None) -> None:
        self.speaker = speaker
        self.player = player
        self._on_chunk = on_chunk
        self._cancel = CancelToken()

    def run(self, tokens: Iterable[str]) -> ReadAloudResult:
        started = time.perf_counter()
        first: float | None = None
        sentences: set[int] = set()
        seconds = 0.0
        self.player.open()  # no speaker -> AudioError now, before any synthesis is spent
        try:
            for chunk in self.speaker.speak_stream(tokens, self._cancel):
                if first is None:
                    first = time.perf_counter() - started
                self.player.enqueue(chunk)
                sentences.add(chunk.sentence_index)
                seconds += chunk.duration_s
                if self._on_chunk:
                    self._on_chunk(chunk)
            self.player.end_of_input()
            self._wait_until_played()
        except Cancelled:
            pass
        except BaseException:
            self.player.stop()  # never leave a device playing after a failure or Ctrl+C
            raise
        stopped = self._cancel.cancelled
        if stopped:
            self.player.stop()
        log.info("read aloud: %d sentence(s), %.1f s of audio, stopped=%s", len(sentences), seconds, stopped)
        return ReadAloudResult(stopped, len(sentences), round(seconds, 3), first)

    def stop(self) -> None:
        """Silence at once; synthesis stops at the next sentence or chunk."""
        self._cancel.cancel()
        self.player.stop()

    def pause(self) -> None:
        self.player.pause()

    def resume(self) -> None:
        self.player.resume()

    @property
    def volume(self) -> float:
        return self.player.volume

    @volume.setter
    def volume(self, value: float) -> None:
        self.player.volume = value

    @property
    def speed(self) -> float:
        return self.speaker.speed

    @speed.setter
    def speed(self, value: float) -> None:
        """Applies from the next sentence synthesised (audio already queued keeps its pace)."""
        self.speaker.speed = min(max(float(value), 0.5), 2.0)

    def _wait_until_played(self) -> None:
        last_played, last_progress = self.player.played_samples, time.monotonic()
        while not self.player.wait(timeout=0.5):
            now = time.monotonic()
            if self.player.played_samples != last_played or self.player.paused:
                last_played, last_progress = self.player.played_samples, now
            elif now - last_progress > STALL_SECONDS:
                self.player.stop()
                raise AudioError(
                    "The audio output stopped responding", "Check that the speakers are still connected"
                )
