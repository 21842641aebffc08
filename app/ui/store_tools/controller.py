"""Runs the store dialogs' work on the store lane: a backup; a restore checked first, confirmed, then done.

Before a restore replaces the records, the window puts away what shows them (the open encounter is saved and closed,
the patient list emptied: `before_restore`); when it is over — restored, refused or stopped — `restore_ended` says
whether the store is still unlocked, so the window reloads the patient list (or asks for the passphrase, if a
failure half-way left it locked).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from app.core.errors import CancelToken, WrongPassphrase
from app.core.services import store_copies
from app.core.services.store_copies import BackupCheck, CopyStep
from app.core.storage.records import BackupInfo
from app.ui.engines import EngineHub
from app.ui.errors import ErrorPresenter
from app.ui.store_tools.backup_dialog import BackupDialog
from app.ui.store_tools.restore_dialog import RestoreDialog
from app.ui.store_tools.tool_dialog import ToolDialog
from app.ui.workers import Job

if TYPE_CHECKING:
    from app.core.storage.store import Store

log = logging.getLogger(__name__)

BeforeRestore = Callable[[Callable[[], None]], None]  # put the patient data away, then call the continuation


def _now(go: Callable[[], None]) -> None:
    go()


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "?", "!")) else text + "."


class StoreTools(QObject):
    backed_up = Signal(object)  # BackupInfo
    restored = Signal(object)  # BackupInfo
    restore_ended = Signal(bool)  # the restore is over (done, refused or stopped): is the store still unlocked?

    def __init__(
        self, hub: EngineHub, presenter: ErrorPresenter, window: QWidget, before_restore: BeforeRestore = _now
    ) -> None:
        super().__init__()
        self.hub = hub
        self.presenter = presenter
        self.window = window
        self.before_restore = before_restore
        self.backup_dialog: BackupDialog | None = None
        self.restore_dialog: RestoreDialog | None = None
        self._job: Job | None = None
        self._stop: Callable[[], None] | None = None  # what Cancel does for the work under way
        self._restoring = False

    @property
    def busy(self) -> bool:
        """Work under way counts as activity: no automatic lock in the middle of a restore."""
        return self._restoring or (self._job is not None and not self._job.done)

    def _open(self, dialog: ToolDialog) -> None:
        dialog.cancel_requested.connect(self._cancel)
        dialog.finished.connect(lambda _result: self._closed(dialog))
        dialog.open()

    def _closed(self, dialog: ToolDialog) -> None:
        if self.backup_dialog is dialog:
            self.backup_dialog = None
        if self.restore_dialog is dialog:
            self.restore_dialog = None
        dialog.deleteLater()

    def _open_now(self, dialog: ToolDialog) -> bool:
        """Still shown: a dialog closed by a lock while its work ran is gone (the work's end is only logged)."""
        return dialog is self.backup_dialog or dialog is self.restore_dialog

    def _cancel(self) -> None:
        if self._stop is not None:
            self._stop()

    def close(self) -> None:
        """The app locks or closes: the dialogs go (work already under way on the store lane runs to its end)."""
        for dialog in (self.backup_dialog, self.restore_dialog):
            if dialog is not None:
                dialog.running = False
                dialog.reject()

    def _track(self, job: Job, dialog: ToolDialog, stop: Callable[[], None]) -> Job:
        self._job, self._stop = job, stop
        job.yielded.connect(lambda step: self._step(dialog, step))
        job.ended.connect(lambda: self._untrack(job))
        return job

    def _untrack(self, job: Job) -> None:
        if self._job is job:
            self._job, self._stop = None, None

    def _step(self, dialog: ToolDialog, step: object) -> None:
        if isinstance(step, CopyStep) and self._open_now(dialog):
            dialog.show_step(step.message, step.can_stop)

    def _stopped(self, dialog: ToolDialog, text: str) -> None:
        if self._open_now(dialog):
            dialog.show_problem(text)

    def _problem(self, dialog: ToolDialog, exc: object, doing: str) -> None:
        """Said in the dialog, where the doctor is looking, and through the one path every failure takes (the
        banner, the log)."""
        problem = self.presenter.present(exc, doing)
        if problem is not None and self._open_now(dialog):
            dialog.show_problem(" ".join(_sentence(t) for t in (problem.message, problem.hint) if t.strip()))

    # -- backup --------------------------------------------------------------------------------------------------
    def open_backup(self) -> BackupDialog:
        if self.backup_dialog is not None:
            self.backup_dialog.raise_()
            return self.backup_dialog
        dialog = BackupDialog(self.window)
        dialog.backup_requested.connect(lambda path, replace: self.backup(dialog, path, replace))
        self.backup_dialog = dialog
        self._open(dialog)
        return dialog

    def backup(self, dialog: BackupDialog, dest: Path, overwrite: bool) -> Job:
        stop = CancelToken()
        dialog.begin("Waiting for the store…")
        job = self.hub.run(
            "store",
            lambda store, _t: store_copies.back_up(store, dest, stop, overwrite=overwrite),
            "backing up the store",
        )
        job.finished.connect(lambda info: self._backed_up(dialog, info))
        job.failed.connect(lambda exc: self._problem(dialog, exc, "backing up the store"))
        job.cancelled.connect(lambda: self._stopped(dialog, "Stopped: no backup was written."))
        return self._track(job, dialog, stop.cancel)

    def _backed_up(self, dialog: BackupDialog, info: BackupInfo) -> None:
        if self._open_now(dialog):
            dialog.backed_up(info)
        self.presenter.notify(f"Backed up the store to {info.path}.")
        self.backed_up.emit(info)

    # -- restore -------------------------------------------------------------------------------------------------
    def open_restore(self) -> RestoreDialog:
        if self.restore_dialog is not None:
            self.restore_dialog.raise_()
            return self.restore_dialog
        dialog = RestoreDialog(self.window)
        dialog.check_requested.connect(lambda path, passphrase: self.check(dialog, path, passphrase))
        dialog.restore_confirmed.connect(lambda path, passphrase: self.restore(dialog, path, passphrase))
        self.restore_dialog = dialog
        self._open(dialog)
        return dialog

    def check(self, dialog: RestoreDialog, src: Path, passphrase: str) -> Job:
        """Prove the passphrase and verify the whole backup (read-only: stopping it is always safe)."""
        dialog.begin("Opening the backup with its passphrase and checking every page…")
        job = self.hub.run(
            "store", lambda store, _t: store_copies.check_backup(store, src, passphrase), "checking the backup"
        )
        job.finished.connect(lambda check: self._checked(dialog, check, src))
        job.failed.connect(lambda exc: self._refused(dialog, exc, "checking the backup"))
        job.cancelled.connect(lambda: self._ready_again(dialog))
        return self._track(job, dialog, job.cancel)

    def _ready_again(self, dialog: RestoreDialog) -> None:
        if self._open_now(dialog):
            dialog.idle()

    def _checked(self, dialog: RestoreDialog, check: BackupCheck, src: Path) -> None:
        if self.restore_dialog is dialog:
            dialog.confirm(check, src)

    def _refused(self, dialog: RestoreDialog, exc: object, doing: str) -> None:
        if isinstance(exc, WrongPassphrase):  # expected: said beside the passphrase, not in a banner
            if self._open_now(dialog):
                dialog.passphrase_refused(exc.one_line())
            return
        self._problem(dialog, exc, doing)

    def restore(self, dialog: RestoreDialog, src: Path, passphrase: str) -> None:
        """Confirmed: put the patient data away, then replace the records (checked once more on the way)."""
        stop = CancelToken()
        self._stop = stop.cancel
        self._restoring = True
        dialog.begin("Saving and closing what is open…")

        def replace() -> None:
            self._replace(dialog, src, passphrase, stop)

        self.before_restore(replace)

    def _replace(self, dialog: RestoreDialog, src: Path, passphrase: str, stop: CancelToken) -> Job:
        def work(store: Store, _token: object) -> object:
            return store_copies.restore(store, src, passphrase, stop)

        job = self.hub.run("store", work, "restoring a backup")
        job.finished.connect(lambda info: self._restored(dialog, info))
        job.failed.connect(lambda exc: self._refused(dialog, exc, "restoring the backup"))
        job.cancelled.connect(lambda: self._stopped(dialog, "Stopped: nothing was replaced."))
        job.ended.connect(self._after_restore)
        return self._track(job, dialog, stop.cancel)

    def _restored(self, dialog: RestoreDialog, info: BackupInfo) -> None:
        log.info("a backup was restored from the window")
        if self._open_now(dialog):
            dialog.restored(info)
        self.presenter.notify("Restored the backup.")
        self.restored.emit(info)

    def _after_restore(self) -> None:
        job = self.hub.run("store", lambda store, _t: store.is_unlocked, "checking the store")
        job.finished.connect(self._restore_over)
        job.failed.connect(lambda _exc: self._restore_over(False))

    def _restore_over(self, unlocked: bool) -> None:
        self._restoring = False
        self.restore_ended.emit(bool(unlocked))
