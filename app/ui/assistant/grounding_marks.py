"""How a grounding check is drawn on a text view: facts to check underlined (their reason as tooltip), sentences the
consultation does not support shaded, and the sentences a click links shown highlighted.

Marks are the view's extra selections, never character formats: drawing them does not touch the document (no undo
step, no "edited", no transcript save), and their cursors follow the doctor's edits until the next check replaces
them. Colours read on light and dark palettes: translucent backgrounds and underlines, never the text colour alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor, QHelpEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QTextEdit, QToolTip

UNSUPPORTED_TIP = "Not found in the consultation: check this sentence"


def flag_format() -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
    fmt.setUnderlineColor(QColor("#d32f2f"))
    fmt.setBackground(QColor(229, 57, 53, 75))
    return fmt


def unsupported_format() -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DotLine)
    fmt.setUnderlineColor(QColor("#8d6e63"))
    fmt.setBackground(QColor(141, 110, 99, 48))
    return fmt


def linked_format() -> QTextCharFormat:
    """A sentence linked to the one clicked in the other text (and the one clicked)."""
    fmt = QTextCharFormat()
    fmt.setBackground(QColor(30, 136, 229, 70))
    return fmt


def qt_positions(text: str) -> Callable[[int], int]:
    """Python string offsets into `text` as Qt document positions (which count UTF-16 units: a character beyond
    U+FFFF, such as an emoji, takes two)."""
    if all(ord(c) < 0x10000 for c in text):
        return lambda offset: offset
    positions = [0]
    for char in text:
        positions.append(positions[-1] + (2 if ord(char) >= 0x10000 else 1))
    return lambda offset: positions[max(0, min(offset, len(text)))]


def python_offset(text: str, position: int) -> int:
    """The inverse of `qt_positions`: a Qt document position as an offset into `text`."""
    if all(ord(c) < 0x10000 for c in text):
        return position
    units = 0
    for index, char in enumerate(text):
        if units >= position:
            return index
        units += 2 if ord(char) >= 0x10000 else 1
    return len(text)


@dataclass(frozen=True)
class Mark:
    start: int  # Python offsets into the text the check was made on
    end: int
    kind: str  # "flag" | "unsupported"
    tip: str


class TextMarks(QObject):
    """The grounding marks and link highlights of one QTextEdit. Tooltips come from a filter on its viewport that
    only answers tooltip events (Qt shows the tooltips of character formats, not of extra selections)."""

    def __init__(self, view: QTextEdit, tooltips: bool = False) -> None:
        super().__init__(view)
        self.view = view
        self._marks: list[tuple[QTextCursor, Mark]] = []
        self._links: list[QTextCursor] = []
        self._formats = {"flag": flag_format(), "unsupported": unsupported_format()}
        self._linked = linked_format()
        if tooltips:
            view.viewport().installEventFilter(self)

    def _cursor(self, to_qt: Callable[[int], int], start: int, end: int) -> QTextCursor:
        cursor = QTextCursor(self.view.document())
        size = self.view.document().characterCount() - 1
        cursor.setPosition(min(to_qt(start), size))
        cursor.setPosition(min(to_qt(end), size), QTextCursor.MoveMode.KeepAnchor)
        return cursor

    def set_marks(self, text: str, marks: Iterable[Mark]) -> None:
        """Mark `text` (the view's text when it was checked); unsupported sentences first, flags drawn above them."""
        to_qt = qt_positions(text)
        ordered = sorted(marks, key=lambda m: m.kind == "flag")
        self._marks = [(self._cursor(to_qt, m.start, m.end), m) for m in ordered]
        self._draw()

    def set_links(self, text: str, spans: Iterable[tuple[int, int]], reveal: bool = False) -> None:
        """Highlight `spans` (offsets into `text`, the view's text when it was checked); with `reveal`, the first
        is scrolled into view when it is out of sight, without moving the doctor's caret."""
        to_qt = qt_positions(text)
        self._links = [self._cursor(to_qt, start, end) for start, end in spans]
        self._draw()
        if reveal and self._links:
            self._reveal(self._links[0])

    def _reveal(self, link: QTextCursor) -> None:
        start = QTextCursor(link)
        start.setPosition(link.selectionStart())
        place, viewport = self.view.cursorRect(start), self.view.viewport()
        if not viewport.rect().contains(place):
            bar = self.view.verticalScrollBar()
            bar.setValue(bar.value() + place.top() - viewport.height() // 3)

    def clear(self) -> None:
        self._marks, self._links = [], []
        self._draw()

    def clear_links(self) -> None:
        if self._links:
            self._links = []
            self._draw()

    @property
    def marks(self) -> list[tuple[int, int, Mark]]:
        """Each mark where it is now (Qt positions: its cursor followed the edits since)."""
        return [(c.selectionStart(), c.selectionEnd(), m) for c, m in self._marks]

    @property
    def links(self) -> list[tuple[int, int]]:
        return [(c.selectionStart(), c.selectionEnd()) for c in self._links]

    def _draw(self) -> None:
        """Links first, then the marks over them: a flag in the sentence clicked keeps its red."""
        selections = []
        for cursor, text_format in [(c, self._linked) for c in self._links] + [
            (c, self._formats[m.kind]) for c, m in self._marks
        ]:
            selection = QTextEdit.ExtraSelection()
            selection.cursor = cursor
            selection.format = text_format
            selections.append(selection)
        self.view.setExtraSelections(selections)

    def tip_at(self, position: int) -> str:
        """The reasons of the marks at a document position, flags first."""
        found = [m for c, m in self._marks if c.selectionStart() <= position < c.selectionEnd()]
        found.sort(key=lambda m: m.kind != "flag")
        return "\n".join(dict.fromkeys(m.tip for m in found))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.ToolTip or not self._marks:
            return False
        assert isinstance(event, QHelpEvent)
        tip = self.tip_at(self.view.cursorForPosition(event.pos()).position())
        if tip:
            QToolTip.showText(event.globalPos(), tip, self.view.viewport())
        else:
            QToolTip.hideText()
        return True
