"""Push-to-talk: F8 held anywhere in the main window records; its release, or leaving the window, stops. The key is
watched on the window (it travels up from the focused widget), not by an application-wide filter."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QMainWindow, QTextEdit, QWidget
from pytestqt.qtbot import QtBot

from app.ui.encounter.push_to_talk import RELEASE_GRACE_MS, PushToTalk


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


def _key(kind: QEvent.Type, repeat: bool = False, timestamp: int = 0) -> QKeyEvent:
    event = QKeyEvent(kind, Qt.Key.Key_F8, Qt.KeyboardModifier.NoModifier, "", repeat)
    event.setTimestamp(timestamp)
    return event


def _repeat(widget: QWidget, talk: PushToTalk, flagged: bool, timestamp: int) -> None:
    """One step of X11 key repeat: a release and a press at the same instant. An unflagged release is held back
    (it may be the real one); the press right behind it shows it was not."""
    QApplication.sendEvent(widget, _key(QEvent.Type.KeyRelease, flagged, timestamp))
    assert talk.releasing is not flagged
    QApplication.sendEvent(widget, _key(QEvent.Type.KeyPress, flagged, timestamp))
    assert not talk.releasing  # no release pending: nothing can end the recording


def test_holding_f8_in_a_text_field_records_until_it_is_released(qtbot: QtBot, window: QMainWindow) -> None:
    talk, dictation = _talk(window)
    editor = cast(QTextEdit, window.centralWidget())
    qtbot.keyPress(editor, Qt.Key.Key_F8)
    assert talk.held and dictation.calls == ["start"]
    QApplication.sendEvent(editor, _key(QEvent.Type.KeyPress, repeat=True))  # auto-repeat while held: no second start
    qtbot.keyRelease(editor, Qt.Key.Key_F8)
    qtbot.waitUntil(lambda: not talk.held, timeout=2000)
    assert dictation.calls == ["start", "stop"] and not talk.releasing
    talk.shutdown()


@pytest.mark.parametrize("flagged", [True, False], ids=["flagged-repeats", "unflagged-repeats"])
def test_key_repeat_while_f8_is_held_does_not_end_the_recording(
    qtbot: QtBot, window: QMainWindow, flagged: bool
) -> None:
    """X11 repeats a held key after ~0.7 s as release/press pairs, flagged `isAutoRepeat()` or (when Qt does not
    see the press queued behind the release) not flagged at all. Neither ends the recording; the real release does,
    once, and nothing starts again."""
    talk, dictation = _talk(window)
    editor = cast(QTextEdit, window.centralWidget())
    QApplication.sendEvent(editor, _key(QEvent.Type.KeyPress, timestamp=1000))
    for step in range(25):
        _repeat(editor, talk, flagged, 1660 + 40 * step)
        assert talk.held and dictation.calls == ["start"]
    with qtbot.waitSignal(talk._release_timer.timeout, timeout=RELEASE_GRACE_MS * 10):
        QApplication.sendEvent(editor, _key(QEvent.Type.KeyRelease, timestamp=2700))
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
