"""The chat about this encounter: the conversation so far and a box for the next question. Answers stream into
the answer panel (where they can be stopped, read aloud, copied, accepted) and join the conversation when done."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QTextBrowser, QVBoxLayout, QWidget


class ChatPanel(QWidget):
    ask = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatPane")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.log = QTextBrowser()
        self.log.setObjectName("chatLog")
        self.log.setAccessibleName("Conversation about this encounter")
        self.log.setPlaceholderText("Ask about this encounter. The model sees the redacted transcript only.")
        layout.addWidget(self.log, 1)
        row = QHBoxLayout()
        self.input = QLineEdit()
        self.input.setObjectName("chatInput")
        self.input.setAccessibleName("Question about this encounter")
        self.input.setPlaceholderText("Ask about this encounter… (Enter to send)")
        self.input.returnPressed.connect(self._ask)
        row.addWidget(self.input, 1)
        self.ask_button = QPushButton("Ask")
        self.ask_button.setObjectName("askButton")
        self.ask_button.setAccessibleName("Ask")
        self.ask_button.clicked.connect(self._ask)
        row.addWidget(self.ask_button)
        layout.addLayout(row)

    def _ask(self) -> None:
        question = self.input.text().strip()
        if question:
            self.input.clear()
            self.ask.emit(question)

    def add_turn(self, who: str, text: str) -> None:
        """Plain text only: patient text is never interpreted as HTML."""
        cursor = self.log.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        bold = QTextCharFormat()
        bold.setFontWeight(700)
        if not self.log.document().isEmpty():
            cursor.insertBlock()
        cursor.insertText(f"{who}: ", bold)
        cursor.insertText(text, QTextCharFormat())
        self.log.setTextCursor(cursor)
        self.log.ensureCursorVisible()

    def set_enabled(self, enabled: bool) -> None:
        self.input.setEnabled(enabled)
        self.ask_button.setEnabled(enabled)

    def clear(self) -> None:
        self.log.clear()
        self.input.clear()
