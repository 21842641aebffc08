"""A job's closure is not called once the widget that made it is gone (app/ui/lifetime.py)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot
from shiboken6 import delete

from app.ui.lifetime import while_alive


def test_a_callback_runs_while_its_widget_lives_and_not_after(qtbot: QtBot) -> None:
    label = QLabel()
    calls: list[str] = []

    def shown(text: str) -> None:
        calls.append(text)
        label.setText(text)

    show = while_alive(label, shown)
    show("probing")
    assert calls == ["probing"] and label.text() == "probing"
    delete(label)  # as when the dialog closes before the job ends
    show("done")  # would raise "Internal C++ object already deleted" unwrapped
    assert calls == ["probing"]
