"""The session: first run or unlock at start, lock on demand or after idle time, unlock again; and changing the
passphrase (File → Change passphrase), on the store's thread like the CLI's `store passwd`.

Locking hides patient data first (listeners of `locking` clear their views and queue their last saves on the store
lane), then closes the store on its thread (SQLCipher forgets the key), then asks for the passphrase. Work that is
running (dictation, an answer being written, speech) counts as activity: the app never locks under the doctor's
voice. The idle clock is injectable so tests need not wait minutes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QWindow
from PySide6.QtWidgets import QWidget

from app.core.config import Settings, save_settings
from app.core.errors import WrongPassphrase
from app.core.storage.opening import StoreDamaged
from app.core.storage.salvage import salvage_target
from app.ui.engines import EngineHub
from app.ui.errors import ErrorPresenter
from app.ui.session.change_passphrase_dialog import ChangePassphraseDialog
from app.ui.session.first_run import FirstRunWizard
from app.ui.session.passphrase_change import PassphraseChange, prepare_estimator_on
from app.ui.session.salvage_offer import SalvageOffer
from app.ui.session.unlock_dialog import UnlockDialog
from app.ui.workers import Job

log = logging.getLogger(__name__)

_ACTIVITY = {
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.Wheel,
    QEvent.Type.TouchBegin,
}
MAX_CHECK_MS = 15000
LOCKED_MESSAGE = "Clinic Assistant is locked. The patient records are hidden until the passphrase is entered."


class SessionController(QObject):
    unlocked = Signal()
    passphrase_asked = Signal()  # the unlock dialog opened: the doctor is typing for a few seconds
    locking = Signal(str)  # reason: hide patient data now
    locked = Signal(str)
    settings_saved = Signal(object)  # Settings chosen in the first-run wizard

    def __init__(
        self,
        hub: EngineHub,
        presenter: ErrorPresenter,
        parent_window: QWidget,
        config_file: Path,
        busy: Callable[[], bool] = lambda: False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.hub = hub
        self.presenter = presenter
        self.window = parent_window
        self.config_file = config_file
        self.busy = busy
        self.clock = clock
        self.is_unlocked = False
        self.is_locking = False
        # Called before locking; each may return a job to wait for (a dictation finishing its last words).
        self.before_lock: list[Callable[[], Job | None]] = []
        self.wizard: FirstRunWizard | None = None
        self.unlock_dialog: UnlockDialog | None = None
        self.salvage_offer: SalvageOffer | None = None
        self.passphrase = PassphraseChange(hub, presenter, parent_window, self.lock)
        self._last_activity = clock()
        self._idle_timer = QTimer(self)
        self._idle_timer.setObjectName("idleLock")
        self._idle_timer.timeout.connect(self.check_idle)
        self._limit_s = 0.0
        # Input is watched on the focused top-level window, not on the whole application: an application-wide
        # Python filter runs for every event of every object (paints, timers, queued signals), each a GIL round
        # trip that stalls the window while the workers hold the GIL; the window's own QWindow sees only the
        # doctor's keys and mouse (the platform delivers input there before any widget).
        self._watching = isinstance(app := QGuiApplication.instance(), QGuiApplication)
        if isinstance(app, QGuiApplication):
            app.focusWindowChanged.connect(self._watch)
            self._watch(app.focusWindow())

    # -- start ---------------------------------------------------------------------------------------------------
    def start(self) -> Job:
        job = self.hub.run("store", lambda store, _t: bool(store.exists()), "checking for a store")
        job.finished.connect(lambda exists: self._started(bool(exists)))
        job.failed.connect(lambda exc: self.presenter.present(exc, "opening the store"))
        return job

    def _started(self, store_exists: bool) -> None:
        if store_exists:
            self.locked.emit(LOCKED_MESSAGE)  # the window says so behind the dialog, should it be cancelled
            self.ask_unlock()
        else:
            self.first_run()

    def first_run(self) -> FirstRunWizard:
        prepare_estimator_on(self.hub)
        wizard = FirstRunWizard(self.hub, self.presenter, self.window)
        wizard.completed.connect(self.create_store)
        wizard.rejected.connect(self._forget_dialogs)
        self.wizard = wizard
        wizard.open()
        return wizard

    def create_store(self, passphrase: str, settings: Settings) -> Job:
        try:
            save_settings(settings, self.config_file)
        except OSError as exc:
            log.warning("could not save the first-run settings: %s", type(exc).__name__)
        self.hub.apply_settings(settings)
        self.settings_saved.emit(settings)
        job = self.hub.run("store", lambda store, _t: store.create(passphrase), "creating the store")
        job.finished.connect(self._created)
        job.failed.connect(self._create_failed)
        return job

    def _created(self, _value: object) -> None:
        if self.wizard is not None:
            self.wizard.finished_ok()
            self.wizard = None
        self._became_unlocked()

    def _create_failed(self, exc: object) -> None:
        problem = self.presenter.present(exc, "creating the encrypted store")
        if self.wizard is not None and problem is not None:
            self.wizard.failed(f"{problem.message}. {problem.hint}".strip())

    # -- unlock --------------------------------------------------------------------------------------------------
    def ask_unlock(self, reason: str = "") -> UnlockDialog:
        if self.unlock_dialog is not None:
            return self.unlock_dialog
        dialog = UnlockDialog(reason, self.window)
        dialog.submitted.connect(self.unlock)
        dialog.rejected.connect(self._forget_dialogs)
        self.unlock_dialog = dialog
        dialog.open()
        self.passphrase_asked.emit()
        return dialog

    def unlock(self, passphrase: str) -> Job:
        job = self.hub.run("store", lambda store, _t: store.unlock(passphrase), "unlocking", slot="unlock")
        job.finished.connect(self._unlocked_ok)
        job.failed.connect(lambda exc: self._unlock_failed(exc, passphrase))
        return job

    def _unlocked_ok(self, _value: object) -> None:
        if self.unlock_dialog is not None:
            self.unlock_dialog.accept()
            self.unlock_dialog = None
        self._became_unlocked()

    def _unlock_failed(self, exc: object, passphrase: str = "") -> None:
        if isinstance(exc, StoreDamaged) and passphrase:  # the passphrase was right: offer to salvage
            if self.unlock_dialog is not None:
                self.unlock_dialog.show_problem(exc.message)
            self.offer_salvage(exc, passphrase)
            return
        if isinstance(exc, WrongPassphrase):  # expected: said inside the dialog, not in a banner over the records
            text = exc.one_line()
        else:
            problem = self.presenter.present(exc, "unlocking the store")
            text = f"{problem.message} {problem.hint}".strip() if problem else ""
        if self.unlock_dialog is not None:
            self.unlock_dialog.show_problem(text)

    def offer_salvage(self, problem: StoreDamaged, passphrase: str) -> SalvageOffer:
        """Ask whether to copy every readable record into a new store beside the damaged one. The passphrase is
        kept only by this offer's connection, which goes when the offer is closed."""
        if self.salvage_offer is not None:
            self.salvage_offer.close()
        offer = SalvageOffer(problem, self.window)
        offer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        offer.salvage_requested.connect(lambda: self.salvage(offer, passphrase))
        offer.finished.connect(lambda _result: self._forget_offer(offer))
        self.salvage_offer = offer
        offer.open()
        return offer

    def salvage(self, offer: SalvageOffer, passphrase: str) -> Job:
        """Write the salvaged copy next to the store, on the store's thread (it reads every page)."""
        target = salvage_target(self.hub.data_dir, datetime.now())
        job = self.hub.run("store", lambda store, _t: store.salvage(target, passphrase), "salvaging the store")
        job.finished.connect(offer.show_result)
        job.failed.connect(lambda exc: self._salvage_failed(offer, exc))
        return job

    def _salvage_failed(self, offer: SalvageOffer, exc: object) -> None:
        problem = self.presenter.present(exc, "salvaging the store")
        if self.salvage_offer is offer:  # still open (a closed one is already deleted)
            offer.show_failure(f"{problem.message} {problem.hint}".strip() if problem else "")

    def _forget_offer(self, offer: SalvageOffer) -> None:
        if self.salvage_offer is offer:
            self.salvage_offer = None

    def _became_unlocked(self) -> None:
        self.is_unlocked = True
        self.note_activity()
        self._arm_idle_timer()
        log.info("session unlocked")
        self.unlocked.emit()

    def _forget_dialogs(self) -> None:
        self.wizard = None
        self.unlock_dialog = None

    # -- lock ----------------------------------------------------------------------------------------------------
    def lock(self, reason: str = LOCKED_MESSAGE) -> None:
        """Lock once the work that must not be lost (a dictation's last words) has finished."""
        if not self.is_unlocked or self.is_locking:
            return
        self.is_locking = True
        self._idle_timer.stop()
        pending = [job for hook in self.before_lock if (job := hook()) is not None and not job.done]
        if not pending:
            self._lock_now(reason)
            return
        waiting = {job.id for job in pending}

        def one_ended(job_id: int) -> None:
            waiting.discard(job_id)
            if not waiting:
                self._lock_now(reason)

        for job in pending:
            job.ended.connect(lambda job_id=job.id: one_ended(job_id))

    def _lock_now(self, reason: str) -> Job:
        self.is_unlocked = False
        self.is_locking = False
        self.locking.emit(reason)  # views clear now; pending saves are already queued ahead of the lock below
        job = self.hub.run("store", lambda store, _t: store.lock(), "locking")
        job.failed.connect(lambda exc: self.presenter.present(exc, "locking the store"))
        job.ended.connect(lambda: self.locked.emit(reason))
        log.info("session locked")
        self.passphrase.close()
        self.ask_unlock()  # the reason is on the locked page behind it: said once
        return job

    # -- change passphrase ---------------------------------------------------------------------------------------
    def change_passphrase(self) -> ChangePassphraseDialog | None:
        """File → Change passphrase (only while unlocked: the current passphrase is proven on the open store)."""
        return self.passphrase.open() if self.is_unlocked else None

    # -- idle ----------------------------------------------------------------------------------------------------
    def apply_settings(self, settings: Settings) -> None:
        self._limit_s = settings.storage.auto_lock_minutes * 60.0
        self._arm_idle_timer()

    def set_idle_limit(self, seconds: float) -> None:
        self._limit_s = seconds
        self._arm_idle_timer()

    def _arm_idle_timer(self) -> None:
        self._idle_timer.stop()
        if self._limit_s > 0 and self.is_unlocked:
            # Check a few times per limit: a lock comes at most a quarter of the limit late.
            self._idle_timer.start(int(min(max(self._limit_s * 250, 20), MAX_CHECK_MS)))

    def note_activity(self) -> None:
        self._last_activity = self.clock()

    def idle_seconds(self) -> float:
        return self.clock() - self._last_activity

    def check_idle(self) -> None:
        if not self.is_unlocked or self._limit_s <= 0:
            return
        if self.busy() or self.passphrase.busy:  # a re-encryption is never cut by an idle lock
            self.note_activity()
            return
        if self.idle_seconds() >= self._limit_s:
            minutes = self._limit_s / 60.0
            unit = "minute" if minutes == 1 else "minutes"
            self.lock(f"Clinic Assistant locked itself after {minutes:g} idle {unit}. The patient records are hidden "
                      "until the passphrase is entered.")

    def _watch(self, window: QWindow | None) -> None:
        if window is not None:
            window.installEventFilter(self)  # installing twice keeps one filter

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _ACTIVITY:
            self._last_activity = self.clock()
        return False

    def shutdown(self) -> None:
        self._idle_timer.stop()
        if self._watching and isinstance(app := QGuiApplication.instance(), QGuiApplication):
            self._watching = False  # shutting down twice must not disconnect twice
            app.focusWindowChanged.disconnect(self._watch)
            for window in app.topLevelWindows():
                window.removeEventFilter(self)
        self.passphrase.close()
        for dialog in (self.wizard, self.unlock_dialog, self.salvage_offer):
            if dialog is not None:
                dialog.close()
        self._forget_dialogs()
        self.salvage_offer = None

