"""What the doctor does with the note shown in the answer panel: open another of the encounter's notes, accept the
text as shown (edited or not), undo the acceptance, copy or export it; and the list of the encounter's notes, which
always marks the note shown.

The changes run on the store lane: an edit is saved as a doctor-authored version when accepted. Undoing an
acceptance adds a new draft version: the record shows the note is being changed again; the earlier accepted text
stays in its history. Writing answers is the DraftsController's job; it owns this object and tells it which answer
is shown and when the answer stage has saved a note.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QFileDialog

from app.core.errors import AppError
from app.core.services.summaries import accept_note
from app.core.storage.records import Note, NoteAuthor, NoteKind
from app.ui.assistant.answer_panel import AnswerPanel, AnswerState
from app.ui.engines import EngineHub
from app.ui.errors import ErrorPresenter
from app.ui.workers import Job

if TYPE_CHECKING:
    from app.core.storage.store import Repositories

EDIT_SAVE_MS = 1500  # a pause in typing after which the doctor's edits are saved (as a draft version)
R = TypeVar("R")  # what a store job returns, handed to its `then`
# Asked before a note is accepted: given how to accept (with the number of open flags the doctor kept), it accepts
# now, later (after asking the doctor), or never (the doctor went back to fix the note).
AcceptCheck = Callable[[Callable[[int], Job | None]], Job | None]

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


class NoteActions(QObject):
    accepted = Signal(object)  # Note
    unaccepted = Signal(object)  # Note: its acceptance was undone
    edit_saved = Signal(object)  # Note: the doctor's edits, saved as a new draft version

    def __init__(
        self, hub: EngineHub, presenter: ErrorPresenter, answer: AnswerPanel, accept_check: AcceptCheck | None = None
    ) -> None:
        super().__init__()
        self.hub = hub
        self.presenter = presenter
        self.answer = answer
        self.accept_check = accept_check
        self.encounter_id: int | None = None
        self.current: CurrentAnswer | None = None
        self._before: int | None = None  # the note shown before a new one began, shown again if nothing came of it
        self._note_job: Job | None = None
        answer.accept_clicked.connect(self.accept)
        answer.undo_accept_clicked.connect(self.undo_accept)
        answer.copy_clicked.connect(self.copy)
        answer.export_clicked.connect(self.choose_export)
        answer.note_chosen.connect(self.show_note)
        # The doctor's edits are saved as a draft version after a pause and whenever the document is left: an
        # edit is never lost (lock, another note, another encounter, quit), and only Accept makes it the note.
        self._edit_timer = QTimer(self)
        self._edit_timer.setObjectName("draftEditSave")
        self._edit_timer.setSingleShot(True)
        self._edit_timer.setInterval(EDIT_SAVE_MS)
        self._edit_timer.timeout.connect(self.save_edit)
        answer.edited.connect(self._edited)

    def clear(self) -> None:
        self.save_edit()
        if self._note_job is not None:
            self._note_job.cancel()
            self._note_job = None
        self.encounter_id = None
        self.current = None
        self._before = None

    # -- the encounter's notes -----------------------------------------------------------------------------------
    def list_notes(self, notes: list[Note], current: int | None = None) -> None:
        """List the notes, marking `current` (by default the note shown) as the chosen one."""
        if current is None and self.current is not None:
            current = self.current.note_id
        entries = []
        for note in notes:
            state = "accepted" if note.accepted_version == note.latest.version else "draft"
            title = TASK_TITLES.get(KIND_TASKS.get(note.kind, "other"), "Note")
            entries.append((note.id, f"{title} v{note.latest.version} ({state})"))
        unsaved = self.current is not None and self.current.note_id is None
        writing = unsaved and self.answer.state == AnswerState.WRITING
        self.answer.set_notes(entries, current, self.answer.kind if writing else "")

    def show_note(self, note_id: int) -> Job:
        self.save_edit()  # queued on the store lane before the other note is read
        if self._note_job is not None:
            self._note_job.cancel()  # only the last note chosen is shown
        job = self.hub.run("store", lambda store, _t: store.repositories().notes.get(note_id), "opening a note")
        self.answer.set_busy(True)
        job.finished.connect(self.show)
        job.failed.connect(lambda exc: self.presenter.present(exc, "opening the note"))
        job.ended.connect(lambda: self._note_shown(job))
        self._note_job = job
        return job

    def _note_shown(self, job: Job) -> None:
        if self._note_job is not job:
            return
        self._note_job = None
        self.answer.set_busy(False)
        # The list marks the note shown: the one chosen, or the one still shown if it failed to open.
        self.answer.select_note(self.current.note_id if self.current is not None else None)

    def show(self, note: Note) -> None:
        task = KIND_TASKS.get(note.kind, "other")
        accepted = note.accepted_version == note.latest.version
        self.current = CurrentAnswer(task, note.id, note.latest.text, accepted)
        self.answer.show_document(
            TASK_TITLES.get(task, "Note"), note.latest.text, AnswerState.ACCEPTED if accepted else AnswerState.DRAFT
        )

    def begin(self, task: str) -> None:
        """The model starts writing a new document: it is the one shown (and the one Accept will apply to)."""
        self._before = self.current.note_id if self.current is not None else None
        self.current = CurrentAnswer(task)
        self.answer.begin(TASK_TITLES[task])

    def nothing_written(self) -> Job | None:
        """The new document was stopped (or failed) before any of it was written: show the note shown before."""
        before, self._before = self._before, None
        self.current = None
        self.answer.show_document("", "", AnswerState.EMPTY)
        if before is not None:
            self.show_note(before)
        return self.refresh()  # the list without the note that was to be written (queued after the note shown)

    def refresh(self, note_id: int | None = None, adopt_latest: bool = False) -> Job | None:
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
            self.list_notes(notes, chosen)

        return self._store(lambda repos: repos.notes.for_encounter(encounter_id), "listing the notes", shown)

    def _store(self, work: Callable[[Repositories], R], doing: str, then: Callable[[R], None]) -> Job:
        job = self.hub.run("store", lambda store, _t: work(store.repositories()), doing)
        job.finished.connect(then)
        job.failed.connect(lambda exc: self.presenter.present(exc, doing))
        return job

    # -- the doctor's edits --------------------------------------------------------------------------------------
    def _edited(self) -> None:
        if self.current is not None and self.answer.state == AnswerState.EDITED:
            self._edit_timer.start()

    def save_edit(self) -> Job | None:
        """Save the text shown as a new doctor-authored version of its note, still a draft (an accepted note keeps
        its accepted version until the edit is accepted). Nothing to do when nothing changed, or for a document
        not saved yet (the answer stage saves it, and Accept saves the edits with it)."""
        self._edit_timer.stop()
        current = self.current
        if current is None or current.note_id is None or self.answer.state != AnswerState.EDITED:
            return None
        text, note_id = self.answer.text().strip(), current.note_id
        if not text or text == current.saved_text.strip():
            return None
        current.saved_text = text  # at once: a second save of the same text is never queued

        def work(repos: Repositories) -> Note:
            return repos.notes.add_version(note_id, text, author=NoteAuthor.DOCTOR)

        def saved(note: Note) -> None:
            if self.current is current and self.encounter_id is not None:
                self.refresh(note.id)  # the list says "v2 (draft)"
            self.edit_saved.emit(note)

        return self._store(work, "saving your edits to the draft", saved)

    # -- accepting -----------------------------------------------------------------------------------------------
    def accept(self) -> Job | None:
        """The doctor accepts the text as shown (their edits included) as the note of record. With an
        `accept_check` (the grounding check), the facts still to check are asked about first: the note is accepted
        when the doctor keeps them (then with their count in the audit log), or not at all."""
        if self._acceptable() is None:
            return None
        if self.accept_check is None:
            return self._accept(0)
        return self.accept_check(self._accept)

    def _acceptable(self) -> tuple[CurrentAnswer, int, str] | None:
        """What Accept would apply to: only a complete draft shown here, not one being written, saved or already
        accepted."""
        current, encounter_id, text = self.current, self.encounter_id, self.answer.text().strip()
        if encounter_id is None or current is None or not text or not self.answer.acceptable:
            return None
        return current, encounter_id, text

    def _accept(self, open_flags: int) -> Job | None:
        """Accept the text shown now; `open_flags`: facts to check the doctor kept as written (counted, never
        named, in the audit log)."""
        acceptable = self._acceptable()
        if acceptable is None:
            return None  # the doctor went on to something else while the check ran
        current, encounter_id, text = acceptable

        def work(repos: Repositories) -> tuple[Note, list[Note]]:
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
                note = accept_note(repos, note.id)  # and queue its facts for the patient summary
                if open_flags:
                    repos.audit.record_open_flags("note", note.id, open_flags)
            current.note_id = note.id
            return note, repos.notes.for_encounter(encounter_id)

        def done(result: tuple[Note, list[Note]]) -> None:
            note, notes = result
            current.note_id, current.saved_text, current.accepted = note.id, text, True
            if self.encounter_id != encounter_id:
                return
            if self.current is current:
                self.list_notes(notes, note.id)
                # Typed on while it was saved: what is shown now is an edit of the accepted note.
                edited = self.answer.text().strip() != text
                self.answer.set_state(AnswerState.EDITED if edited else AnswerState.ACCEPTED)
            else:
                self.list_notes(notes)
            self.accepted.emit(note)

        return self._busy_while(self._store(work, "accepting the note", done))

    def undo_accept(self) -> Job | None:
        current, encounter_id, text = self.current, self.encounter_id, self.answer.text().strip()
        if current is None or current.note_id is None or not current.accepted or encounter_id is None:
            return None
        if not self.answer.undo_button.isEnabled():
            return None  # edited since, or still being saved: there is no acceptance shown to undo
        note_id = current.note_id

        def work(repos: Repositories) -> tuple[Note, list[Note]]:
            note = repos.notes.unaccept(note_id)  # the accepted version goes back to draft: nothing stays accepted
            return note, repos.notes.for_encounter(encounter_id)

        def done(result: tuple[Note, list[Note]]) -> None:
            note, notes = result
            current.accepted, current.saved_text = False, text
            self.unaccepted.emit(note)  # the summary drops its facts, wherever the doctor is now
            if self.encounter_id != encounter_id:
                return
            if self.current is current:
                self.list_notes(notes, note.id)
                self.answer.set_state(AnswerState.DRAFT)
            else:
                self.list_notes(notes)

        return self._busy_while(self._store(work, "undoing the acceptance", done))

    def _busy_while(self, job: Job) -> Job:
        """Accept and Undo acceptance wait for the save before either can be pressed again."""
        self.answer.set_busy(True)
        job.ended.connect(lambda: self.answer.set_busy(False))
        return job

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
