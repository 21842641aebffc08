"""Push-to-talk: F8 held anywhere in the main window records; its release, or leaving the window, stops. The key is
watched on the window (it travels up from the focused widget), not by an application-wide filter."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QMainWindow, QTextEdit
from pytestqt.qtbot import QtBot

from app.ui.encounter.push_to_talk import PushToTalk


class FakeDictation:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def start(self) -> None:
        self.calls.append("start")

    def stop(self) -> None:
        self.calls.append("stop")


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[QMainWindow]:
    window = QMainWindow()
    window.setCentralWidget(QTextEdit())
    qtbot.addWidget(window)
    yield window


def _talk(window: QMainWindow, enabled: bool = True) -> tuple[PushToTalk, FakeDictation]:
    dictation = FakeDictation()
    return PushToTalk(window, cast(Any, dictation), lambda: enabled), dictation


def test_holding_f8_in_a_text_field_records_until_it_is_released(qtbot: QtBot, window: QMainWindow) -> None:
    talk, dictation = _talk(window)
    editor = cast(QTextEdit, window.centralWidget())
    qtbot.keyPress(editor, Qt.Key.Key_F8)
    assert talk.held and dictation.calls == ["start"]
    repeat = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_F8, Qt.KeyboardModifier.NoModifier, "", True)
    QApplication.sendEvent(editor, repeat)  # auto-repeat while held: no second start
    qtbot.keyRelease(editor, Qt.Key.Key_F8)
    assert not talk.held and dictation.calls == ["start", "stop"]
    talk.shutdown()


def test_leaving_the_window_while_holding_f8_stops(qtbot: QtBot, window: QMainWindow) -> None:
    talk, dictation = _talk(window)
    qtbot.keyPress(window.centralWidget(), Qt.Key.Key_F8)
    QApplication.sendEvent(window, QEvent(QEvent.Type.WindowDeactivate))
    assert not talk.held and dictation.calls == ["start", "stop"]
    talk.shutdown()


def test_other_keys_and_a_disabled_encounter_are_left_alone(qtbot: QtBot, window: QMainWindow) -> None:
    talk, dictation = _talk(window, enabled=False)
    editor = cast(QTextEdit, window.centralWidget())
    qtbot.keyClicks(editor, "ok")
    qtbot.keyPress(editor, Qt.Key.Key_F8)
    qtbot.keyRelease(editor, Qt.Key.Key_F8)
    assert dictation.calls == [] and editor.toPlainText() == "ok"
    talk.shutdown()
