"""Grounded drafts in the window (issue #16): the document shown is checked against the transcript on the tools lane
(never on the GUI thread), and the check is drawn on both texts.

When it runs: while a draft is written, its complete sentences every CHECK_DELAY_MS; once it is complete, opened or
stopped; and after the doctor pauses editing the note or the transcript (the marks follow the edits until then).
A check whose texts changed while it ran is dropped (a newer one is due). Clicking a note sentence highlights the
transcript sentences behind it; clicking a transcript sentence highlights the note sentences that rest on it.
Accepting a note with facts still to check asks about each (FlagReview); the count of those kept goes to the audit
log with the acceptance.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from app.core.grounding import Flag
from app.core.services.grounding import CheckedAnswer, check_draft, complete_part, demographics
from app.ui.assistant.answer_panel import AnswerPanel, AnswerState
from app.ui.assistant.flag_review import FlagReview
from app.ui.assistant.grounding_marks import python_offset
from app.ui.encounter.dictation_panel import DictationPanel
from app.ui.engines import EngineHub
from app.ui.errors import ErrorPresenter
from app.ui.workers import Job

if TYPE_CHECKING:
    from app.ui.encounter.encounter_controller import EncounterData

log = logging.getLogger(__name__)

CHECK_DELAY_MS = 400  # after the last keystroke; and between checks of a draft being written
Accept = Callable[[int], Job | None]  # accept the note shown, with this many open flags kept


def record_sources(data: EncounterData | None) -> list[str]:
    """What the record knows that a note may say though the consultation did not: the patient's age and sex."""
    if data is None:
        return []
    said = demographics(data.patient.date_of_birth, data.patient.sex, data.encounter.started_at.date())
    return [said] if said else []


def _flag_key(flag: Flag) -> tuple[str, str, str]:
    return flag.kind, flag.text, flag.reason


class GroundingController(QObject):
    checked = Signal(object)  # CheckedAnswer, once drawn
    review_opened = Signal(object)  # FlagReview

    def __init__(
        self,
        hub: EngineHub,
        presenter: ErrorPresenter,
        answer: AnswerPanel,
        dictation: DictationPanel,
        sources: Callable[[], Sequence[str]] = lambda: (),
    ) -> None:
        super().__init__()
        self.hub = hub
        self.presenter = presenter
        self.answer = answer
        self.dictation = dictation
        self.sources = sources
        self.current: CheckedAnswer | None = None  # the check drawn now
        self.review: FlagReview | None = None
        self._job: Job | None = None
        self._waiting: list[Accept] = []  # accepts waiting for a check of the text shown
        self._kept: set[tuple[str, str, str]] = set()  # flags the doctor kept as written, for this document
        self._shut = False
        self._timer = QTimer(self)
        self._timer.setObjectName("groundingCheck")
        self._timer.setSingleShot(True)
        self._timer.setInterval(CHECK_DELAY_MS)
        self._timer.timeout.connect(self.check_now)
        answer.editor.textChanged.connect(self._note_changed)
        answer.state_changed.connect(lambda _state: self._schedule())
        answer.replaced.connect(self._replaced)
        dictation.transcript_edited.connect(self._schedule)
        dictation.transcript_replaced.connect(self._replaced)
        answer.editor.cursorPositionChanged.connect(self._note_caret)
        dictation.transcript.cursorPositionChanged.connect(self._transcript_caret)

    # -- when to check -------------------------------------------------------------------------------------------
    def _schedule(self) -> None:
        """Check once the doctor pauses (each change restarts the wait); nothing to check without a document."""
        if not self._shut and not self.answer.editor.document().isEmpty():
            self._timer.start()

    def _note_changed(self) -> None:
        # The model's words are checked every CHECK_DELAY_MS while it writes (not only once it stops).
        if self.answer.state != AnswerState.WRITING or not self._timer.isActive():
            self._schedule()

    def _replaced(self) -> None:
        """Another document or transcript: nothing drawn describes it any more."""
        self._kept.clear()
        self._show(None)
        self._schedule()

    def check_now(self) -> Job | None:
        self._timer.stop()
        if self._shut:
            return None
        state, note, transcript = self.answer.state, self.answer.text(), self.dictation.transcript_text()
        if state == AnswerState.EMPTY or not note.strip():
            self._waiting.clear()
            self._show(None)
            return None
        complete = state != AnswerState.WRITING
        current = self.current
        if current is not None and current.complete == complete and current.holds_for(note, transcript) and (
            complete or complete_part(note) == current.note
        ):
            self._release_waiting()  # nothing new to check
            return None
        sources = list(self.sources())
        job = self.hub.run_on(
            "tools", lambda _t: check_draft(transcript, note, sources, complete),
            "checking the draft against the consultation", slot="grounding",
        )
        job.finished.connect(self._checked)
        job.failed.connect(self._failed)
        self._job = job
        return job

    def _checked(self, checked: CheckedAnswer) -> None:
        if not checked.holds_for(self.answer.text(), self.dictation.transcript_text()):
            if not self._timer.isActive():
                self._schedule()  # changed while it was checked: check the text shown now
            return
        self._show(checked)
        self.checked.emit(checked)
        if checked.complete:
            self._release_waiting()

    def _failed(self, exc: object) -> None:
        """A check that fails is a bug: said through the one error path, and an accept waiting for it goes ahead
        unchecked (a broken check must not keep the doctor from signing their note)."""
        self.presenter.present(exc, "checking the draft against the consultation")
        waiting, self._waiting = self._waiting, []
        for accept in waiting:
            accept(0)

    def _show(self, checked: CheckedAnswer | None) -> None:
        """Draw a check (None: none); the links of the one before go with it, on both sides."""
        self.current = checked
        self.answer.marks.clear_links()
        self.answer.show_checks(checked)
        self.dictation.links.clear()

    def _release_waiting(self) -> None:
        waiting, self._waiting = self._waiting, []
        for accept in waiting:
            self.review_before_accept(accept)

    # -- links between the two texts ------------------------------------------------------------------------------
    def _fresh(self) -> CheckedAnswer | None:
        """The check drawn, if it still describes both texts (not while the doctor types or the model writes)."""
        checked = self.current
        if checked is None or self.answer.state == AnswerState.WRITING:
            return None
        if not checked.holds_for(self.answer.text(), self.dictation.transcript_text()):
            return None
        return checked

    def _note_caret(self) -> None:
        checked = self._fresh()
        if checked is None:
            return
        position = python_offset(checked.note, self.answer.editor.textCursor().position())
        sentence = checked.sentence_at(position)
        if sentence is None or not sentence.support:
            self.answer.marks.set_links(checked.note, [])
            self.dictation.show_links(checked.transcript, [])
            return
        self.answer.marks.set_links(checked.note, [(sentence.start, sentence.end)])
        self.dictation.show_links(checked.transcript, [(s.start, s.end) for s in sentence.support])

    def _transcript_caret(self) -> None:
        checked = self._fresh()
        if checked is None:
            return
        position = python_offset(checked.transcript, self.dictation.transcript.textCursor().position())
        span, users = checked.uses_of(position)
        self.dictation.links.set_links(checked.transcript, [(span.start, span.end)] if span else [])
        self.answer.marks.set_links(checked.note, [(s.start, s.end) for s in users], reveal=True)

    # -- accepting -----------------------------------------------------------------------------------------------
    def review_before_accept(self, accept: Accept) -> Job | None:
        """NoteActions' accept check: accept at once when nothing is left to check; otherwise ask about each flag
        (FlagReview) and accept when the doctor keeps them all. Waits for a check of the text shown first."""
        checked = self.current
        fresh = checked is not None and checked.complete and checked.holds_for(
            self.answer.text(), self.dictation.transcript_text())
        if checked is None or not fresh:
            self._waiting.append(accept)
            if self._job is None or self._job.done or self._timer.isActive():
                self.check_now()
            return None
        if not checked.flags:
            return accept(0)
        self._ask(checked, accept)
        return None

    def _ask(self, checked: CheckedAnswer, accept: Accept) -> None:
        if self.review is not None:
            return  # already asking
        flags = checked.flags
        kept = {i for i, flag in enumerate(flags) if _flag_key(flag) in self._kept}
        dialog = FlagReview(self.answer.window(), flags, kept, len(checked.unsupported))
        dialog.accepted_with.connect(lambda _count: self._reviewed(accept))
        dialog.fix.connect(self.answer.select_flag)
        dialog.finished.connect(lambda _result: self._review_closed(dialog, flags))
        self.review = dialog
        dialog.open()
        self.review_opened.emit(dialog)

    def _review_closed(self, dialog: FlagReview, flags: list[Flag]) -> None:
        self._kept |= {_flag_key(flags[i]) for i in dialog.kept}  # asked again later, they are still kept
        if self.review is dialog:
            self.review = None
        dialog.deleteLater()

    def _reviewed(self, accept: Accept) -> None:
        """Every flag kept: accept, if the check still describes the note (the dialog is modal, so it should)."""
        checked = self.current
        if checked is not None and checked.holds_for(self.answer.text(), self.dictation.transcript_text()):
            accept(len(checked.flags))
        else:
            self.review_before_accept(accept)

    # -- closing -------------------------------------------------------------------------------------------------
    def close(self) -> None:
        """The app locks or closes: no check is pending and no flag (patient text) stays on screen."""
        self._timer.stop()
        self._waiting.clear()
        self._kept.clear()
        if self._job is not None:
            self._job.cancel()
            self._job = None
        if self.review is not None:
            dialog, self.review = self.review, None
            dialog.blockSignals(True)
            dialog.reject()
            dialog.deleteLater()
        self._show(None)

    def shutdown(self) -> None:
        self._shut = True
        self.close()
