"""Push-to-talk: record while a key (F8) is held down, anywhere in the main window.

A QAction shortcut only reports presses, so an application event filter watches the key's press and release
(auto-repeat ignored). Only active while an encounter is open and the window is unlocked and active."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget

from app.ui.encounter.dictation_controller import DictationController
from app.ui.shortcuts import PUSH_TO_TALK_KEY


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
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) or not isinstance(event, QKeyEvent):
            return False
        if event.key() != self.key:
            return False
        if event.isAutoRepeat():
            return True  # holding the key: one press, one release
        in_window = isinstance(watched, QWidget) and watched.window() is self.window
        if kind == QEvent.Type.KeyPress and in_window and self.enabled() and not self.held:
            self.held = True
            self.dictation.start()
            return True
        if kind == QEvent.Type.KeyRelease and self.held:
            self.held = False
            self.dictation.stop()
            return True
        return False

    def shutdown(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
