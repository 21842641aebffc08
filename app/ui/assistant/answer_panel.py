"""The document being written or read: a SOAP note, summary or referral letter, streamed as the model writes it or
opened from the encounter's notes. Its title, the banner saying whether it is a draft or the doctor's accepted note,
and its actions (Stop, Accept, Undo acceptance, Read aloud, Copy, Export) always describe the document shown. Chat
answers never come here (they belong to the conversation, in the chat panel). The text is editable once the
document is complete; Ctrl+Z undoes edits. Under the text, the grounding check of the document shown: the facts to
check (each a link to its place in the note, where it is underlined with its reason as tooltip) and how many
sentences the consultation does not support (shaded in the note)."""

from __future__ import annotations

import html
from enum import StrEnum

from PySide6.QtCore import Qt, Signal, SignalInstance
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QTextEdit, QVBoxLayout, QWidget

from app.core.services.grounding import CheckedAnswer, facts_heading, facts_to_check
from app.ui.assistant.grounding_marks import UNSUPPORTED_TIP, Mark, TextMarks
from app.ui.flow_layout import FlowLayout


class AnswerState(StrEnum):
    EMPTY = "empty"
    WRITING = "writing"
    DRAFT = "draft"
    STOPPED = "stopped"
    EDITED = "edited"
    ACCEPTED = "accepted"


BADGES: dict[AnswerState, str] = {
    AnswerState.EMPTY: "",
    AnswerState.WRITING: "Writing… (a draft: check it before use)",
    AnswerState.DRAFT: "DRAFT — written by the model; check it, edit it, then accept it",
    AnswerState.STOPPED: "STOPPED — a partial draft; edit it or ask again",
    AnswerState.EDITED: "EDITED DRAFT — not yet accepted",
    AnswerState.ACCEPTED: "ACCEPTED — your note",
}
# What the title says after the document's name, so the title never contradicts the banner.
TITLE_STATES: dict[AnswerState, str] = {
    AnswerState.EMPTY: "",
    AnswerState.WRITING: "being written",
    AnswerState.DRAFT: "draft",
    AnswerState.STOPPED: "stopped draft",
    AnswerState.EDITED: "edited, not accepted",
    AnswerState.ACCEPTED: "accepted",
}
ACCEPTABLE = frozenset({AnswerState.DRAFT, AnswerState.STOPPED, AnswerState.EDITED})
EMPTY_TITLE = "Notes and letters"
# Fixed colours with their own text colour: the banner reads the same on light and dark palettes.
_DRAFT_STYLE = "background: #fff3cd; color: #4d3800; font-weight: bold; border-radius: 3px;"
_ACCEPTED_STYLE = "background: #dcefe0; color: #1b4d27; font-weight: bold; border-radius: 3px;"
BANNER_STYLES: dict[AnswerState, str] = {
    AnswerState.EMPTY: "",
    AnswerState.WRITING: _DRAFT_STYLE,
    AnswerState.DRAFT: _DRAFT_STYLE,
    AnswerState.STOPPED: _DRAFT_STYLE,
    AnswerState.EDITED: _DRAFT_STYLE,
    AnswerState.ACCEPTED: _ACCEPTED_STYLE,
}


class AnswerPanel(QWidget):
    stop_clicked = Signal()
    accept_clicked = Signal()
    undo_accept_clicked = Signal()
    read_aloud_clicked = Signal()
    copy_clicked = Signal()
    export_clicked = Signal()
    edited = Signal()
    note_chosen = Signal(int)  # a stored note picked from the list
    replaced = Signal()  # the whole text was replaced (another document, or the final text of one): marks are gone
    state_changed = Signal(str)  # AnswerState

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("answerPanel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.title = QLabel(EMPTY_TITLE)
        self.title.setObjectName("answerTitle")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)  # a long title wraps rather than widening the pane
        top.addWidget(self.title, 1)
        self.notes = QComboBox()
        self.notes.setObjectName("noteChooser")
        self.notes.setAccessibleName("Notes of this encounter")
        # As wide as its longest label (a few words): a label cut short would hide whether a note is accepted.
        self.notes.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.notes.activated.connect(self._note_activated)
        top.addWidget(self.notes)
        layout.addLayout(top)
        self.badge = QLabel()
        self.badge.setObjectName("draftBadge")
        self.badge.setAccessibleName("Draft status")
        self.badge.setTextFormat(Qt.TextFormat.PlainText)
        self.badge.setWordWrap(True)  # a narrow pane wraps the banner instead of cutting it
        self.badge.setMargin(6)  # counted in the label's size hint (a style-sheet padding would not be)
        layout.addWidget(self.badge)
        self.editor = QTextEdit()
        self.editor.setObjectName("answerText")
        self.editor.setAccessibleName("Note")
        self.editor.setAcceptRichText(False)
        # One line (a text box draws its placeholder unwrapped): the buttons below the dictation say the rest.
        self.editor.setPlaceholderText("Drafted notes and letters appear here.")
        self.editor.textChanged.connect(self._text_changed)
        layout.addWidget(self.editor, 1)
        self.marks = TextMarks(self.editor, tooltips=True)
        self.checks = QLabel()
        self.checks.setObjectName("groundingSummary")
        self.checks.setAccessibleName("Facts to check")
        self.checks.setTextFormat(Qt.TextFormat.RichText)  # every piece of note text in it is escaped
        self.checks.setWordWrap(True)
        self.checks.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse
                                            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
        self.checks.linkActivated.connect(self._flag_link)
        self.checks.hide()
        layout.addWidget(self.checks)
        buttons = FlowLayout()  # wraps in a narrow pane instead of widening the window
        self.stop_button = self._button("Stop", "stopAnswer", self.stop_clicked, buttons)
        self.accept_button = self._button("Accept", "acceptDraft", self.accept_clicked, buttons)
        self.undo_button = self._button("Undo acceptance", "undoAccept", self.undo_accept_clicked, buttons)
        self.read_button = self._button("Read aloud", "readAloud", self.read_aloud_clicked, buttons)
        self.copy_button = self._button("Copy", "copyAnswer", self.copy_clicked, buttons)
        self.export_button = self._button("Export…", "exportAnswer", self.export_clicked, buttons)
        layout.addLayout(buttons)
        self.state = AnswerState.EMPTY
        self.kind = ""  # what the document is ("SOAP note"); "" when none is shown
        self._busy = False
        self._programmatic = False
        self.set_notes([])
        self.set_state(AnswerState.EMPTY)

    def _button(self, text: str, name: str, signal: SignalInstance, row: FlowLayout) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setAccessibleName(text.rstrip("…"))
        button.clicked.connect(signal)
        row.addWidget(button)
        return button

    # -- state ---------------------------------------------------------------------------------------------------
    def set_state(self, state: AnswerState) -> None:
        if self.badge.styleSheet() != BANNER_STYLES[state]:
            self.badge.setStyleSheet(BANNER_STYLES[state])
        changed, self.state = state != self.state, state
        self.badge.setText(BADGES[state])
        self.badge.setVisible(bool(BADGES[state]))
        self.setAccessibleDescription(BADGES[state])
        self.title.setText(self.title_text())
        has_text = bool(self.editor.toPlainText().strip())
        writing = state == AnswerState.WRITING
        self.editor.setReadOnly(writing or state == AnswerState.EMPTY)  # nothing shown: nothing to edit or accept
        self.notes.setEnabled(not writing)  # another note must not replace the one being written
        self.stop_button.setEnabled(writing)
        self.accept_button.setEnabled(has_text and state in ACCEPTABLE and not self._busy)
        self.undo_button.setEnabled(state == AnswerState.ACCEPTED and not self._busy)
        for button in (self.read_button, self.copy_button, self.export_button):
            button.setEnabled(has_text and not writing)
        if changed:
            self.state_changed.emit(state.value)

    def show_wait(self, text: str) -> None:
        """While the answer waits (queued at the clinic server), the banner says so; "" says "Writing…" again.
        Stop stays what it is while writing: it cancels the wait too."""
        if self.state == AnswerState.WRITING:
            self.badge.setText(text or BADGES[AnswerState.WRITING])

    def title_text(self) -> str:
        if not self.kind:
            return EMPTY_TITLE
        words = TITLE_STATES[self.state]
        return f"{self.kind} — {words}" if words else self.kind

    def set_busy(self, busy: bool) -> None:
        """Another note is being read, or the one shown is being saved: until that is done, nothing acts on it."""
        self._busy = busy
        self.set_state(self.state)

    @property
    def acceptable(self) -> bool:
        return self.accept_button.isEnabled()

    def set_reading(self, reading: bool) -> None:
        self.read_button.setText("Stop reading" if reading else "Read aloud")
        self.read_button.setAccessibleName(self.read_button.text())

    # -- text ----------------------------------------------------------------------------------------------------
    def begin(self, kind: str) -> None:
        """A new document of this kind is being written: it is what the list shows until it is saved."""
        self.kind = kind
        self.show_text("")
        self.set_state(AnswerState.WRITING)
        entries = [(int(self.notes.itemData(i)), self.notes.itemText(i)) for i in range(self.notes.count())
                   if self.notes.itemData(i) is not None]
        self.set_notes(entries, None, kind)

    def show_document(self, kind: str, text: str, state: AnswerState) -> None:
        self.kind = kind
        self.show_text(text)
        self.set_state(state)

    def append(self, text: str) -> None:
        if not text:
            return
        self._programmatic = True
        cursor = self.editor.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        self._programmatic = False
        self.editor.ensureCursorVisible()

    def show_text(self, text: str, keep_undo: bool = False) -> None:
        """Replace the whole text. Streaming replacements and loading clear the undo history; the doctor's own
        edits (and an accepted draft's text) stay undoable."""
        if not keep_undo and text == self.editor.toPlainText():
            # The finished answer as it was streamed: the same text, so its marks (and the caret) stay.
            self.editor.document().clearUndoRedoStacks()
            return
        self._programmatic = True
        if keep_undo:
            cursor = self.editor.textCursor()
            cursor.select(QTextCursor.SelectionType.Document)
            cursor.insertText(text)
        else:
            self.editor.setPlainText(text)
            self.editor.document().clearUndoRedoStacks()
        self._programmatic = False
        self.show_checks(None)
        self.replaced.emit()

    def text(self) -> str:
        return self.editor.toPlainText()

    def _text_changed(self) -> None:
        if self._programmatic:
            return
        if self.state in (AnswerState.DRAFT, AnswerState.ACCEPTED, AnswerState.STOPPED):
            self.set_state(AnswerState.EDITED)  # the doctor's own words: a draft until accepted, like the model's
        else:
            self.set_state(self.state)  # buttons follow whether there is text
        self.edited.emit()

    # -- the grounding check -----------------------------------------------------------------------------------------
    def show_checks(self, checked: CheckedAnswer | None) -> None:
        """Mark the text with a check made on it (None: no check describes the text shown)."""
        if checked is None:
            self.marks.clear()
            self.checks.clear()
            self.checks.hide()
            return
        marks = [Mark(s.start, s.end, "unsupported", UNSUPPORTED_TIP) for s in checked.unsupported]
        marks += [Mark(f.start, f.end, "flag", f.reason) for f in checked.flags]
        self.marks.set_marks(checked.note, marks)
        summary = facts_to_check(checked.report)
        links = "; ".join(f'<a href="flag:{i}">{html.escape(f.reason)}</a>' for i, f in enumerate(checked.flags))
        parts = [f"<b>{facts_heading(len(checked.flags))}:</b> {links}"] if checked.flags else []
        unsupported = len(checked.unsupported)
        if unsupported:
            parts.append(f"{unsupported} {'sentence' if unsupported == 1 else 'sentences'} not found in the "
                         "consultation (shaded)")
        if parts and not checked.complete:
            parts.append("so far")
        self.checks.setText(" · ".join(parts))
        self.checks.setAccessibleDescription(summary)
        self.checks.setVisible(bool(parts))

    def _flag_link(self, link: str) -> None:
        if link.startswith("flag:"):
            self.select_flag(int(link.removeprefix("flag:")))

    def select_flag(self, index: int) -> None:
        """Put the caret on a fact to check (the index-th flag, where it is now), selected and in view."""
        flags = [(start, end) for start, end, mark in self.marks.marks if mark.kind == "flag"]
        if not 0 <= index < len(flags):
            return
        cursor = self.editor.textCursor()
        cursor.setPosition(flags[index][0])
        cursor.setPosition(flags[index][1], QTextCursor.MoveMode.KeepAnchor)
        self.editor.setTextCursor(cursor)
        self.editor.ensureCursorVisible()
        self.editor.setFocus()

    # -- stored notes --------------------------------------------------------------------------------------------
    def set_notes(self, entries: list[tuple[int, str]], current: int | None = None, writing: str = "") -> None:
        """The encounter's notes; `current` is the one shown (None: none of them is). `writing`: the kind of a new
        document being written, listed (and chosen) after them until it is saved."""
        self.notes.blockSignals(True)
        self.notes.clear()
        for note_id, label in entries:
            self.notes.addItem(label, note_id)
        if writing:
            self.notes.addItem(f"{writing} (being written)", None)
            self.notes.setCurrentIndex(self.notes.count() - 1)
        self.notes.blockSignals(False)
        if not writing:
            self.select_note(current)
        self.notes.setVisible(self.notes.count() > 0)

    def select_note(self, note_id: int | None) -> None:
        self.notes.blockSignals(True)
        self.notes.setCurrentIndex(self.notes.findData(note_id) if note_id is not None else -1)
        self.notes.blockSignals(False)

    def _note_activated(self, index: int) -> None:
        note_id = self.notes.itemData(index)
        if note_id is not None:
            self.note_chosen.emit(int(note_id))

    def clear(self) -> None:
        self.kind = ""
        self._busy = False
        self.show_text("")
        self.set_notes([])
        self.set_state(AnswerState.EMPTY)
