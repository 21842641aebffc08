"""Identifier review: the text with every detected identifier highlighted by kind, and what the model will see.

Click a highlighted identifier to keep it in the text (a false positive) or to hide it again; select a missed one
and press "Mark as identifier". Nothing reaches the language model until the doctor approves (unless the review
is switched off in the settings)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QPushButton,
    QSplitter,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.core.redact.base import Kind, Span
from app.ui.flow_layout import FlowLayout

# One hue per group of kinds; translucent so text stays readable on light and dark palettes.
KIND_COLOURS: dict[str, QColor] = {
    "NAME": QColor(66, 133, 244, 90),
    "LOCATION": QColor(52, 168, 83, 90),
    "DATE": QColor(251, 188, 5, 110),
    "AGE": QColor(251, 188, 5, 110),
}
OTHER_COLOUR = QColor(234, 67, 53, 80)
MARKABLE_KINDS = ("NAME", "DATE", "LOCATION", "MRN", "PHONE", "EMAIL", "ID", "AGE", "SSN", "HEALTH_PLAN_ID")


def qt_offset(text: str, offset: int) -> int:
    """Python offset → QTextDocument position (UTF-16: characters outside the BMP count twice)."""
    return offset + sum(1 for ch in text[:offset] if ord(ch) > 0xFFFF)


def py_offset(text: str, position: int) -> int:
    """QTextDocument position → Python offset."""
    units = 0
    for index, ch in enumerate(text):
        if units >= position:
            return index
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(text)


def kind_format(kind: str, kept: bool) -> QTextCharFormat:
    fmt = QTextCharFormat()
    colour = KIND_COLOURS.get(kind, OTHER_COLOUR)
    if kept:  # un-redacted by the doctor: shown struck-out-free but outlined, so it can be toggled back
        fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DashUnderline)
        fmt.setUnderlineColor(QColor(colour.red(), colour.green(), colour.blue()))
        fmt.setToolTip(f"{kind}: kept in the text (click to hide it again)")
    else:
        fmt.setBackground(colour)
        fmt.setToolTip(f"{kind}: hidden from the model (click to keep it)")
    return fmt


class RedactionPanel(QWidget):
    span_clicked = Signal(int)  # index into the spans shown
    mark_requested = Signal(int, int, str)  # python start, end, kind
    approve_clicked = Signal()
    recheck_clicked = Signal()
    skip_review_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("redactionPanel")
        self._text = ""
        self._spans: list[Span] = []
        self._kept: set[int] = set()
        self._busy = False
        self._approved = False  # the text and choices shown are the ones approved: nothing left to approve
        layout = QVBoxLayout(self)
        self.intro = QLabel("Check the identifiers before anything is sent to the language model.")
        self.intro.setObjectName("reviewIntro")
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        legend = FlowLayout()
        for kind, label in (("NAME", "names"), ("DATE", "dates"), ("LOCATION", "places"), ("ID", "numbers, other")):
            chip = QLabel(f" {label} ")
            colour = KIND_COLOURS.get(kind, OTHER_COLOUR)
            chip.setStyleSheet(f"background: rgba({colour.red()},{colour.green()},{colour.blue()},{colour.alpha()});")
            legend.addWidget(chip)
        legend.add_stretch()
        self.highlight = QCheckBox("Show identifiers")
        self.highlight.setObjectName("showIdentifiers")
        self.highlight.setChecked(True)
        self.highlight.toggled.connect(lambda _on: self._paint())
        legend.addWidget(self.highlight)
        layout.addLayout(legend)

        splitter = QSplitter(Qt.Orientation.Vertical)
        self.source = QTextEdit()
        self.source.setObjectName("reviewText")
        self.source.setAccessibleName("Text with identifiers highlighted")
        self.source.setReadOnly(True)
        self.source.viewport().installEventFilter(self)
        splitter.addWidget(self.source)
        self.preview = QTextEdit()
        self.preview.setObjectName("redactedPreview")
        self.preview.setAccessibleName("What the language model will see")
        self.preview.setReadOnly(True)
        splitter.addWidget(self.preview)
        layout.addWidget(splitter, 1)

        # A flow, not a box: in a narrow centre pane the actions wrap onto a second line instead of widening the window.
        row = FlowLayout()
        self.kind = QComboBox()
        self.kind.setObjectName("markKind")
        self.kind.setAccessibleName("Kind of identifier to mark")
        self.kind.addItems(list(MARKABLE_KINDS))
        row.addWidget(self.kind)
        self.mark_button = self._action_button(
            "Mark selection", "markIdentifier", "Mark selection as identifier",
            "Mark the text selected above as a missed identifier of the kind chosen on the left")
        self.mark_button.clicked.connect(self._mark)
        row.addWidget(self.mark_button)
        self.recheck_button = self._action_button(
            "Check again", "recheckIdentifiers", "Check again", "Look for identifiers in the text again")
        self.recheck_button.clicked.connect(self.recheck_clicked)
        row.addWidget(self.recheck_button)
        row.add_stretch()
        self.skip = QCheckBox("Skip this review")
        self.skip.setObjectName("skipReview")
        self.skip.setAccessibleName("Skip this review from now on")
        self.skip.setToolTip(
            "Skip this review from now on (Settings → Identifier redaction → review before sending)")
        self.skip.toggled.connect(self.skip_review_changed)
        row.addWidget(self.skip)
        self.approve_button = self._action_button(
            "Approve and continue", "approveRedaction", "Approve and continue",
            "Send the text, with the identifiers hidden, to the language model")
        self.approve_button.setDefault(True)
        self.approve_button.clicked.connect(self.approve_clicked)
        row.addWidget(self.approve_button)
        layout.addLayout(row)

    @staticmethod
    def _action_button(label: str, name: str, accessible: str, tip: str) -> QPushButton:
        """A short label; the full wording stays in the accessible name (which starts with the label, so
        voice control can say what is shown) and the tooltip."""
        button = QPushButton(label)
        button.setObjectName(name)
        button.setAccessibleName(accessible)
        button.setToolTip(tip)
        return button

    # -- showing -------------------------------------------------------------------------------------------------
    def show_review(self, text: str, spans: list[Span], kept: set[int], redacted: str) -> None:
        """A review to approve: new text, or the doctor changed a choice."""
        self._text, self._spans, self._kept = text, list(spans), set(kept)
        self._approved = False
        self._update_approve()
        self.source.setPlainText(text)
        self._paint()
        self.preview.setPlainText(redacted)
        hidden = len(spans) - len(kept)
        self.intro.setText(
            f"{hidden} identifier(s) will be hidden from the model"
            + (f", {len(kept)} kept in the text" if kept else "")
            + ". Click one to change it; select a missed one and mark it."
        )

    def _paint(self) -> None:
        cursor = QTextCursor(self.source.document())
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.setCharFormat(QTextCharFormat())
        if not self.highlight.isChecked():
            return
        for index, span in enumerate(self._spans):
            cursor.setPosition(qt_offset(self._text, span.start))
            cursor.setPosition(qt_offset(self._text, span.end), QTextCursor.MoveMode.KeepAnchor)
            cursor.setCharFormat(kind_format(span.kind.value, index in self._kept))

    def set_busy(self, busy: bool, text: str = "") -> None:
        self._busy = busy
        for button in (self.mark_button, self.recheck_button):
            button.setEnabled(not busy)
        self._update_approve()
        if text:
            self.intro.setText(text)

    def set_approved(self, approved: bool) -> None:
        """Approved: the button says so and cannot be pressed again until the text or a choice changes."""
        self._approved = approved
        self._update_approve()

    def _update_approve(self) -> None:
        self.approve_button.setText("Approved" if self._approved else "Approve and continue")
        self.approve_button.setEnabled(not self._busy and not self._approved)

    def clear(self) -> None:
        self._text, self._spans, self._kept = "", [], set()
        self._approved = False
        self._update_approve()
        self.source.clear()
        self.preview.clear()
        self.intro.setText("Check the identifiers before anything is sent to the language model.")

    # -- input ---------------------------------------------------------------------------------------------------
    def span_at(self, position: int) -> int | None:
        offset = py_offset(self._text, position)
        return next((i for i, s in enumerate(self._spans) if s.start <= offset < s.end), None)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.MouseButtonRelease
            and isinstance(event, QMouseEvent)
            and not self.source.textCursor().hasSelection()
        ):
            index = self.span_at(self.source.cursorForPosition(event.position().toPoint()).position())
            if index is not None:
                self.span_clicked.emit(index)
                return True
        return False

    def _mark(self) -> None:
        cursor = self.source.textCursor()
        if not cursor.hasSelection():
            self.intro.setText("Select the missed identifier in the text first, then mark it.")
            return
        start = py_offset(self._text, cursor.selectionStart())
        end = py_offset(self._text, cursor.selectionEnd())
        self.mark_requested.emit(start, end, self.kind.currentText())


def kind_of(name: str) -> Kind:
    return Kind.parse(name)
