"""The window's adapter over the redaction review (`app.core.services.redaction_review`): the doctor's review of
the encounter's text before anything reaches the language model.

Every use of the redactor runs on the redaction lane, the map is saved on the store lane; this controller only
turns the service's steps into jobs and the panel's clicks into the doctor's choices. What leaves it is the
service's `Approved` value, from which each consumer builds its own map.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QObject, Signal

from app.core.config import Settings
from app.core.redact.base import Redactor
from app.core.services.prior_context import PriorContext, prior_context
from app.core.services.redaction_review import (
    Approved,
    Detected,
    RedactedQuestion,
    ReviewChoices,
    ReviewSession,
    save_map,
)
from app.core.storage.store import Store
from app.ui.encounter.redaction_panel import RedactionPanel
from app.ui.engines import EngineHub
from app.ui.errors import ErrorPresenter
from app.ui.workers import Job, JobToken

__all__ = ["Approved", "RedactionController"]

log = logging.getLogger(__name__)

PROGRESS_FROM_CHARS = 50_000  # below this redaction takes well under a second: no percentages
PROGRESS_STEP = 5


class RedactionController(QObject):
    approved = Signal(object)  # Approved
    review_requested = Signal()  # the view should show the review
    skip_review_changed = Signal(bool)

    def __init__(self, hub: EngineHub, presenter: ErrorPresenter, panel: RedactionPanel) -> None:
        super().__init__()
        self.hub = hub
        self.presenter = presenter
        self.panel = panel
        self.encounter_id: int | None = None
        self.session = ReviewSession(None, None)
        self.current: Approved | None = None
        self.choices = ReviewChoices()
        self._waiting: list[Callable[[Approved], object]] = []
        panel.span_clicked.connect(self.toggle)
        panel.mark_requested.connect(self.mark)
        panel.approve_clicked.connect(self.approve)
        panel.recheck_clicked.connect(lambda: self.review(self.choices.text))
        panel.skip_review_changed.connect(self.skip_review_changed)

    @property
    def map_json(self) -> str | None:
        return self.session.map_json

    # -- encounter -----------------------------------------------------------------------------------------------
    def open_encounter(self, encounter_id: int, reference: date, map_json: str | None) -> None:
        self.encounter_id = encounter_id
        self.session = ReviewSession(reference, map_json, self._settings().redaction.date_offsets)
        self.current = None
        self.choices = ReviewChoices()
        self._waiting.clear()
        self.panel.clear()
        self.panel.skip.blockSignals(True)
        self.panel.skip.setChecked(not self._settings().redaction.review_before_sending)
        self.panel.skip.blockSignals(False)

    def clear(self) -> None:
        self.encounter_id = None
        self.session = ReviewSession(None, None)
        self.current = None
        self.choices = ReviewChoices()
        self._waiting.clear()
        self.panel.clear()

    def _settings(self) -> Settings:
        return self.hub.settings

    def _session(self) -> ReviewSession:
        """The session with the date-offset setting as it is now (the doctor may have changed it)."""
        return ReviewSession(self.session.reference, self.session.map_json, self._settings().redaction.date_offsets)

    # -- the gate before the model -------------------------------------------------------------------------------
    def ensure(self, text: str, then: Callable[[Approved], object]) -> None:
        """Call `then(approved)` once `text` is approved: at once if it already is, after the doctor's review, or
        automatically when the review is switched off."""
        if self.current is not None and self.current.text == text:
            then(self.current)
            return
        self._waiting.append(then)
        if self._settings().redaction.review_before_sending:
            self.review(text)
            self.review_requested.emit()
        else:
            self.review(text, approve_after=True)

    def cancel_waiting(self) -> None:
        self._waiting.clear()

    # -- review --------------------------------------------------------------------------------------------------
    def review(self, text: str, approve_after: bool = False) -> Job:
        session = self._session()

        def work(redactor: Redactor, token: JobToken) -> Detected:
            shown = [-1]

            def progress(fraction: float) -> None:  # on the redaction lane: only whole steps become signals
                percent = int(fraction * 100) // PROGRESS_STEP * PROGRESS_STEP
                if percent != shown[0] and len(text) >= PROGRESS_FROM_CHARS:
                    shown[0] = percent
                    token.emit(percent)

            return session.detect(redactor, text, progress)

        self.choices = ReviewChoices(text)
        self.panel.set_busy(True, "Looking for identifiers…")
        job = self.hub.run("redact", work, "finding identifiers", slot="redaction")
        job.yielded.connect(lambda percent: self.panel.set_busy(True, f"Looking for identifiers… {percent}%"))

        def detected(result: Detected) -> None:
            self.choices = ReviewChoices(text, result.spans, aliases=result.aliases)
            self.panel.show_review(text, self.choices.spans, self.choices.kept, result.redacted)
            self.panel.set_busy(False)
            if approve_after:
                self.approve()

        job.finished.connect(detected)
        job.failed.connect(self._failed)
        return job

    def _failed(self, exc: object) -> None:
        self.panel.set_busy(False, "The identifiers could not be checked.")
        self._waiting.clear()
        self.presenter.present(exc, "checking the text for identifiers")

    def toggle(self, index: int) -> Job | None:
        """Keep a detected identifier in the text (a false positive), or hide it again."""
        if not self.choices.toggle(index):
            return None
        return self._refresh_preview()

    def mark(self, start: int, end: int, kind: str) -> Job | None:
        """The doctor marks a missed identifier."""
        try:
            self.choices.mark(start, end, kind)
        except Exception as exc:  # InputError: a selection outside the text
            self.presenter.present(exc, "marking the identifier")
            return None
        return self._refresh_preview()

    def _refresh_preview(self) -> Job:
        session, choices = self._session(), self.choices
        text, spans, aliases = choices.text, choices.active(), choices.aliases
        job = self.hub.run("redact", lambda _r, _t: session.preview(text, spans, aliases), "updating the preview",
                           slot="redaction-preview")
        job.finished.connect(lambda redacted: self.panel.show_review(text, choices.spans, choices.kept, redacted))
        job.failed.connect(self._failed)
        return job

    def approve(self) -> Job | None:
        if self.encounter_id is None:
            return None
        session, encounter_id = self._session(), self.encounter_id
        text, spans, aliases = self.choices.text, self.choices.active(), self.choices.aliases
        self.panel.set_busy(True, "Saving the approved text…")
        job = self.hub.run("redact", lambda _r, _t: session.approve(text, spans, aliases), "applying the review",
                           slot="redaction")
        job.finished.connect(lambda approved: self._save(encounter_id, approved))
        job.failed.connect(self._failed)
        return job

    def _save(self, encounter_id: int, approved: Approved) -> None:
        job = self._save_map(encounter_id, approved.map_json)

        def saved(_value: object) -> None:
            if self.encounter_id != encounter_id:
                return  # the doctor moved on: the map is stored, nothing to show
            self.session = self.session.adopt(approved.map_json)
            self.current = approved
            self.panel.set_busy(False, f"Approved: {approved.hidden} identifier(s) hidden from the model.")
            self.panel.set_approved(True)
            log.info("redaction approved: %d identifiers hidden", approved.hidden)
            self.approved.emit(approved)
            waiting, self._waiting = self._waiting, []
            for then in waiting:
                then(approved)

        job.finished.connect(saved)
        job.failed.connect(self._failed)

    def _save_map(self, encounter_id: int, map_json: str) -> Job:
        def work(store: Store, _token: JobToken) -> None:
            save_map(store.repositories(), encounter_id, map_json)

        return self.hub.run("store", work, "saving the redaction map")

    # -- the earlier notes' summary drafts are given ---------------------------------------------------------------
    def prior_context(self) -> Job | None:
        """The patient's earlier accepted notes, summarised and redacted with the encounter's map (services/
        prior_context.py), on the redaction lane; the map's new placeholders are adopted and saved. Finishes with
        a `PriorContext`. None without an encounter."""
        if self.encounter_id is None:
            return None
        session, store, encounter_id = self._session(), self.hub.store_worker, self.encounter_id
        job = self.hub.run(
            "redact",
            lambda redactor, _t: prior_context(redactor, store, encounter_id, session.pseudonyms()),
            "reading the earlier notes", slot="redaction-prior",
        )

        def adopt(context: PriorContext) -> None:
            if self.encounter_id != encounter_id or not context.block:
                return
            self.session = self.session.adopt(context.map_json)
            save = self._save_map(encounter_id, context.map_json)
            save.failed.connect(lambda exc: self.presenter.present(exc, "saving the redaction map"))

        job.finished.connect(adopt)
        return job

    # -- questions in the chat -----------------------------------------------------------------------------------
    def redact_question(self, question: str) -> Job:
        """A chat question, redacted with the encounter's map (the same person keeps the same placeholder).
        Finishes with a `RedactedQuestion`."""
        session = self._session()
        job = self.hub.run("redact", lambda redactor, _t: session.redact_question(redactor, question),
                           "redacting the question")
        encounter_id = self.encounter_id

        def adopt(result: RedactedQuestion) -> None:
            if encounter_id is None or self.encounter_id != encounter_id:
                return
            self.session = self.session.adopt(result.map_json)
            save = self._save_map(encounter_id, result.map_json)
            save.failed.connect(lambda exc: self.presenter.present(exc, "saving the redaction map"))

        job.finished.connect(adopt)
        return job
