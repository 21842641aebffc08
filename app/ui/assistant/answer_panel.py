"""The answer being written or read: streamed text, a badge saying it is a draft until accepted, and its actions
(Stop, Accept, Undo acceptance, Read aloud, Copy, Export). The text is editable once the answer is complete;
Ctrl+Z undoes edits."""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import Signal, SignalInstance
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QTextEdit, QVBoxLayout, QWidget

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


class AnswerPanel(QWidget):
    stop_clicked = Signal()
    accept_clicked = Signal()
    undo_accept_clicked = Signal()
    read_aloud_clicked = Signal()
    copy_clicked = Signal()
    export_clicked = Signal()
    edited = Signal()
    note_chosen = Signal(int)  # a stored note picked from the list

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("answerPanel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.title = QLabel("Answers and drafts")
        self.title.setObjectName("answerTitle")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)  # a long title wraps rather than widening the pane
        top.addWidget(self.title, 1)
        self.notes = QComboBox()
        self.notes.setObjectName("noteChooser")
        self.notes.setAccessibleName("Notes of this encounter")
        self.notes.setMinimumWidth(160)
        # Sized for a typical label, not the longest one: the popup still shows every label in full.
        self.notes.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.notes.setMinimumContentsLength(16)
        self.notes.activated.connect(self._note_activated)
        top.addWidget(self.notes)
        layout.addLayout(top)
        self.badge = QLabel()
        self.badge.setObjectName("draftBadge")
        self.badge.setAccessibleName("Draft status")
        self.badge.setWordWrap(True)
        self.badge.setStyleSheet("font-weight: bold;")
        layout.addWidget(self.badge)
        self.editor = QTextEdit()
        self.editor.setObjectName("answerText")
        self.editor.setAccessibleName("Answer")
        self.editor.setAcceptRichText(False)
        self.editor.setPlaceholderText("Drafts and answers appear here as they are written.")
        self.editor.textChanged.connect(self._text_changed)
        layout.addWidget(self.editor, 1)
        buttons = FlowLayout()  # wraps in a narrow pane instead of widening the window
        self.stop_button = self._button("Stop", "stopAnswer", self.stop_clicked, buttons)
        self.accept_button = self._button("Accept", "acceptDraft", self.accept_clicked, buttons)
        self.undo_button = self._button("Undo acceptance", "undoAccept", self.undo_accept_clicked, buttons)
        self.read_button = self._button("Read aloud", "readAloud", self.read_aloud_clicked, buttons)
        self.copy_button = self._button("Copy", "copyAnswer", self.copy_clicked, buttons)
        self.export_button = self._button("Export…", "exportAnswer", self.export_clicked, buttons)
        layout.addLayout(buttons)
        self.state = AnswerState.EMPTY
        self._programmatic = False
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
        self.state = state
        self.badge.setText(BADGES[state])
        self.setAccessibleDescription(BADGES[state])
        has_text = bool(self.editor.toPlainText().strip())
        writing = state == AnswerState.WRITING
        self.editor.setReadOnly(writing)
        self.stop_button.setEnabled(writing)
        acceptable = state in (AnswerState.DRAFT, AnswerState.STOPPED, AnswerState.EDITED)
        self.accept_button.setEnabled(has_text and acceptable)
        self.undo_button.setEnabled(state == AnswerState.ACCEPTED)
        for button in (self.read_button, self.copy_button, self.export_button):
            button.setEnabled(has_text and not writing)

    def set_reading(self, reading: bool) -> None:
        self.read_button.setText("Stop reading" if reading else "Read aloud")
        self.read_button.setAccessibleName(self.read_button.text())

    # -- text ----------------------------------------------------------------------------------------------------
    def begin(self, title: str) -> None:
        self.title.setText(title)
        self.show_text("")
        self.set_state(AnswerState.WRITING)

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
        self._programmatic = True
        if keep_undo:
            cursor = self.editor.textCursor()
            cursor.select(QTextCursor.SelectionType.Document)
            cursor.insertText(text)
        else:
            self.editor.setPlainText(text)
            self.editor.document().clearUndoRedoStacks()
        self._programmatic = False

    def text(self) -> str:
        return self.editor.toPlainText()

    def _text_changed(self) -> None:
        if self._programmatic:
            return
        if self.state in (AnswerState.DRAFT, AnswerState.ACCEPTED, AnswerState.STOPPED, AnswerState.EMPTY):
            self.set_state(AnswerState.EDITED)  # the doctor's own words: a draft until accepted, like the model's
        else:
            self.set_state(self.state)  # buttons follow whether there is text
        self.edited.emit()

    # -- stored notes --------------------------------------------------------------------------------------------
    def set_notes(self, entries: list[tuple[int, str]], current: int | None = None) -> None:
        self.notes.blockSignals(True)
        self.notes.clear()
        for note_id, label in entries:
            self.notes.addItem(label, note_id)
        if current is not None:
            self.notes.setCurrentIndex(max(0, self.notes.findData(current)))
        self.notes.blockSignals(False)
        self.notes.setVisible(bool(entries))

    def _note_activated(self, index: int) -> None:
        note_id = self.notes.itemData(index)
        if note_id is not None:
            self.note_chosen.emit(int(note_id))

    def clear(self) -> None:
        self.title.setText("Answers and drafts")
        self.show_text("")
        self.set_notes([])
        self.set_state(AnswerState.EMPTY)


