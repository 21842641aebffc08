"""Brief me (Ctrl+B): a short paragraph about the patient shown, drafted by the model from the redacted summary,
shown in the patient view as a draft and read aloud while it is written.

Three steps on three lanes (app/core/services/briefing.py): the facts on the store's, their redaction on the
redaction lane, the paragraph on the model's, streamed and re-identified. A brief is kept per summary version for as
long as the app stays unlocked: asking again with nothing new in the notes shows and reads it at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from app.core.llm.base import Sampling
from app.core.services.briefing import (
    Briefing,
    BriefingCache,
    BriefingInput,
    RedactedBriefing,
    briefing_input,
    redact_briefing,
    stream_briefing,
)
from app.ui.assistant.read_aloud import ReadAloudController
from app.ui.engines import EngineHub
from app.ui.errors import ErrorPresenter
from app.ui.patients.briefing_box import CUT_SHORT, STOPPED, BriefingBox
from app.ui.patients.controller import PatientsController
from app.ui.workers import Job

if TYPE_CHECKING:
    from app.core.tts.text_feed import TextFeed

NOTHING_TO_BRIEF = "No accepted notes yet, so there is nothing to brief on."
CHOOSE_A_PATIENT = "Open a patient first: the brief is about the patient shown."


class BriefingController(QObject):
    finished = Signal(object)  # Briefing (shown, and being read aloud)

    def __init__(
        self,
        hub: EngineHub,
        presenter: ErrorPresenter,
        patients: PatientsController,
        read_aloud: ReadAloudController,
    ) -> None:
        super().__init__()
        self.hub = hub
        self.presenter = presenter
        self.patients = patients
        self.box: BriefingBox = patients.view.briefing
        self.read_aloud = read_aloud
        self.cache = BriefingCache()
        self.job: Job | None = None  # the step running now
        self.patient_id: int | None = None  # whose brief is shown or being written
        self._feed: TextFeed | None = None
        self._reading = False  # the voice is reading the brief (not a note)
        self.box.read_clicked.connect(self.toggle_reading)
        self.box.hide_clicked.connect(self.dismiss)
        read_aloud.reading_changed.connect(self._reading_changed)
        patients.shown.connect(self._patient_shown)

    @property
    def busy(self) -> bool:
        return self.job is not None

    def brief(self) -> Job | None:
        """Ctrl+B: brief on the patient shown; pressed again while the brief is written or read, stop."""
        if self.job is not None or self._reading:
            self.stop()
            return None
        patient_id = self.patients.current_patient
        if patient_id is None:
            self.presenter.notify(CHOOSE_A_PATIENT)
            return None
        self.patient_id = patient_id
        self.box.begin()  # at once: the doctor sees the brief is on its way
        today, offsets = date.today(), self.hub.settings.redaction.date_offsets
        return self._run(self.hub.run(
            "store", lambda store, _t: briefing_input(store.repositories(), patient_id, today, date_offsets=offsets),
            "preparing the brief", slot="briefing",
        ), self._have_facts, "preparing the brief")

    def _run(self, job: Job, then: Callable[..., None], doing: str) -> Job:
        self.job = job
        job.finished.connect(lambda value: self._answered(job, value, then))
        job.failed.connect(lambda exc: self._failed(job, exc, doing))
        job.cancelled.connect(lambda: self._end(job))
        return job

    def _answered(self, job: Job, value: object, then: Callable[..., None]) -> None:
        """Go on only with the step running now, for the patient still shown."""
        if self.job is not job:
            return
        self.job = None
        if self.patient_id == self.patients.current_patient:
            then(value)

    def _have_facts(self, source: BriefingInput | None) -> None:
        if source is None:
            self.box.say(NOTHING_TO_BRIEF)
            return
        cached = self.cache.get(source.key)
        if cached is not None:
            self._finish(cached, speak=True)
            return
        self._run(self.hub.run("redact", lambda redactor, _t: redact_briefing(source, redactor),
                               "redacting the summary for the brief", slot="briefing"),
                  self._draft, "redacting the summary for the brief")

    def _draft(self, redacted: RedactedBriefing) -> None:
        sampling = Sampling.from_settings(self.hub.settings.llm)
        job = self._run(self.hub.run("llm", lambda llm, token: stream_briefing(redacted, llm, sampling, token),
                                     "writing the brief", slot="briefing"),
                        lambda briefing: self._finish(briefing, speak=False), "writing the brief")
        job.yielded.connect(lambda piece: self._piece(job, piece))
        if not self.read_aloud.busy:  # speak as it is written (a note being read is not interrupted)
            self._feed = self.read_aloud.read_stream()
            self._reading = self._feed is not None
            self.box.set_reading(self._reading)

    def _piece(self, job: Job, piece: str) -> None:
        if self.job is not job:
            return
        self.box.append(piece)
        if self._feed is not None:
            self._feed.push(piece)

    def _finish(self, briefing: Briefing, *, speak: bool) -> None:
        self.cache.put(briefing)
        self.box.finish(briefing.text, "" if briefing.complete else CUT_SHORT)
        feed, self._feed = self._feed, None
        if feed is not None:
            feed.close()  # the voice reads to the end
        elif speak:
            self.toggle_reading()
        self.finished.emit(briefing)

    def _failed(self, job: Job, exc: object, doing: str) -> None:
        if self.job is job:
            self._end(job)
            self.box.clear()
            self.presenter.present(exc, doing)

    def _end(self, job: Job) -> None:
        if self.job is job:
            self.job = None
        self._stop_voice()

    # -- the voice ------------------------------------------------------------------------------------------------
    def toggle_reading(self) -> None:
        if self._reading:
            self._stop_voice()
        elif self.box.paragraph and not self.read_aloud.busy:
            self._reading = self.read_aloud.read(self.box.paragraph) is not None
            self.box.set_reading(self._reading)

    def _stop_voice(self) -> None:
        self._feed = None
        if self._reading:
            self.read_aloud.stop()

    def _reading_changed(self, reading: bool) -> None:
        if not reading:
            self._reading = False
        self.box.set_reading(self._reading)

    # -- stopping -------------------------------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop writing and reading; what was written stays shown."""
        if self.job is not None:
            self.job.cancel()
            self.job = None
            if self.box.paragraph.strip():
                self.box.finish(self.box.paragraph.strip(), STOPPED)
            else:
                self.box.clear()
        self._stop_voice()

    def _patient_shown(self, patient_id: int) -> None:
        if patient_id != self.patient_id:  # the brief was about someone else: the view has let it go
            self.stop()
            self.box.clear()
            self.patient_id = None

    def dismiss(self) -> None:
        self.stop()
        self.box.clear()

    def clear(self) -> None:
        """The app is locking: nothing about a patient stays, in the window or in memory."""
        self.dismiss()
        self.cache.clear()
        self.patient_id = None
