"""Keeping the patient summary up to date: when a note is accepted its facts are extracted in the background, then
the summary of the patient shown is read again. The window never waits for it.

The parsers' reading comes first, on the tools lane (milliseconds; it does not queue behind a draft on the model's
lane), so the summary updates at once. With `model_step` on, the language model then reads the note again for what
the parsers miss: the note redacted on the redaction lane, the model on the model's lane, the facts saved on the
store lane. That second reading gives way to the doctor: it is stopped when a draft or a question starts and runs
again once the model is free; if it fails, the parsers' facts stay. A first reading that fails leaves the note "not
summarised" (Retry in the patient view); nothing else changes. Undoing an acceptance only needs the summary read
again: it draws on accepted versions only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from app.core.errors import Cancelled
from app.core.services.summaries import (
    ExtractionJob,
    ExtractionOutcome,
    extraction_job,
    redact_for_extraction,
    run_extraction,
    save_extraction,
)
from app.core.storage.facts import ExtractionStatus
from app.core.storage.records import Note
from app.core.summary.extract import Extraction
from app.core.summary.items import PatientSummary
from app.ui.engines import EngineHub
from app.ui.errors import ErrorPresenter
from app.ui.patients.controller import PatientsController
from app.ui.patients.summary_rows import failed_notes
from app.ui.workers import Job, JobToken

if TYPE_CHECKING:
    from app.core.llm.base import LanguageModel
    from app.core.storage.store import Store

log = logging.getLogger(__name__)

Result = Extraction | BaseException
_REDACTING = "redacting a note for the summary"
_MODEL_READING = "reading a note with the language model"


def _parse(job: ExtractionJob, token: JobToken) -> Result:
    """The parsers alone. A failure is returned, not raised: it is saved as "not summarised"."""
    try:
        return run_extraction(job, None, None, token)
    except Cancelled:
        raise
    except Exception as exc:
        return exc


class SummaryController(QObject):
    extracted = Signal(object)  # ExtractionOutcome, once saved

    def __init__(
        self, hub: EngineHub, presenter: ErrorPresenter, patients: PatientsController, *, model_step: bool = False
    ) -> None:
        super().__init__()
        self.hub = hub
        self.presenter = presenter
        self.patients = patients
        # The bench (docs/summaries.md) finds the parsers alone the better default with the shipped model.
        self.model_step = model_step
        self.shown: PatientSummary | None = None  # the summary on screen
        self._jobs: dict[int, Job] = {}  # note version -> the step of its extraction running now
        self._second: list[int] = []  # versions waiting for the model to be free for their second reading
        self._llm_busy = False
        patients.summary_shown.connect(self._summary_shown)
        patients.view.retry_requested.connect(self.retry)

    # -- what starts an extraction ------------------------------------------------------------------------------
    def note_accepted(self, note: Note) -> Job | None:
        if note.accepted_version != note.latest.version:
            return None
        return self.extract(note.latest.id)

    def note_unaccepted(self, _note: Note) -> Job | None:
        """Its facts drop out of the summary at once: the summary draws on accepted versions only."""
        return self.patients.refresh_summary()

    def retry(self, patient_id: int) -> list[Job]:
        shown = self.shown
        if shown is None or shown.patient_id != patient_id:
            return []
        return [job for ref in failed_notes(shown) if (job := self.extract(ref.note_version_id)) is not None]

    def _summary_shown(self, summary: PatientSummary) -> None:
        """Accepted notes still waiting (the app closed during an extraction, or accepted elsewhere) are read now."""
        self.shown = summary
        for ref in summary.not_summarised:
            if ref.status == ExtractionStatus.PENDING:
                self.extract(ref.note_version_id)

    # -- the first reading: the parsers ---------------------------------------------------------------------------
    def extract(self, note_version_id: int) -> Job | None:
        if note_version_id in self._jobs:
            return None  # already on its way
        job = self._step(note_version_id, self.hub.run(
            "store", lambda store, _t: extraction_job(store.repositories(), note_version_id),
            "reading a note for the summary",
        ))
        job.finished.connect(self._parse_note)
        return job

    def _parse_note(self, job: ExtractionJob) -> None:
        if not job.accepted:
            self._done(job.note_version_id)  # un-accepted meanwhile: nothing to extract
            return
        step = self._step(job.note_version_id,
                          self.hub.run_on("tools", lambda token: _parse(job, token), "summarising a note"))
        step.finished.connect(lambda result: self._save(job, result))

    def _save(self, job: ExtractionJob, result: Result, second_reading: bool = False) -> None:
        step = self._step(job.note_version_id, self.hub.run(
            "store", lambda store, _t: save_extraction(store.repositories(), job, result,
                                                       second_reading=second_reading),
            "saving the note's summary facts",
        ))
        step.finished.connect(lambda outcome: self._saved(job, outcome, second_reading))

    def _saved(self, job: ExtractionJob, outcome: ExtractionOutcome, second_reading: bool) -> None:
        self._done(job.note_version_id)
        self.extracted.emit(outcome)
        self.patients.refresh_summary(job.patient_id)
        if self.model_step and not second_reading and outcome.status == ExtractionStatus.DONE:
            self._second.append(job.note_version_id)
            self._next_second_reading()

    # -- the second reading: the model step -----------------------------------------------------------------------
    def llm_busy(self, busy: bool) -> None:
        """The doctor's work on the model (a draft, a question) goes first: a second reading in progress stops and
        waits until the model is free again."""
        self._llm_busy = busy
        if busy:
            for version, job in list(self._jobs.items()):
                if job.name in (_REDACTING, _MODEL_READING):
                    job.cancel()
                    self._done(version)
                    self._second.insert(0, version)
        else:
            self._next_second_reading()

    def _next_second_reading(self) -> None:
        while self._second and not self._llm_busy:
            version = self._second.pop(0)
            if version in self._jobs:
                continue
            job = self._step(version, self.hub.run(
                "store", self._model_job(version, self.hub.settings.redaction.date_offsets),
                "reading a note for the summary",
            ))
            job.finished.connect(self._redact_note)
            return  # one at a time: the model's lane has other work

    @staticmethod
    def _model_job(version: int, date_offsets: bool) -> Callable[[Store, JobToken], ExtractionJob]:
        """The note and the encounter's map, read on the store's thread (the settings read here, on this one)."""
        return lambda store, _t: extraction_job(store.repositories(), version, with_model=True,
                                                date_offsets=date_offsets)

    def _waits(self, job: ExtractionJob) -> bool:
        """Not accepted any more (nothing to read), or the doctor needs the model now (read later)."""
        if job.accepted and not self._llm_busy:
            return False
        self._done(job.note_version_id)
        if job.accepted:
            self._second.insert(0, job.note_version_id)
        return True

    def _redact_note(self, job: ExtractionJob) -> None:
        if self._waits(job):
            return
        step = self._step(job.note_version_id, self.hub.run(
            "redact", lambda redactor, _t: redact_for_extraction(job, redactor), _REDACTING))
        step.finished.connect(self._model_reading)

    def _model_reading(self, job: ExtractionJob) -> None:
        if self._waits(job):
            return

        def work(llm: LanguageModel, token: JobToken) -> Result:
            try:
                return run_extraction(job, llm, None, token)
            except Cancelled:
                raise
            except Exception as exc:
                return exc

        step = self._step(job.note_version_id, self.hub.run("llm", work, _MODEL_READING))
        step.finished.connect(lambda result: self._save(job, result, second_reading=True))

    # -- bookkeeping ----------------------------------------------------------------------------------------------
    def _step(self, version: int, job: Job) -> Job:
        """`job` is now the running step of `version`'s extraction. A step that fails (the store, a bug) is said
        through the one error path; a cancelled one just ends the extraction (it stays pending)."""
        self._jobs[version] = job
        job.failed.connect(lambda exc: self._failed(version, job, exc))
        job.cancelled.connect(lambda: self._ended(version, job))
        return job

    def _failed(self, version: int, job: Job, exc: object) -> None:
        self._ended(version, job)
        self.presenter.present(exc, "summarising the note")

    def _ended(self, version: int, job: Job) -> None:
        if self._jobs.get(version) is job:
            del self._jobs[version]
            self._next_second_reading()

    def _done(self, version: int) -> None:
        self._jobs.pop(version, None)

    @property
    def busy(self) -> bool:
        return bool(self._jobs)

    def clear(self) -> None:
        """The app is locking: every extraction stops (each stays pending and runs again when its patient is shown)."""
        for job in list(self._jobs.values()):
            job.cancel()
        self._jobs.clear()
        self._second.clear()
        self.shown = None

