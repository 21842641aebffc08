"""The clinic server's API key in the window: read from the encrypted store after unlock (moving one an older
settings file still holds), and saved there when the settings dialog changes it. Store work runs on the store lane
(`app/core/services/server_key.py`); the GUI thread only adopts the result into the settings the engines use. The
settings file never receives the key (`save_settings` drops it)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.core.config import Settings
from app.core.services.server_key import StoredKey, key_after_unlock, store_key, with_key
from app.ui.engines import EngineHub
from app.ui.errors import ErrorPresenter
from app.ui.workers import Job

log = logging.getLogger(__name__)

MOVED_NOTICE = "The clinic server's key was moved from the settings file into the encrypted store."


class ServerKeyController(QObject):
    adopted = Signal()  # the key read after unlock is in the settings the engines use
    stored = Signal(bool)  # a key saved from the settings dialog (whether the store changed)

    def __init__(
        self, hub: EngineHub, presenter: ErrorPresenter, config_file: Path, apply: Callable[[Settings], None]
    ) -> None:
        super().__init__()
        self.hub = hub
        self.presenter = presenter
        self.config_file = config_file
        self._apply = apply  # adopts settings without saving them (the application's apply_settings)

    def after_unlock(self) -> Job:
        config_file = self.config_file
        job = self.hub.run("store", lambda store, _t: key_after_unlock(store, config_file),
                           "reading the clinic server's key")
        job.finished.connect(self._adopt)
        job.failed.connect(lambda exc: self.presenter.present(exc, "reading the clinic server's key"))
        return job

    def _adopt(self, stored: StoredKey) -> None:
        settings = with_key(self.hub.settings, stored.key)
        if settings is not self.hub.settings:
            self._apply(settings)  # the server backend is rebuilt with the key
        if stored.moved_from_file:
            self.presenter.notify(MOVED_NOTICE)
        self.adopted.emit()

    def store(self, key: str) -> Job:
        """The key typed in the settings dialog ("" removes it), saved on the store lane."""
        job = self.hub.run("store", lambda store, _t: store_key(store, key), "saving the clinic server's key")
        job.finished.connect(lambda changed: self.stored.emit(bool(changed)))
        job.failed.connect(lambda exc: self.presenter.present(exc, "saving the clinic server's key"))
        return job
