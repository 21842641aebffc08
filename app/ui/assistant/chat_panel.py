"""The chat about this encounter: the conversation so far and a box for the next question. An answer streams into
the conversation as the assistant's turn (never into the note panel: a chat answer is not a document to accept);
Stop ends it and keeps what was written."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QTextBrowser, QVBoxLayout, QWidget

WRITING_LABEL = "Assistant (writing…)"


class ChatPanel(QWidget):
    ask = Signal(str)
    stop_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatPane")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.heading = QLabel("Questions about this encounter")
        self.heading.setObjectName("chatHeading")
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)
        self.heading.setWordWrap(True)
        layout.addWidget(self.heading)
        self.log = QTextBrowser()
        self.log.setObjectName("chatLog")
        self.log.setAccessibleName("Conversation about this encounter")
        self.log.setPlaceholderText("The model sees the redacted transcript only.")  # one line: it is not wrapped
        layout.addWidget(self.log, 1)
        row = QHBoxLayout()
        self.input = QLineEdit()
        self.input.setObjectName("chatInput")
        self.input.setAccessibleName("Question about this encounter")
        self.input.setPlaceholderText("Ask about this encounter…")
        self.input.setToolTip("Type a question and press Enter (Ctrl+J puts the cursor here)")
        self.input.returnPressed.connect(self._ask)
        row.addWidget(self.input, 1)
        self.ask_button = QPushButton("Ask")
        self.ask_button.setObjectName("askButton")
        self.ask_button.setAccessibleName("Ask")
        self.ask_button.clicked.connect(self._ask)
        row.addWidget(self.ask_button)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stopChatAnswer")
        self.stop_button.setAccessibleName("Stop the answer")
        self.stop_button.setToolTip("Stop the answer being written (Ctrl+.); what was written is kept")
        self.stop_button.clicked.connect(self.stop_clicked)
        self.stop_button.hide()
        row.addWidget(self.stop_button)
        layout.addLayout(row)
        self._answer_start: int | None = None  # where the answer being written starts in the log
        self._answer_text = ""

    def _ask(self) -> None:
        question = self.input.text().strip()
        if question and self.ask_button.isEnabled():  # while the model is busy the question stays in the box
            self.input.clear()
            self.ask.emit(question)

    def _new_turn(self, who: str) -> QTextCursor:
        cursor = self.log.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        if not self.log.document().isEmpty():
            cursor.insertBlock()
        bold = QTextCharFormat()
        bold.setFontWeight(700)
        cursor.insertText(f"{who}: ", bold)
        return cursor

    def _show_end(self, cursor: QTextCursor) -> None:
        self.log.setTextCursor(cursor)
        self.log.ensureCursorVisible()

    def add_turn(self, who: str, text: str) -> None:
        """Plain text only: patient text is never interpreted as HTML."""
        cursor = self._new_turn(who)
        cursor.insertText(text, QTextCharFormat())
        self._show_end(cursor)

    # -- the answer being written --------------------------------------------------------------------------------
    def begin_answer(self) -> None:
        cursor = self.log.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        self._answer_start = cursor.position()
        self._answer_text = ""
        self._show_end(self._new_turn(WRITING_LABEL))

    def append_answer(self, text: str) -> None:
        if self._answer_start is None or not text:
            return
        self._answer_text += text
        cursor = self.log.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text, QTextCharFormat())
        self._show_end(cursor)

    @property
    def answer_text(self) -> str:
        """What has been written of the answer in progress."""
        return self._answer_text

    def end_answer(self, who: str, text: str) -> None:
        """The answer is complete or stopped: its turn says so and holds the final text ("" removes the turn)."""
        start, self._answer_start, self._answer_text = self._answer_start, None, ""
        if start is None:
            if text:
                self.add_turn(who, text)
            return
        cursor = self.log.textCursor()
        cursor.setPosition(start)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        if text:
            self.add_turn(who, text)

    def set_answering(self, answering: bool) -> None:
        """While the model writes (an answer here or a draft), a new question waits in the box."""
        self.ask_button.setEnabled(not answering and self.input.isEnabled())
        self.stop_button.setVisible(answering and self._answer_start is not None)

    def set_enabled(self, enabled: bool) -> None:
        self.input.setEnabled(enabled)
        self.ask_button.setEnabled(enabled)
        if not enabled:
            self.stop_button.hide()

    def clear(self) -> None:
        self._answer_start, self._answer_text = None, ""
        self.stop_button.hide()
        self.log.clear()
        self.input.clear()
