"""Pieces the session's dialogs share: a wrapped label for messages, and Enter kept on the default button."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton

PROBLEM_STYLE = "color: #c62828;"


def wrapped_label(name: str, text: str = "", problem: bool = False) -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    if problem:
        label.setStyleSheet(PROBLEM_STYLE)
    return label


def keep_enter_on(default: QPushButton, *others: QPushButton) -> None:
    """Enter presses `default` only. An auto-default button that takes the focus becomes the one Enter presses:
    when a field is disabled its focus moves on to such a button (Cancel), and Enter then closes the dialog."""
    default.setDefault(True)
    for button in others:
        button.setAutoDefault(False)
