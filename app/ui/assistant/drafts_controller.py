"""Drafts and the chat: ask the model (after redaction), stream the answer re-identified, stop it, keep it as a
draft until the doctor accepts it (edited or not), undo the acceptance, copy or export it.

Answers come from the consultation pipeline's `answer` stage on the LLM lane, which saves a finished draft as a
model-authored note (a chat turn as two messages) and, when the doctor stops it, what had been shown (nothing the
doctor saw is lost). The doctor's changes run on the store lane: an edit is saved as a doctor-authored version when
accepted. Undoing an
acceptance adds a new draft version: the record shows the note is being changed again; the earlier accepted text
stays in its history.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QFileDialog

from app.core.errors import AppError
from app.core.llm.chat import ChatTurn
from app.core.storage.models import Message, MessageRole, Note, NoteAuthor, NoteKind
from app.ui.assistant.answer_panel import AnswerPanel, AnswerState
from app.ui.assistant.chat_panel import ChatPanel
from app.ui.assistant.llm_jobs import Answer, AskedQuestion, answer_job
from app.ui.encounter.redaction_controller import Approved, RedactionController
from app.ui.engines import EngineHub
from app.ui.errors import ErrorPresenter
from app.ui.workers import Job

log = logging.getLogger(__name__)

TASK_TITLES = {"soap": "SOAP note", "summary": "Summary", "referral": "Referral letter", "question": "Answer"}
NOTE_KINDS = {"soap": NoteKind.SOAP, "summary": NoteKind.SUMMARY, "referral": NoteKind.LETTER,
              "question": NoteKind.OTHER, "other": NoteKind.OTHER}
KIND_TASKS = {NoteKind.SOAP: "soap", NoteKind.SUMMARY: "summary", NoteKind.LETTER: "referral",
              NoteKind.OTHER: "other"}


def write_export(path: Path, text: str) -> None:
    try:
        path.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise AppError(f"Could not write {path.name} ({exc.strerror})", "Choose another folder") from None


@dataclass
class CurrentAnswer:
    task: str
    note_id: int | None = None
    saved_text: str = ""  # the latest stored version's text
    accepted: bool = False


class DraftsController(QObject):
    answer_finished = Signal(object)  # Answer
    accepted = Signal(object)  # Note
    generating_changed = Signal(bool)
    answer_started = Signal(str)  # the task
    streamed = Signal(str)  # each re-identified piece of the answer as it is shown (read-aloud follows it)
    answer_stopped = Signal(str)  # the task: stopped by the doctor, what was shown is kept
    job_failed = Signal()  # the answer failed (the ErrorPresenter shows why); what was shown is kept
    model_loading = Signal(object)  # the Job loading the model (progress items: LoadProgress)

    def __init__(
        self,
        hub: EngineHub,
        presenter: ErrorPresenter,
        answer: AnswerPanel,
        chat: ChatPanel,
        redaction: RedactionController,
        transcript: Callable[[], str],
    ) -> None:
        super().__init__()
        self.hub = hub
        self.presenter = presenter
        self.answer = answer
        self.chat = chat
        self.redaction = redaction
        self.transcript = transcript
        self.encounter_id: int | None = None
        self.current: CurrentAnswer | None = None
        self.history: list[ChatTurn] = []
        self.job: Job | None = None
        self._note_job: Job | None = None
        answer.stop_clicked.connect(self.stop)
        answer.accept_clicked.connect(self.accept)
        answer.undo_accept_clicked.connect(self.undo_accept)
        answer.copy_clicked.connect(self.copy)
        answer.export_clicked.connect(self.choose_export)
        answer.note_chosen.connect(self.show_note)
        chat.ask.connect(self.ask)
        self._enable(False)

    def _enable(self, enabled: bool) -> None:
        """Answers and the chat belong to an encounter: without one there is nothing to ask about."""
        self.answer.setEnabled(enabled)
        self.chat.set_enabled(enabled)

    @property
    def busy(self) -> bool:
        return self.job is not None

    # -- encounter -----------------------------------------------------------------------------------------------
    def open_encounter(self, encounter_id: int, notes: list[Note], messages: list[Message]) -> None:
        self.stop()
        self.encounter_id = encounter_id
        self.answer.clear()
        self.chat.clear()
        self._enable(True)
        self.history = []
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
        self._list_notes(notes)
        if notes:
            self._show(notes[-1])

    def clear(self) -> None:
        self.stop()
        if self._note_job is not None:
            self._note_job.cancel()
            self._note_job = None
        self.encounter_id = None
        self.current = None
        self.history = []
        self.answer.clear()
        self.chat.clear()
        self._enable(False)

    def _list_notes(self, notes: list[Note], current: int | None = None) -> None:
        entries = []
        for note in notes:
            state = "accepted" if note.accepted_version == note.latest.version else "draft"
            title = TASK_TITLES.get(KIND_TASKS.get(note.kind, "other"), "Note")
            entries.append((note.id, f"{title} v{note.latest.version} ({state})"))
        self.answer.set_notes(entries, current)

    def show_note(self, note_id: int) -> Job:
        job = self.hub.run("store", lambda store, _t: store.repositories().notes.get(note_id), "opening a note")
        job.finished.connect(self._show)
        job.failed.connect(lambda exc: self.presenter.present(exc, "opening the note"))
        self._note_job = job
        return job

    def _show(self, note: Note) -> None:
        task = KIND_TASKS.get(note.kind, "other")
        accepted = note.accepted_version == note.latest.version
        self.current = CurrentAnswer(task, note.id, note.latest.text, accepted)
        self.answer.title.setText(TASK_TITLES.get(task, "Note"))
        self.answer.show_text(note.latest.text)
        self.answer.set_state(AnswerState.ACCEPTED if accepted else AnswerState.DRAFT)

    # -- asking --------------------------------------------------------------------------------------------------
    def draft(self, task: str) -> None:
        """SOAP note, summary or referral letter from the (redacted) transcript."""
        if self.encounter_id is None or self.job is not None:
            return
        self.redaction.ensure(self.transcript(), lambda approved: self._start_draft(task, approved))

    def _start_draft(self, task: str, approved: Approved) -> Job:
        return self._start_answer(task, approved)

    def _start_answer(
        self, task: str, approved: Approved, question: AskedQuestion | None = None, map_json: str | None = None
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
                llm, token, store, settings, task, approved.redacted, the_map, encounter_id, question, history
            ),
            "answering a question" if question is not None else f"drafting {task}", slot="answer",
        )
        if question is not None:
            job.finished.connect(lambda answer: self._answered(question.redacted, answer))
        return self._track(job, task)

    def _load_model(self) -> Job:
        """Queued ahead of the answer: loading shows its progress (and can be cancelled) instead of a silent wait;
        when the model is already loaded it reports ready at once."""
        job = self.hub.run("llm", lambda llm, token: llm.load(token), "loading the language model", slot="llm-load")
        job.cancelled.connect(self.stop)
        self.model_loading.emit(job)
        return job

    def prepare(self, task: str = "soap") -> Job | None:
        """While the doctor dictates: load a local model and evaluate the task's instructions (no patient text), so
        the draft after the last word starts with only the consultation left to read. Skipped while answering."""
        if self.job is not None or self.hub.settings.llm.backend != "local":
            return None

        def work(llm: Any, token: Any) -> Iterator[Any]:
            yield from llm.load(token)
            warm = getattr(llm, "warm", None)
            if callable(warm):
                warm(task, token).result()

        job = self.hub.run("llm", work, "preparing the language model", slot="llm-load")
        self.model_loading.emit(job)
        return job

    def ask(self, question: str) -> None:
        if self.encounter_id is None or self.job is not None:
            return
        self.chat.add_turn("You", question)
        self.redaction.ensure(self.transcript(), lambda approved: self._redact_question(question, approved))

    def _redact_question(self, question: str, approved: Approved) -> None:
        job = self.redaction.redact_question(question)
        job.finished.connect(
            lambda result: self._start_answer("question", approved, AskedQuestion(result[0], question), result[1])
        )
        job.failed.connect(lambda exc: self.presenter.present(exc, "redacting the question"))

    def _track(self, job: Job, task: str) -> Job:
        self.job = job
        self.current = CurrentAnswer(task)
        self.answer.begin(TASK_TITLES[task] + (" (draft)" if task != "question" else ""))
        job.yielded.connect(self._event)
        job.finished.connect(self._finished)
        job.failed.connect(lambda exc: self._failed(exc, task))
        job.cancelled.connect(lambda: self._stopped(task))
        job.ended.connect(lambda: self._ended(job))
        self.generating_changed.emit(True)
        self.answer_started.emit(task)
        return job

    def _event(self, event: object) -> None:
        from app.core.services import events as e

        if isinstance(event, e.AnswerText):
            self.answer.append(event.text)
            self.streamed.emit(event.text)
        elif isinstance(event, e.Notice):
            self.presenter.notify(event.text)
        elif isinstance(event, e.AnswerDone) and self.current is not None:
            self.current.saved_text = event.display_text
        elif isinstance(event, e.Saved) and event.record == "note" and self.current is not None:
            self.current.note_id = event.record_id
            self._refresh_notes(event.record_id)

    def _finished(self, answer: Answer) -> None:
        self.answer.show_text(answer.display)
        self.answer.set_state(AnswerState.DRAFT)
        log.info("answer finished: %s %s", answer.task, answer.timings)
        self.answer_finished.emit(answer)

    def _failed(self, exc: object, task: str) -> None:
        shown = self.answer.text().strip()
        self.answer.set_state(AnswerState.STOPPED if shown else AnswerState.EMPTY)
        self.job_failed.emit()
        if shown and task != "question":
            self._refresh_notes(adopt_latest=True)  # the stage saved what was shown before it failed
        self.presenter.present(exc, f"writing the {TASK_TITLES[task].lower()}")

    def _stopped(self, task: str) -> None:
        """What was shown stays: the answer stage has saved it (as a stopped draft note or chat turn)."""
        shown = self.answer.text().strip()
        self.answer.set_state(AnswerState.STOPPED if shown else AnswerState.EMPTY)
        self.answer_stopped.emit(task)
        if not shown:
            return
        if task == "question":
            self.chat.add_turn("Assistant (stopped)", shown)
        else:
            self._refresh_notes(adopt_latest=True)

    def _ended(self, job: Job) -> None:
        if self.job is job:
            self.job = None
            self.generating_changed.emit(False)

    def stop(self) -> None:
        """Stop the answer being written; what was written stays, as a partial draft."""
        self.redaction.cancel_waiting()
        if self.job is not None:
            self.job.cancel()

    # -- storing -------------------------------------------------------------------------------------------------
    def _store(self, work: Callable[[Any], Any], doing: str, then: Callable[[Any], None]) -> Job:
        job = self.hub.run("store", lambda store, _t: work(store.repositories()), doing)
        job.finished.connect(then)
        job.failed.connect(lambda exc: self.presenter.present(exc, doing))
        return job

    def _refresh_notes(self, note_id: int | None = None, adopt_latest: bool = False) -> Job | None:
        """List the encounter's notes again after the answer stage saved one. `adopt_latest`: a stopped draft
        (whose Saved event was dropped with the job) becomes the note that Accept and edits apply to."""
        encounter_id, current = self.encounter_id, self.current
        if encounter_id is None:
            return None

        def shown(notes: list[Note]) -> None:
            if self.encounter_id != encounter_id:
                return  # the doctor has moved on (or the app locked): nothing to show
            chosen = note_id
            if adopt_latest and notes and current is not None and self.current is current:
                chosen = current.note_id = notes[-1].id
                current.saved_text = notes[-1].latest.text
                if self.answer.state == AnswerState.STOPPED:
                    self.answer.show_text(current.saved_text)  # with the line that says it is incomplete
            self._list_notes(notes, chosen)

        return self._store(lambda repos: repos.notes.for_encounter(encounter_id), "listing the notes", shown)

    def _answered(self, question_redacted: str, answer: Answer) -> None:
        self.chat.add_turn("Assistant (draft)", answer.display)
        self.history.append(ChatTurn(question_redacted, answer.redacted))

    def accept(self) -> Job | None:
        """The doctor accepts the text as shown (their edits included) as the note of record."""
        current, encounter_id, text = self.current, self.encounter_id, self.answer.text().strip()
        if encounter_id is None or not text or self.job is not None:
            return None
        current = current or CurrentAnswer("other")
        self.current = current

        def work(repos: Any) -> tuple[Note, list[Note]]:
            # Read on the store lane: a draft's own save, queued before this, has filled in its note id.
            edited = text != current.saved_text.strip()
            with repos.db.transaction("accept the note"):
                if current.note_id is None:
                    author = NoteAuthor.DOCTOR if edited or current.task == "other" else NoteAuthor.MODEL
                    note = repos.notes.create(encounter_id, NOTE_KINDS[current.task], text, author=author)
                elif edited:
                    note = repos.notes.add_version(current.note_id, text, author=NoteAuthor.DOCTOR)
                else:
                    note = repos.notes.get(current.note_id)
                note = repos.notes.accept(note.id)
            current.note_id = note.id
            return note, repos.notes.for_encounter(encounter_id)

        def done(result: tuple[Note, list[Note]]) -> None:
            note, notes = result
            current.note_id, current.saved_text, current.accepted = note.id, text, True
            if self.encounter_id != encounter_id:
                return
            self._list_notes(notes, note.id)
            if self.current is current:
                self.answer.set_state(AnswerState.ACCEPTED)
            self.accepted.emit(note)

        return self._store(work, "accepting the note", done)

    def undo_accept(self) -> Job | None:
        current, encounter_id, text = self.current, self.encounter_id, self.answer.text().strip()
        if current is None or current.note_id is None or not current.accepted or encounter_id is None:
            return None
        note_id = current.note_id

        def work(repos: Any) -> tuple[Note, list[Note]]:
            note = repos.notes.unaccept(note_id)  # the accepted version goes back to draft: nothing stays accepted
            return note, repos.notes.for_encounter(encounter_id)

        def done(result: tuple[Note, list[Note]]) -> None:
            note, notes = result
            current.accepted, current.saved_text = False, text
            if self.encounter_id != encounter_id:
                return
            self._list_notes(notes, note.id)
            if self.current is current:
                self.answer.set_state(AnswerState.DRAFT)

        return self._store(work, "undoing the acceptance", done)

    # -- copy / export -------------------------------------------------------------------------------------------
    def copy(self) -> None:
        QApplication.clipboard().setText(self.answer.text())

    def choose_export(self) -> QFileDialog:
        dialog = QFileDialog(self.answer.window(), "Export the text", "", "Text (*.txt);;All files (*)")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("txt")
        dialog.fileSelected.connect(lambda name: self.export(Path(name)))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def export(self, path: Path) -> Job:
        """Write the text where the doctor chose (an explicit export: the only plain-text copy the app makes)."""
        text = self.answer.text()
        job = self.hub.run_on("tools", lambda _t: write_export(path, text), "exporting")
        job.finished.connect(lambda _v: self.presenter.notify(f"Exported to {path}."))
        job.failed.connect(lambda exc: self.presenter.present(exc, "exporting the text"))
        return job
