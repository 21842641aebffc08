"""Redaction of the encounter's text before anything reaches the language model, with the doctor's review.

Every use of the redactor and of the pseudonym map runs on the redaction lane. What leaves that lane is an
`Approved` value: the exact text approved, what the model sees, and the map as JSON, from which each consumer (the
LLM lane re-identifying tokens) builds its own copy, so no map object is shared between threads. The approved map
is saved in the store with the encounter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.core.config import Settings
from app.core.redact.base import Kind, Span, manual_span
from app.ui.encounter.redaction_panel import RedactionPanel
from app.ui.engines import EngineHub
from app.ui.errors import ErrorPresenter
from app.ui.workers import Job

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Approved:
    text: str  # the transcript exactly as approved
    redacted: str  # what the model sees
    map_json: str
    hidden: int  # identifiers hidden


@dataclass(frozen=True)
class _Detected:
    spans: list[Span]
    redacted: str


def new_map(map_json: str | None, reference: date | None, date_offsets: bool) -> Any:
    from app.core.redact.pseudonyms import PseudonymMap

    return PseudonymMap.from_json(map_json) if map_json else PseudonymMap(reference, date_offsets)


def _render(text: str, spans: list[Span], pseudonyms: Any) -> Any:
    from app.core.redact.pseudonyms import render

    return render(text, spans, pseudonyms)


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
        self.reference: date | None = None
        self.map_json: str | None = None
        self.current: Approved | None = None
        self._text = ""
        self._spans: list[Span] = []
        self._kept: set[int] = set()
        self._waiting: list[Callable[[Approved], object]] = []
        panel.span_clicked.connect(self.toggle)
        panel.mark_requested.connect(self.mark)
        panel.approve_clicked.connect(self.approve)
        panel.recheck_clicked.connect(lambda: self.review(self._text))
        panel.skip_review_changed.connect(self.skip_review_changed)

    # -- encounter -----------------------------------------------------------------------------------------------
    def open_encounter(self, encounter_id: int, reference: date, map_json: str | None) -> None:
        self.encounter_id, self.reference, self.map_json = encounter_id, reference, map_json
        self.current = None
        self._text, self._spans, self._kept = "", [], set()
        self._waiting.clear()
        self.panel.clear()
        self.panel.skip.blockSignals(True)
        self.panel.skip.setChecked(not self.hub.settings.redaction.review_before_sending)
        self.panel.skip.blockSignals(False)

    def clear(self) -> None:
        self.encounter_id = None
        self.map_json = None
        self.current = None
        self._text, self._spans, self._kept = "", [], set()
        self._waiting.clear()
        self.panel.clear()

    def _settings(self) -> Settings:
        return self.hub.settings

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
        settings = self._settings()
        reference, map_json = self.reference, self.map_json

        def work(redactor: Any, _token: Any) -> _Detected:
            pseudonyms = new_map(map_json, reference, settings.redaction.date_offsets)
            spans = list(redactor.detect(text, pseudonyms))
            return _Detected(spans, _render(text, spans, pseudonyms).redacted_text)

        self._text = text
        self.panel.set_busy(True, "Looking for identifiers…")
        job = self.hub.run("redact", work, "finding identifiers", slot="redaction")

        def detected(result: _Detected) -> None:
            self._spans, self._kept = result.spans, set()
            self.panel.show_review(text, self._spans, self._kept, result.redacted)
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

    def active_spans(self) -> list[Span]:
        return [s for i, s in enumerate(self._spans) if i not in self._kept]

    def toggle(self, index: int) -> Job | None:
        """Keep a detected identifier in the text (a false positive), or hide it again."""
        if not 0 <= index < len(self._spans):
            return None
        self._kept ^= {index}
        return self._refresh_preview()

    def mark(self, start: int, end: int, kind: str) -> Job | None:
        """The doctor marks a missed identifier."""
        try:
            span = manual_span(self._text, start, end, Kind.parse(kind))
        except Exception as exc:  # InputError: a selection outside the text
            self.presenter.present(exc, "marking the identifier")
            return None
        kept_spans = {id(s) for i, s in enumerate(self._spans) if i in self._kept}
        self._spans = sorted([*self._spans, span], key=lambda s: (s.start, s.end))
        self._kept = {i for i, s in enumerate(self._spans) if id(s) in kept_spans}
        return self._refresh_preview()

    def _refresh_preview(self) -> Job:
        text, spans, settings = self._text, self.active_spans(), self._settings()
        reference, map_json = self.reference, self.map_json

        def work(_redactor: Any, _token: Any) -> str:
            pseudonyms = new_map(map_json, reference, settings.redaction.date_offsets)
            return str(_render(text, spans, pseudonyms).redacted_text)

        job = self.hub.run("redact", work, "updating the preview", slot="redaction-preview")
        job.finished.connect(lambda redacted: self.panel.show_review(text, self._spans, self._kept, redacted))
        job.failed.connect(self._failed)
        return job

    def approve(self) -> Job | None:
        if self.encounter_id is None:
            return None
        text, spans, settings = self._text, self.active_spans(), self._settings()
        reference, map_json, encounter_id = self.reference, self.map_json, self.encounter_id

        def work(_redactor: Any, _token: Any) -> Approved:
            pseudonyms = new_map(map_json, reference, settings.redaction.date_offsets)
            result = _render(text, spans, pseudonyms)
            return Approved(text, result.redacted_text, pseudonyms.to_json(), len(result.spans))

        self.panel.set_busy(True, "Saving the approved text…")
        job = self.hub.run("redact", work, "applying the review", slot="redaction")
        job.finished.connect(lambda approved: self._save(encounter_id, approved))
        job.failed.connect(self._failed)
        return job

    def _save(self, encounter_id: int, approved: Approved) -> None:
        job = self.hub.run(
            "store", lambda store, _t: store.repositories().redaction_maps.save(encounter_id, approved.map_json),
            "saving the redaction map",
        )

        def saved(_value: object) -> None:
            if self.encounter_id != encounter_id:
                return  # the doctor moved on: the map is stored, nothing to show
            self.map_json = approved.map_json
            self.current = approved
            self.panel.set_busy(False, f"Approved: {approved.hidden} identifier(s) hidden from the model.")
            log.info("redaction approved: %d identifiers hidden", approved.hidden)
            self.approved.emit(approved)
            waiting, self._waiting = self._waiting, []
            for then in waiting:
                then(approved)

        job.finished.connect(saved)
        job.failed.connect(self._failed)

    # -- questions in the chat -----------------------------------------------------------------------------------
    def redact_question(self, question: str) -> Job:
        """A chat question, redacted with the encounter's map (the same person keeps the same placeholder).
        Finishes with (redacted question, map JSON)."""
        settings, reference, map_json = self._settings(), self.reference, self.map_json

        def work(redactor: Any, _token: Any) -> tuple[str, str]:
            pseudonyms = new_map(map_json, reference, settings.redaction.date_offsets)
            result = redactor.redact(question, pseudonyms)
            return str(result.redacted_text), str(pseudonyms.to_json())

        job = self.hub.run("redact", work, "redacting the question")
        encounter_id = self.encounter_id

        def adopt(result: tuple[str, str]) -> None:
            if encounter_id is None or self.encounter_id != encounter_id:
                return
            self.map_json = result[1]
            save = self.hub.run(
                "store", lambda store, _t: store.repositories().redaction_maps.save(encounter_id, result[1]),
                "saving the redaction map",
            )
            save.failed.connect(lambda exc: self.presenter.present(exc, "saving the redaction map"))

        job.finished.connect(adopt)
        return job
