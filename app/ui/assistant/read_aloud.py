"""Reading an answer aloud: synthesis on the TTS lane (which owns the Piper voice), playback on the audio thread.

`read` speaks a finished text; `read_stream` speaks an answer while it is still streaming: the window pushes each
piece into the returned feed and the voice starts at the first complete sentence.

Stop is immediate: it silences the player from the GUI thread (the core's `ReadAloud.stop` is thread-safe) and
cancels the job. The output stream comes from the composition root, so tests play into a fake stream."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from app.ui.engines import EngineHub
from app.ui.errors import ErrorPresenter
from app.ui.workers import Job, JobToken, StopHandle

if TYPE_CHECKING:
    from app.core.tts.base import Speaker
    from app.core.tts.read_aloud import ReadAloudResult
    from app.core.tts.text_feed import TextFeed

log = logging.getLogger(__name__)


class ReadAloudController(QObject):
    reading_changed = Signal(bool)
    sentence_spoken = Signal(int)  # index of a sentence whose audio reached the player
    finished = Signal(object)  # ReadAloudResult

    def __init__(self, hub: EngineHub, presenter: ErrorPresenter) -> None:
        super().__init__()
        self.hub = hub
        self.presenter = presenter
        self.job: Job | None = None
        self.handle: StopHandle | None = None
        self.feed: TextFeed | None = None

    @property
    def busy(self) -> bool:
        return self.job is not None

    def toggle(self, text: str) -> Job | None:
        if self.job is not None:
            self.stop()
            return None
        return self.read(text)

    def read(self, text: str) -> Job | None:
        if not text.strip() or self.job is not None:
            return None
        return self._start([text])

    def read_stream(self) -> TextFeed | None:
        """Start reading text that is still arriving: push pieces into the feed, close it when the text is
        complete. None when something is already being read."""
        if self.job is not None:
            return None
        from app.core.tts.text_feed import TextFeed

        feed = TextFeed()
        self._start(feed)
        self.feed = feed
        return feed

    def _start(self, tokens: Iterable[str]) -> Job:
        settings = self.hub.settings
        open_stream = self.hub.factories.output_stream()
        handle = StopHandle()

        def work(speaker: Speaker, token: JobToken) -> ReadAloudResult:
            from app.core.tts.playback import Player
            from app.core.tts.read_aloud import ReadAloud

            player = Player(speaker.sample_rate, settings.tts.output_device, settings.tts.volume, open_stream)
            reader = ReadAloud(speaker, player, on_chunk=lambda chunk: token.emit(chunk.sentence_index))
            handle.attach(reader)
            if token.cancelled:
                reader.stop()
            return reader.run(tokens)

        job = self.hub.run("tts", work, "reading aloud", slot="read-aloud")
        self.job, self.handle = job, handle
        job.yielded.connect(lambda index: self.sentence_spoken.emit(int(index)))
        job.finished.connect(self.finished)
        job.failed.connect(lambda exc: self.presenter.present(exc, "reading aloud"))
        job.ended.connect(lambda: self._ended(job))
        self.reading_changed.emit(True)
        return job

    def stop(self) -> None:
        if self.feed is not None:
            self.feed.cancel()  # the voice must not wait for text that will not come
        if self.handle is not None:
            self.handle.stop()
        if self.job is not None:
            self.job.cancel()

    def _ended(self, job: Job) -> None:
        if self.job is job:
            self.job = None
            self.handle = None
            self.feed = None
            self.reading_changed.emit(False)
