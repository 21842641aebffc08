"""An audio source that notes the moment it runs dry: the latency a doctor feels is counted from there."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from app.core.audio.base import AudioChunk, AudioSource
from app.core.errors import CancelToken


class EndMarkingSource:
    """Passes a source through and notes the moment it runs dry (the doctor pressed Stop, or the file ended):
    the latency a doctor feels is counted from there, not from when the recogniser caught up."""

    def __init__(self, source: AudioSource, on_end: Callable[[], None]) -> None:
        self._source = source
        self._on_end = on_end

    @property
    def description(self) -> str:
        return self._source.description

    def chunks(self, cancel: CancelToken | None = None) -> Iterator[AudioChunk]:
        yield from self._source.chunks(cancel)
        self._on_end()

    def stop(self) -> None:
        self._source.stop()
