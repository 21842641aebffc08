"""Sizing text so it fits: a placeholder cut off mid-word ("(YY…"), or a message clipped top and bottom, tells the
doctor nothing."""

from __future__ import annotations

from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QLineEdit, QWidget

_SIZE_HINT_CHARS = 17  # QLineEdit's size hint is 17 "x" wide plus its frame, margins and side buttons


def line_edit_chrome(line: QLineEdit) -> int:
    """The part of a line edit's width that is not text: frame, text margins and any side button (clear)."""
    return line.sizeHint().width() - QFontMetrics(line.font()).horizontalAdvance("x") * _SIZE_HINT_CHARS


def text_room(line: QLineEdit) -> int:
    """How wide a text the line edit shows without cutting it, at its present width."""
    return line.width() - line_edit_chrome(line)


def fit_placeholder(line: QLineEdit, minimum: int = 0) -> None:
    """Make the line edit at least wide enough for its placeholder (and `minimum`)."""
    needed = QFontMetrics(line.font()).horizontalAdvance(line.placeholderText()) + line_edit_chrome(line) + 2
    line.setMinimumWidth(max(minimum, needed))


def fit_wrapped_text(window: QWidget) -> None:
    """Make a window tall enough for every line of its word-wrapped labels. Qt sizes a window by its layout's
    minimum size, which ignores height-for-width, so a message that gains lines after the window is shown is clipped
    top and bottom. The minimum height holds the text at the narrowest width the window allows."""
    layout = window.layout()
    if layout is None or not layout.hasHeightForWidth():
        return
    layout.activate()
    narrowest = max(window.minimumWidth(), layout.minimumSize().width())
    window.setMinimumHeight(window.heightForWidth(narrowest))
    needed = window.heightForWidth(window.width())
    if window.height() < needed:
        window.resize(window.width(), needed)
