"""Push-to-talk: record while a key (F8) is held down, anywhere in the main window.

A QAction shortcut only reports presses, so an event filter watches the key's press and release. The filter sits
on the main window, not on the application: a key no widget handles (F8 is one) travels up to the window, where the
filter sees it, while an application-wide Python filter would run for every event of every object and make each one
wait for the GIL whenever a worker thread runs Python (the stall probe measured that). Losing the window (a dialog,
another program) counts as releasing the key. Only active while an encounter is open and the window is unlocked and
active.

Holding a key makes X11 repeat it after about 0.7 s: a release and a press, 25 times a second. Qt flags the pair
`isAutoRepeat()` only when it finds the press already queued behind the release; often it does not (measured under
Xvfb: every pair arrived unflagged, release and press with the same timestamp). So a release only ends the recording
when no press of the key follows it within `RELEASE_GRACE_MS`; flagged repeats are ignored outright.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QWidget

from app.ui.shortcuts import PUSH_TO_TALK_KEY

_KEYS = (QEvent.Type.KeyPress, QEvent.Type.KeyRelease)
# A repeated press follows its release at once (same timestamp); the margin covers a busy event loop. The doctor's
# real release ends the recording this much later, which only keeps a moment more of silence.
RELEASE_GRACE_MS = 150


class Dictation(Protocol):
    def start(self) -> object: ...

    def stop(self) -> None: ...


class PushToTalk(QObject):
    def __init__(
        self,
        window: QWidget,
        dictation: Dictation,
        enabled: Callable[[], bool],
        key: Qt.Key = PUSH_TO_TALK_KEY,
    ) -> None:
        super().__init__()
        self.window = window
        self.dictation = dictation
        self.enabled = enabled
        self.key = key
        self.held = False
        self._release_timer = QTimer(self)
        self._release_timer.setObjectName("pushToTalkRelease")
        self._release_timer.setSingleShot(True)
        self._release_timer.setInterval(RELEASE_GRACE_MS)
        self._release_timer.timeout.connect(self._release)
        window.installEventFilter(self)

    @property
    def releasing(self) -> bool:
        """A release was seen and the recording ends unless the key turns out to be repeating."""
        return self._release_timer.isActive()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.WindowDeactivate and self.held:
            self._release()
            return False
        if kind not in _KEYS or not isinstance(event, QKeyEvent) or event.key() != self.key:
            return False
        if kind == QEvent.Type.KeyPress:
            return self._pressed(event)
        return self._released(event)

    def _pressed(self, event: QKeyEvent) -> bool:
        if self.held:
            self._release_timer.stop()  # the release just before was the key repeating: keep recording
            return True
        if event.isAutoRepeat():
            return True  # a repeat of a press that did not start a recording (the encounter was not open)
        if not self.enabled():
            return False
        self.held = True
        self.dictation.start()
        return True

    def _released(self, event: QKeyEvent) -> bool:
        if not self.held:
            return event.isAutoRepeat()
        if not event.isAutoRepeat():
            self._release_timer.start()
        return True

    def _release(self) -> None:
        self._release_timer.stop()
        self.held = False
        self.dictation.stop()

    def shutdown(self) -> None:
        self._release_timer.stop()
        self.window.removeEventFilter(self)
