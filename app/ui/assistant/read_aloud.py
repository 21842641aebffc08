"""Reading an answer aloud: synthesis on the TTS lane (which owns the Piper voice), playback on the audio thread.

Stop is immediate: it silences the player from the GUI thread (the core's `ReadAloud.stop` is thread-safe) and
cancels the job. The output stream comes from the composition root, so tests play into a fake stream."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.ui.engines import EngineHub
from app.ui.errors import ErrorPresenter
from app.ui.workers import Job, JobToken, StopHandle

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
        settings = self.hub.settings
        open_stream = self.hub.factories.output_stream()
        handle = StopHandle()

        def work(speaker: Any, token: JobToken) -> Any:
            from app.core.tts.playback import Player
            from app.core.tts.read_aloud import ReadAloud

            player = Player(speaker.sample_rate, settings.tts.output_device, settings.tts.volume, open_stream)
            reader = ReadAloud(speaker, player, on_chunk=lambda chunk: token.emit(chunk.sentence_index))
            handle.attach(reader)
            if token.cancelled:
                reader.stop()
            return reader.run([text])

        job = self.hub.run("tts", work, "reading aloud", slot="read-aloud")
        self.job, self.handle = job, handle
        job.yielded.connect(lambda index: self.sentence_spoken.emit(int(index)))
        job.finished.connect(self.finished)
        job.failed.connect(lambda exc: self.presenter.present(exc, "reading aloud"))
        job.ended.connect(lambda: self._ended(job))
        self.reading_changed.emit(True)
        return job

    def stop(self) -> None:
        if self.handle is not None:
            self.handle.stop()
        if self.job is not None:
            self.job.cancel()

    def _ended(self, job: Job) -> None:
        if self.job is job:
            self.job = None
            self.handle = None
            self.reading_changed.emit(False)
