"""File → Change passphrase: the dialog, and the change itself on the store's thread through the same service as
`clinic-assistant store passwd` (`app/core/services/passphrases.py`): the same strength rule, the same re-key.

The names the new passphrase must not lean on (the patients') are read on the store's thread while the dialog opens;
the steps of the change arrive as the job's items and show in the dialog. A wrong current passphrase, a weak or a
mistyped new one is said in the dialog, which stays open with the field to retype selected."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from app.core.errors import InputError, WrongPassphrase
from app.core.services.passphrases import PassphraseStep, change_passphrase, words_to_avoid
from app.core.storage.passphrase import prepare_estimator
from app.ui.engines import EngineHub
from app.ui.errors import ErrorPresenter
from app.ui.session.change_passphrase_dialog import ChangePassphraseDialog
from app.ui.workers import Job

WRONG_CURRENT = "The current passphrase is wrong. Nothing was changed. Check Caps Lock and the keyboard layout."
LOCKED_BY_FAILURE = (
    "The passphrase was not changed, and the store was locked. Enter the current passphrase to continue."
)


def prepare_estimator_on(hub: EngineHub) -> Job:
    """Load the strength estimator on a worker lane, before the doctor's first key (see `prepare_estimator`)."""
    return hub.run_on("tools", lambda _t: prepare_estimator(), "preparing the passphrase check")


class PassphraseChange(QObject):
    changed = Signal()

    def __init__(
        self, hub: EngineHub, presenter: ErrorPresenter, window: QWidget, lock: Callable[[str], None]
    ) -> None:
        super().__init__()
        self.hub = hub
        self.presenter = presenter
        self.window = window
        self._lock = lock
        self.dialog: ChangePassphraseDialog | None = None
        self.job: Job | None = None  # the change under way

    @property
    def busy(self) -> bool:
        return self.job is not None

    def open(self) -> ChangePassphraseDialog:
        if self.dialog is not None:
            return self.dialog
        prepare_estimator_on(self.hub)
        settings = self.hub.settings
        dialog = ChangePassphraseDialog(words_to_avoid(settings), self.window)
        dialog.submitted.connect(lambda current, new: self._change(dialog, current, new))
        dialog.finished.connect(lambda _result: self._forget(dialog))
        self.dialog = dialog
        names = self.hub.run("store", lambda store, _t: words_to_avoid(settings, store), "reading names to avoid")
        names.finished.connect(lambda words: self._avoid_in(dialog, words))
        names.failed.connect(lambda exc: self.presenter.present(exc, "reading the patients' names"))
        dialog.open()
        return dialog

    def close(self) -> None:
        """The app locks or quits: the dialog goes (a change under way finishes on the store's thread)."""
        if self.dialog is not None:
            self.dialog.close_now()

    def _avoid_in(self, dialog: ChangePassphraseDialog, words: set[str]) -> None:
        if self.dialog is dialog:  # still open
            dialog.set_avoid(words)

    def _change(self, dialog: ChangePassphraseDialog, current: str, new: str) -> Job:
        settings = self.hub.settings
        job = self.hub.run(
            "store",
            lambda store, _t: change_passphrase(store, current, new, words_to_avoid(settings, store)),
            "changing the passphrase",
        )
        self.job = job
        job.yielded.connect(lambda step: self._step(dialog, step))
        job.failed.connect(lambda exc: self._failed(dialog, exc))
        job.ended.connect(lambda: self._ended(job))
        return job

    def _ended(self, job: Job) -> None:
        if self.job is job:
            self.job = None

    def _step(self, dialog: ChangePassphraseDialog, step: PassphraseStep) -> None:
        if step.done:
            self.presenter.notify(step.message)
            self.changed.emit()
            if self.dialog is dialog:
                dialog.accept()
        elif self.dialog is dialog:
            dialog.show_step(step.message)

    def _failed(self, dialog: ChangePassphraseDialog, exc: object) -> None:
        if isinstance(exc, WrongPassphrase):  # expected: said in the dialog, where the doctor retypes it
            text, field = WRONG_CURRENT, dialog.current
        elif isinstance(exc, InputError):  # too weak, or the same as before
            text, field = exc.one_line(), dialog.fields.first
        else:
            problem = self.presenter.present(exc, "changing the passphrase")
            text, field = (f"{problem.message} {problem.hint}".strip() if problem else ""), dialog.current
            self._lock_if_closed()
        if self.dialog is dialog:
            dialog.show_problem(text, field)

    def _lock_if_closed(self) -> Job:
        """A change that failed after the old file was closed leaves the store locked: the window must lock too
        (hide the records, ask for the passphrase), or every later job would fail."""
        job = self.hub.run("store", lambda store, _t: bool(store.is_unlocked), "checking the store is open")
        job.finished.connect(self._lock_unless_open)
        return job

    def _lock_unless_open(self, still_open: bool) -> None:
        if not still_open:
            self._lock(LOCKED_BY_FAILURE)

    def _forget(self, dialog: ChangePassphraseDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()
