"""Where a summary item came from: its encounter is opened, its note shown in the note panel, and the sentence the
item was read from selected and scrolled into view (as a search would), so the doctor sees it in context.

The summary links to the accepted version a fact came from. The note panel shows a note's latest version: when that
is a later edit, the same sentence is looked for in it (the nearest occurrence to where it was); if the edit removed
it, the doctor is told so rather than shown the wrong place.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QTextCursor

from app.core.storage.records import Note
from app.core.summary.items import NoteRef, Source
from app.ui.assistant.answer_panel import AnswerPanel
from app.ui.assistant.grounding_marks import qt_positions
from app.ui.assistant.note_actions import NoteActions
from app.ui.encounter.encounter_controller import EncounterController, EncounterData
from app.ui.errors import ErrorPresenter

Link = Source | NoteRef
GONE = "The note was edited after this was summarised: the sentence is no longer in it."


def find_sentence(text: str, source: Source) -> tuple[int, int] | None:
    """Where the source sentence is in `text`: at its own offsets, or the occurrence nearest to them."""
    if text[source.start : source.end] == source.sentence:
        return source.start, source.end
    places = []
    at = text.find(source.sentence)
    while at >= 0 and source.sentence:
        places.append(at)
        at = text.find(source.sentence, at + 1)
    if not places:
        return None
    start = min(places, key=lambda p: abs(p - source.start))
    return start, start + len(source.sentence)


class SourceOpener(QObject):
    opened = Signal(object)  # the link, once its note is shown (and its sentence selected, if found)

    def __init__(
        self,
        presenter: ErrorPresenter,
        encounter: EncounterController,
        notes: NoteActions,
        answer: AnswerPanel,
        open_encounter: Callable[[int], None],
    ) -> None:
        super().__init__()
        self.presenter = presenter
        self.notes = notes
        self.answer = answer
        self.open_encounter = open_encounter
        self.pending: Link | None = None
        encounter.opened.connect(self._encounter_opened)

    def open(self, link: Link) -> None:
        self.pending = link
        self.open_encounter(link.encounter_id)

    def _encounter_opened(self, data: EncounterData) -> None:
        link, self.pending = self.pending, None
        if link is None or data.encounter.id != link.encounter_id:
            return  # opened for another reason
        if not any(note.id == link.note_id for note in data.notes):
            self.presenter.notify("That note is no longer in this encounter.")
            return
        current = self.notes.current
        if current is not None and current.note_id == link.note_id:
            self._show(link)
            return
        job = self.notes.show_note(link.note_id)
        job.finished.connect(lambda _note: self._shown(link, _note))

    def _shown(self, link: Link, note: Note) -> None:
        current = self.notes.current
        if current is not None and current.note_id == note.id:  # still the note shown
            self._show(link)

    def _show(self, link: Link) -> None:
        if isinstance(link, Source):
            text = self.answer.text()
            place = find_sentence(text, link)
            if place is None:
                self.presenter.notify(GONE)
            else:
                to_qt = qt_positions(text)
                editor = self.answer.editor
                cursor = editor.textCursor()
                cursor.setPosition(to_qt(place[1]))
                cursor.setPosition(to_qt(place[0]), QTextCursor.MoveMode.KeepAnchor)  # the caret at its start
                editor.setTextCursor(cursor)
                editor.ensureCursorVisible()
                editor.setFocus()
        self.opened.emit(link)
