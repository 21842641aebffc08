"""Drafts and the chat: ask the model (after redaction), stream the answer re-identified, stop it. A draft (SOAP
note, summary, letter) streams into the note panel and stays a draft until the doctor accepts it (NoteActions:
accept, undo, copy, export, the list of notes); a chat answer streams into the conversation, and only there.

Answers come from the consultation pipeline's `answer` stage on the LLM lane, which saves a finished draft as a
model-authored note (a chat turn as two messages) and, when the doctor stops it, what had been shown (nothing the
doctor saw is lost).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog

from app.core.llm.chat import ChatTurn
from app.core.services.answer_saving import STOPPED_MARK
from app.core.services.prior_context import PriorContext
from app.core.storage.records import Message, MessageRole, Note
from app.ui.assistant.answer_panel import AnswerPanel, AnswerState
from app.ui.assistant.chat_panel import ChatPanel
from app.ui.assistant.llm_jobs import Answer, AskedQuestion, Placement, answer_job, load_model
from app.ui.assistant.note_actions import TASK_TITLES, AcceptCheck, CurrentAnswer, NoteActions
from app.ui.encounter.redaction_controller import Approved, RedactionController
from app.ui.engines import EngineHub
from app.ui.errors import ErrorPresenter
from app.ui.workers import Job, JobToken

if TYPE_CHECKING:
    from app.core.llm.base import LanguageModel, LoadProgress
    from app.core.llm.prompts import Task

log = logging.getLogger(__name__)


class DraftsController(QObject):
    answer_finished = Signal(object)  # Answer
    accepted = Signal(object)  # Note
    generating_changed = Signal(bool)
    answer_started = Signal(str)  # the task
    streamed = Signal(str)  # each re-identified piece of the answer as it is shown (read-aloud follows it)
    answer_stopped = Signal(str)  # the task: stopped by the doctor, what was shown is kept
    job_failed = Signal()  # the answer failed (the ErrorPresenter shows why); what was shown is kept
    model_loading = Signal(object)  # the Job loading the model (progress items: LoadProgress)
    read_ahead = Signal(int)  # prompt tokens a local model read of the dictation so far

    def __init__(
        self,
        hub: EngineHub,
        presenter: ErrorPresenter,
        answer: AnswerPanel,
        chat: ChatPanel,
        redaction: RedactionController,
        transcript: Callable[[], str],
        accept_check: AcceptCheck | None = None,
    ) -> None:
        super().__init__()
        self.hub = hub
        self.presenter = presenter
        self.answer = answer
        self.chat = chat
        self.redaction = redaction
        self.transcript = transcript
        self.history: list[ChatTurn] = []
        self.job: Job | None = None
        self._loading: Job | None = None  # the model load queued ahead of the answer
        self.prior = ""  # the earlier notes' block of the open encounter's drafts (services/prior_context.py)
        self.notes = NoteActions(hub, presenter, answer, accept_check)
        self.notes.accepted.connect(self.accepted)
        answer.stop_clicked.connect(self.stop)
        chat.stop_clicked.connect(self.stop)
        chat.ask.connect(self.ask)
        self._enable(False)

    def _enable(self, enabled: bool) -> None:
        """Answers and the chat belong to an encounter: without one there is nothing to ask about."""
        self.answer.setEnabled(enabled)
        self.chat.set_enabled(enabled)

    @property
    def busy(self) -> bool:
        return self.job is not None

    # The shown answer and its encounter live with the note actions, which act on them.
    @property
    def encounter_id(self) -> int | None:
        return self.notes.encounter_id

    @encounter_id.setter
    def encounter_id(self, encounter_id: int | None) -> None:
        self.notes.encounter_id = encounter_id

    @property
    def current(self) -> CurrentAnswer | None:
        return self.notes.current

    @current.setter
    def current(self, current: CurrentAnswer | None) -> None:
        self.notes.current = current

    # -- encounter -----------------------------------------------------------------------------------------------
    def open_encounter(self, encounter_id: int, notes: list[Note], messages: list[Message]) -> None:
        self.stop()
        self.encounter_id = encounter_id
        self.answer.clear()
        self.chat.clear()
        self._enable(True)
        self.history = []
        self.prior = ""
        self._read_prior()
        question: Message | None = None
        for message in messages:
            if message.role == MessageRole.USER:
                question = message
                self.chat.add_turn("You", message.display_content)
            elif message.role == MessageRole.ASSISTANT:
                self.chat.add_turn("Assistant (draft)", message.display_content)
                if question is not None:
                    self.history.append(ChatTurn(question.redacted_content, message.redacted_content))
                    question = None
        if notes:
            self.notes.show(notes[-1])
        self.notes.list_notes(notes)

    def clear(self) -> None:
        self.stop()
        self.notes.clear()
        self.history = []
        self.answer.clear()
        self.chat.clear()
        self._enable(False)

    # -- asking --------------------------------------------------------------------------------------------------
    def draft(self, task: str) -> None:
        """SOAP note, summary or referral letter from the (redacted) transcript."""
        if self.encounter_id is None or self.job is not None:
            return
        self.redaction.ensure(self.transcript(), lambda approved: self._start_draft(task, approved))

    def _read_prior(self) -> Job | None:
        """At the encounter's start: the earlier notes' summary the drafts will be given, redacted before the
        consultation (its placeholders come first in the map), so the dictation is read ahead after it."""
        if not self.hub.settings.llm.prior_context:
            return None
        job = self.redaction.prior_context()
        if job is None:
            return None
        encounter_id = self.encounter_id

        def keep(context: PriorContext) -> None:
            if self.encounter_id == encounter_id:
                self.prior = context.block

        job.finished.connect(keep)
        job.failed.connect(lambda exc: log.info("earlier notes not read: %s", type(exc).__name__))
        return job

    def _start_draft(self, task: str, approved: Approved) -> Job | None:
        """With `llm.prior_context`, the earlier notes are redacted again with the approved map first: the same
        block as read ahead when nothing changed, and right when the review added placeholders meanwhile."""
        if not self.hub.settings.llm.prior_context:
            return self._start_answer(task, approved)
        job = self.redaction.prior_context()
        if job is None:
            return self._start_answer(task, approved)
        encounter_id = self.encounter_id

        def start(context: PriorContext) -> None:
            if self.encounter_id == encounter_id and self.job is None:
                self.prior = context.block
                self._start_answer(task, approved, map_json=context.map_json, prior=context.block)

        def without(exc: object) -> None:  # a summary that cannot be read must not stop the note
            log.info("drafting without the earlier notes: %s", type(exc).__name__)
            if self.encounter_id == encounter_id and self.job is None:
                self._start_answer(task, approved)

        job.finished.connect(start)
        job.failed.connect(without)
        return job

    def _start_answer(
        self, task: str, approved: Approved, question: AskedQuestion | None = None, map_json: str | None = None,
        prior: str = "",
    ) -> Job:
        """The pipeline's answer stage on the LLM lane; it saves the note (or chat turn) itself, on the store's
        thread, and keeps what was shown if the doctor stops it."""
        settings, store, encounter_id = self.hub.settings, self.hub.store_worker, self.encounter_id
        history = list(self.history) if question is not None else []
        the_map = map_json or approved.map_json
        self._load_model()
        job = self.hub.run(
            "llm",
            lambda llm, token: answer_job(
                llm, token, store, settings, task, approved.redacted, the_map, encounter_id, question, history,
                prior,
            ),
            "answering a question" if question is not None else f"drafting {task}", slot="answer",
        )
        return self._track(job, task, question)

    def _load_model(self) -> Job:
        """Queued ahead of the answer: loading shows its progress (and can be cancelled) instead of a silent wait;
        when the model is already loaded it reports ready at once."""
        job = self.hub.run("llm", load_model, "loading the language model", slot="llm-load")
        job.cancelled.connect(self.stop)
        self._loading = job  # Stop cancels it too: a clinic server's format check may wait in its queue
        self.model_loading.emit(job)
        return job

    def prepare(self, task: str = "soap") -> Job | None:
        """While the doctor dictates: load a local model and evaluate the task's instructions (no patient text), so
        the draft after the last word starts with only the consultation left to read. Skipped while answering."""
        if self.job is not None or self.hub.settings.llm.backend != "local":
            return None

        def work(llm: LanguageModel, token: JobToken) -> Generator[LoadProgress, None, Placement]:
            placement = yield from load_model(llm, token)
            warm = getattr(llm, "warm", None)
            if callable(warm):
                warm(task, token).result()
            return placement

        job = self.hub.run("llm", work, "preparing the language model", slot="llm-load")
        self.model_loading.emit(job)
        return job

    def preread(self, dictated_so_far: str, task: Task = "soap") -> Job | None:
        """While the doctor dictates: the transcript with the words dictated so far (as they will most likely be
        confirmed: asr/live.py's `provisional`), redacted with the encounter's map on the redaction lane, read by a
        local model on its lane (services/prereading.py), so the draft after the last word evaluates only the tail.
        Never for a server: nothing unapproved leaves the machine. Each call supersedes the previous one (only the
        newest text is worth reading)."""
        if self.job is not None or self.hub.settings.llm.backend != "local" or self.redaction.map_json is None:
            return None
        from app.core.services.prereading import prereading_model, redact_so_far

        transcript, map_json, prior = self.transcript(), self.redaction.map_json, self.prior
        separator = "" if not transcript or transcript.endswith(("\n", " ")) else " "  # as the dictation is added
        text = transcript + separator + dictated_so_far

        def read(redacted: str) -> None:
            def work(llm: LanguageModel, token: JobToken) -> int:
                model = prereading_model(llm)
                return model.warm(task, token, consultation=redacted, prior=prior).result() if model is not None else 0

            job = self.hub.run("llm", work, "reading the dictation ahead", slot="llm-preread")
            job.finished.connect(lambda tokens: self.read_ahead.emit(int(tokens)))

        job = self.hub.run("redact", lambda redactor, _t: redact_so_far(redactor, text, map_json),
                           "redacting the dictation so far", slot="redaction-preread")
        job.finished.connect(read)
        return job

    def ask(self, question: str) -> None:
        if self.encounter_id is None or self.job is not None:
            return
        self.chat.add_turn("You", question)
        self.redaction.ensure(self.transcript(), lambda approved: self._redact_question(question, approved))

    def _redact_question(self, question: str, approved: Approved) -> None:
        job = self.redaction.redact_question(question)
        job.finished.connect(
            lambda result: self._start_answer(
                "question", approved, AskedQuestion(result.redacted, question), result.map_json
            )
        )
        job.failed.connect(lambda exc: self.presenter.present(exc, "redacting the question"))

    def _track(self, job: Job, task: str, question: AskedQuestion | None = None) -> Job:
        self.job = job
        if task == "question":
            self.chat.begin_answer()
        else:
            self.notes.begin(task)
        encounter_id = self.encounter_id

        def here() -> bool:  # a late event of an encounter the doctor has left must not touch the one shown now
            return self.encounter_id == encounter_id

        def event(item: object) -> None:
            if here():
                self._event(item, task)

        def finished(answer: Answer) -> None:
            if here():
                self._finished(answer, question)

        def stopped() -> None:
            if here():
                self._stopped(task)

        job.yielded.connect(event)
        job.finished.connect(finished)
        job.failed.connect(lambda exc: self._failed(exc, task, here()))
        job.cancelled.connect(stopped)
        job.ended.connect(lambda: self._ended(job))
        self.chat.set_answering(True)
        self.generating_changed.emit(True)
        self.answer_started.emit(task)
        return job

    def _event(self, event: object, task: str) -> None:
        from app.core.services import events as e

        document = task != "question"
        if isinstance(event, e.AnswerText):
            if document:
                self.answer.append(event.text)
            else:
                self.chat.append_answer(event.text)
            self.streamed.emit(event.text)
        elif isinstance(event, e.Notice):
            self.presenter.notify(event.text)
        elif not document:
            return  # the chat turn is saved as messages: nothing below is about the note shown
        elif isinstance(event, e.AnswerDone) and self.current is not None:
            self.current.saved_text = event.display_text
        elif isinstance(event, e.Saved) and event.record == "note" and self.current is not None:
            self.current.note_id = event.record_id
            self.notes.refresh(event.record_id)

    def _finished(self, answer: Answer, question: AskedQuestion | None) -> None:
        if question is not None:
            self.chat.end_answer("Assistant (draft)", answer.display)
            self.history.append(ChatTurn(question.redacted, answer.redacted))
        else:
            self.answer.show_text(answer.display)
            self.answer.set_state(AnswerState.DRAFT)
        log.info("answer finished: %s %s", answer.task, answer.timings)
        self.answer_finished.emit(answer)

    def _failed(self, exc: object, task: str, here: bool = True) -> None:
        self.job_failed.emit()
        if here:
            self._keep_what_was_written(task)
        self.presenter.present(exc, f"writing the {TASK_TITLES[task].lower()}")

    def _stopped(self, task: str) -> None:
        """What was shown stays: the answer stage has saved it (as a stopped draft note or chat turn)."""
        self.answer_stopped.emit(task)
        self._keep_what_was_written(task)

    def _keep_what_was_written(self, task: str) -> None:
        """A stopped or failed answer: what was shown stays, as the stage saved it (with the line that says it is
        incomplete); an answer with nothing written leaves no trace."""
        if task == "question":
            shown = self.chat.answer_text.strip()
            self.chat.end_answer("Assistant (stopped)", f"{shown}\n\n{STOPPED_MARK}" if shown else "")
            return
        if not self.answer.text().strip():
            self.notes.nothing_written()
            return
        self.answer.set_state(AnswerState.STOPPED)
        self.notes.refresh(adopt_latest=True)

    def _ended(self, job: Job) -> None:
        if self.job is job:
            self.job = None
            self.chat.set_answering(False)
            self.generating_changed.emit(False)

    def stop(self) -> None:
        """Stop the answer being written; what was written stays, as a partial draft."""
        self.redaction.cancel_waiting()
        if self.job is not None:
            if self._loading is not None and not self._loading.done:
                self._loading.cancel()  # the answer waits behind it on the lane (a server's queue, a slow load)
            self.job.cancel()

    # -- the shown note (NoteActions does the work) --------------------------------------------------------------
    def show_note(self, note_id: int) -> Job:
        return self.notes.show_note(note_id)

    def accept(self) -> Job | None:
        """The doctor accepts the text as shown (their edits included) as the note of record."""
        return self.notes.accept()

    def undo_accept(self) -> Job | None:
        return self.notes.undo_accept()

    def copy(self) -> None:
        self.notes.copy()

    def choose_export(self) -> QFileDialog:
        return self.notes.choose_export()

    def export(self, path: Path) -> Job:
        return self.notes.export(path)
