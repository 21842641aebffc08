"""Accepting a note with facts still to check: each flag is listed with its reason, and the doctor keeps it (the
note is right as written) or goes back to fix it. The note is accepted only once every flag is kept; "Go back and
fix" (or Fix beside a flag) returns to the note with that fact selected."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.core.grounding import Flag

KINDS = {"number": "Number", "medicine": "Medicine", "laterality": "Side", "negation": "Finding", "age": "Age",
         "date": "Date"}


class FlagReview(QDialog):
    accepted_with = Signal(int)  # every flag kept: accept the note with this many open flags
    fix = Signal(int)  # go back to the note and fix this flag (its index)

    def __init__(self, parent: QWidget | None, flags: list[Flag], kept: set[int], unsupported: int = 0) -> None:
        super().__init__(parent)
        self.setObjectName("flagReview")
        self.setWindowTitle("Facts to check before accepting")
        self.flags = flags
        self._chosen: int | None = None
        layout = QVBoxLayout(self)
        count = len(flags)
        intro = QLabel(
            ("The consultation does not say this fact as the note does. Keep it if it is right as written, or go "
             "back and fix it." if count == 1 else
             f"The consultation does not say these {count} facts as the note does. Keep each one that is right as "
             "written, or go back and fix it.")
            + (f" {unsupported} {'sentence is' if unsupported == 1 else 'sentences are'} not found in the "
               "consultation (shaded in the note)." if unsupported else "")
        )
        intro.setObjectName("flagReviewIntro")
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(intro)
        layout.addSpacing(6)
        rows = QWidget()
        grid = QGridLayout(rows)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setColumnStretch(1, 1)
        self.keep_buttons: list[QPushButton] = []
        for index, flag in enumerate(flags):
            kind = QLabel(KINDS.get(flag.kind, flag.kind.title()))
            kind.setTextFormat(Qt.TextFormat.PlainText)
            bold = kind.font()
            bold.setBold(True)
            kind.setFont(bold)
            reason = QLabel(flag.reason)
            reason.setObjectName(f"flagReason{index}")
            reason.setTextFormat(Qt.TextFormat.PlainText)  # note text: never interpreted as HTML
            reason.setWordWrap(True)
            keep = QPushButton("Keep")
            keep.setObjectName(f"keepFlag{index}")
            keep.setCheckable(True)
            keep.setChecked(index in kept)
            keep.setAccessibleName(f"Keep: {flag.reason}")
            keep.setToolTip("The note is right as written: accept it with this fact unchanged")
            keep.toggled.connect(self._kept_changed)
            fix = QPushButton("Fix")
            fix.setObjectName(f"fixFlag{index}")
            fix.setAccessibleName(f"Fix: {flag.reason}")
            fix.setToolTip("Go back to the note with this fact selected")
            fix.clicked.connect(lambda _checked=False, i=index: self._fix(i))
            grid.addWidget(kind, index, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(reason, index, 1, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(keep, index, 2, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(fix, index, 3, Qt.AlignmentFlag.AlignTop)
            self.keep_buttons.append(keep)
        grid.setRowStretch(len(flags), 1)  # rows stay at the top of a tall dialog
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(rows)
        layout.addWidget(scroll, 1)
        buttons = QDialogButtonBox()
        self.back_button = buttons.addButton("Go back and fix", QDialogButtonBox.ButtonRole.RejectRole)
        self.back_button.setObjectName("backToFix")
        self.accept_button = buttons.addButton("Accept", QDialogButtonBox.ButtonRole.AcceptRole)
        self.accept_button.setObjectName("acceptWithFlags")
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self._accept)
        layout.addWidget(buttons)
        self.back_button.setDefault(True)  # Enter goes back: accepting with open flags is a deliberate act
        self._kept_changed()
        self.resize(max(self.sizeHint().width(), 560), min(self.sizeHint().height(), 480))

    @property
    def kept(self) -> set[int]:
        return {i for i, button in enumerate(self.keep_buttons) if button.isChecked()}

    def _kept_changed(self) -> None:
        left = len(self.flags) - len(self.kept)
        self.accept_button.setEnabled(left == 0)
        self.accept_button.setText(
            f"Accept with {len(self.flags)} open {'flag' if len(self.flags) == 1 else 'flags'}" if left == 0
            else f"Accept ({left} to keep or fix)"
        )

    def _accept(self) -> None:
        if self.accept_button.isEnabled():
            self.accepted_with.emit(len(self.flags))
            self.accept()

    def _fix(self, index: int) -> None:
        self._chosen = index
        self.reject()

    def reject(self) -> None:
        """Go back and fix (also Escape): the flag whose Fix was clicked, else the first one not kept, is selected."""
        left = [i for i in range(len(self.flags)) if i not in self.kept] or [0]
        self.fix.emit(self._chosen if self._chosen is not None else left[0])
        super().reject()
