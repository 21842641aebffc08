"""Push-to-talk: record while a key (F8) is held down, anywhere in the main window.

A QAction shortcut only reports presses, so an event filter watches the key's press and release (auto-repeat
ignored). The filter sits on the main window, not on the application: a key no widget handles (F8 is one) travels
up to the window, where the filter sees it, while an application-wide Python filter would run for every event of
every object and make each one wait for the GIL whenever a worker thread runs Python (the stall probe measured
that). Losing the window (a dialog, another program) counts as releasing the key. Only active while an encounter
is open and the window is unlocked and active."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QWidget

from app.ui.encounter.dictation_controller import DictationController
from app.ui.shortcuts import PUSH_TO_TALK_KEY

_KEYS = (QEvent.Type.KeyPress, QEvent.Type.KeyRelease)


class PushToTalk(QObject):
    def __init__(
        self,
        window: QWidget,
        dictation: DictationController,
        enabled: Callable[[], bool],
        key: Qt.Key = PUSH_TO_TALK_KEY,
    ) -> None:
        super().__init__()
        self.window = window
        self.dictation = dictation
        self.enabled = enabled
        self.key = key
        self.held = False
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.WindowDeactivate and self.held:
            self._release()
            return False
        if kind not in _KEYS or not isinstance(event, QKeyEvent) or event.key() != self.key:
            return False
        if event.isAutoRepeat():
            return True  # holding the key: one press, one release
        if kind == QEvent.Type.KeyPress and self.enabled() and not self.held:
            self.held = True
            self.dictation.start()
            return True
        if kind == QEvent.Type.KeyRelease and self.held:
            self._release()
            return True
        return False

    def _release(self) -> None:
        self.held = False
        self.dictation.stop()

    def shutdown(self) -> None:
        self.window.removeEventFilter(self)
