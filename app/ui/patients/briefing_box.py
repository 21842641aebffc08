"""The spoken brief in the patient view: a short paragraph the model drafted from the patient summary, marked as a
draft like every model answer, with Read aloud and Hide. Hidden until the doctor asks for a brief (Brief me, Ctrl+B).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QVBoxLayout, QWidget

from app.ui.assistant.answer_panel import BANNER_STYLES, AnswerState
from app.ui.flow_layout import FlowLayout

DRAFT_BADGE = "DRAFT brief — written by the model from the summary below; check it against the summary"
WRITING = "Writing the brief… (the first one may wait for the model to load)"
CUT_SHORT = " (cut short: the model reached its length limit)"
STOPPED = " (stopped)"


class BriefingBox(QFrame):
    read_clicked = Signal()
    hide_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("briefingBox")
        self.setAccessibleName("Brief")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.badge = QLabel(DRAFT_BADGE)
        self.badge.setObjectName("briefingBadge")
        self.badge.setStyleSheet(BANNER_STYLES[AnswerState.DRAFT])
        self.badge.setWordWrap(True)
        self.badge.setMargin(4)
        self.badge.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.badge)
        self.text = QLabel()
        self.text.setObjectName("briefingText")
        self.text.setAccessibleName("Brief text")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                          | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        layout.addWidget(self.text)
        buttons = FlowLayout()
        self.read_button = QPushButton("Read aloud")
        self.read_button.setObjectName("briefingRead")
        self.read_button.clicked.connect(self.read_clicked)
        buttons.addWidget(self.read_button)
        self.hide_button = QPushButton("Hide")
        self.hide_button.setObjectName("briefingHide")
        self.hide_button.setAccessibleName("Hide the brief")
        self.hide_button.clicked.connect(self.hide_clicked)
        buttons.addWidget(self.hide_button)
        layout.addLayout(buttons)
        self.paragraph = ""  # the brief as written so far (what Read aloud reads)
        self.hide()

    def begin(self) -> None:
        self.paragraph = ""
        self.badge.show()
        self.text.setText(WRITING)
        self.read_button.setEnabled(False)
        self.show()

    def append(self, piece: str) -> None:
        self.paragraph += piece
        self.text.setText(self.paragraph.strip())

    def finish(self, text: str, ending: str = "") -> None:
        """The brief as written; `ending` says why it ends early (CUT_SHORT, STOPPED)."""
        self.paragraph = text
        self.text.setText(text + ending)
        self.read_button.setEnabled(bool(text))
        self.show()

    def say(self, message: str) -> None:
        """Something that is not a brief (there is nothing to brief on): no draft badge, nothing to read."""
        self.paragraph = ""
        self.badge.hide()
        self.text.setText(message)
        self.read_button.setEnabled(False)
        self.show()

    def set_reading(self, reading: bool) -> None:
        self.read_button.setText("Stop reading" if reading else "Read aloud")
        self.read_button.setAccessibleName(self.read_button.text())

    def clear(self) -> None:
        self.paragraph = ""
        self.text.clear()
        self.set_reading(False)
        self.hide()
