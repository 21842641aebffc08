"""The clinic server's state in the window: its health in the status bar ("Clinic server: ready", "… not reachable
— retrying") and, while an answer waits in the server's queue, "Queued at the clinic server for 12 s" in the answer
panel's banner (Stop cancels the wait, like any answer).

The server backend reports its events on the LLM lane's thread (`ServerLlm.on_status`). `ServerStatusRelay` is the
listener the composition root gives every language model it builds; it only emits a Qt signal, which reaches the
controller on the GUI thread as a queued call: no widget is touched from the lane. Between answers the controller
asks the server for its health now and then (a few seconds' job on the LLM lane, more often while it cannot be
reached), so the status bar is right before the doctor asks for a draft.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from app.core.config import Settings
from app.core.llm.server_status import ServerHealth, ServerStatus, check_health, listen
from app.ui.assistant.answer_panel import AnswerPanel
from app.ui.assistant.drafts_controller import DraftsController
from app.ui.engines import EngineFactories, EngineHub
from app.ui.status import StatusFacts
from app.ui.workers import Job

if TYPE_CHECKING:
    from app.core.llm.base import LanguageModel

log = logging.getLogger(__name__)

CHECK_EVERY_MS = 60_000  # while the server is ready: is it still there?
RETRY_EVERY_MS = 10_000  # while it cannot be reached, is starting or reports a problem
TICK_MS = 1000  # the queued wait is counted in whole seconds

HEALTH_TEXT = {
    "ready": "Clinic server: ready",
    "starting": "Clinic server: starting — retrying",
    "unreachable": "Clinic server: not reachable — retrying",
    "refused": "Clinic server: refused this computer's key — check it in Settings",
    "problem": "Clinic server: not answering properly — retrying",
}
CHECKING = "Clinic server: checking…"
BUSY = "Clinic server: busy — answers are queued"
FALLBACK = "Clinic server: not reachable — this computer's model answers"


def queued_text(seconds: float) -> str:
    return f"Queued at the clinic server for {seconds:.0f} s — other rooms are being answered. Stop cancels the wait."


class ServerStatusRelay(QObject):
    """The language models' status listener: called on the LLM lane, it only emits `heard`, which Qt delivers on the
    thread of whoever listens (the GUI thread for the controller below)."""

    heard = Signal(object)  # ServerStatus

    def listener(self, status: ServerStatus) -> None:
        self.heard.emit(status)

    def attach_to(self, factories: EngineFactories) -> EngineFactories:
        """The same factories, with every language model they build reporting to this relay (a server backend
        does; a local model has nothing to report)."""
        build = factories.llm

        def language_model(settings: Settings, data_dir: Path, models_dir: Path) -> LanguageModel:
            llm = build(settings, data_dir, models_dir)
            listen(llm, self.listener)
            return llm

        return dataclasses.replace(factories, llm=language_model)


class ServerStatusController(QObject):
    """Shows the relay's events and the periodic health checks. Everything here runs on the GUI thread."""

    shown = Signal(str)  # the status bar's text, each time it changes (tests wait on it)

    def __init__(
        self, hub: EngineHub, relay: ServerStatusRelay, status: StatusFacts, answer: AnswerPanel,
        drafts: DraftsController,
    ) -> None:
        super().__init__()
        self.hub = hub
        self.status = status
        self.answer = answer
        self._active = False  # unlocked, with the model on the clinic server
        self._unlocked = False
        self._queued_since: float | None = None  # monotonic time the current answer's wait began
        self._text = ""
        self.check_every_ms = CHECK_EVERY_MS
        self.retry_every_ms = RETRY_EVERY_MS
        self._check: Job | None = None
        self._check_timer = QTimer(self)
        self._check_timer.setObjectName("serverHealthCheck")
        self._check_timer.setSingleShot(True)
        self._check_timer.timeout.connect(self.check)
        self._tick = QTimer(self)
        self._tick.setObjectName("serverQueuedTick")
        self._tick.setInterval(TICK_MS)
        self._tick.timeout.connect(self._show_wait)
        relay.heard.connect(self.heard)  # a bound method of this GUI-thread object: a queued call from the lane
        drafts.answer_started.connect(lambda _task: self._end_wait())
        drafts.generating_changed.connect(self._generating)

    def _generating(self, on: bool) -> None:
        if not on:
            self._end_wait()  # the answer ended (finished, stopped or failed): its wait is over too

    # -- life cycle ----------------------------------------------------------------------------------------------
    def start(self) -> None:
        """After unlock (the key is read from the store then): check now if the model runs on the server."""
        self._unlocked = True
        self.settings_changed(self.hub.settings)

    def stop(self) -> None:
        """Locking or closing: no more checks, nothing shown."""
        self._unlocked = False
        self._deactivate()

    shutdown = stop

    def settings_changed(self, settings: Settings) -> None:
        if self._unlocked and settings.llm.backend == "server":
            self._active = True
            self._show(CHECKING)
            self.check()
        else:
            self._deactivate()

    def _deactivate(self) -> None:
        self._active = False
        self._check_timer.stop()
        self._end_wait()
        if self._check is not None:
            self._check.cancel()
            self._check = None
        self._show("")

    # -- health --------------------------------------------------------------------------------------------------
    def check(self) -> Job | None:
        """Ask the server for its health on the LLM lane; behind an answer being written, it waits its turn."""
        if not self._active:
            return None
        if self._check is not None and not self._check.done:
            return self._check
        job = self.hub.run("llm", lambda llm, token: check_health(llm, token), "checking the clinic server",
                           slot="server-health")
        job.finished.connect(self._checked)
        job.failed.connect(lambda _exc: self._checked(ServerHealth("problem")))  # e.g. an unreadable CA file
        self._check = job
        return job

    def _checked(self, health: ServerHealth | None) -> None:
        if health is None or not self._active:  # the model was rebuilt local meanwhile, or the window locked
            return
        if self._queued_since is None or health.state != "ready":
            self._show(HEALTH_TEXT[health.state])
        self._after_check(health.state)

    def _after_check(self, state: str) -> None:
        if self._active:
            self._check_timer.start(self.check_every_ms if state == "ready" else self.retry_every_ms)

    # -- events from the lane --------------------------------------------------------------------------------------
    def heard(self, status: ServerStatus) -> None:
        if not self._active:
            return
        kind = status.kind
        if kind == "queued":
            if self._queued_since is None:
                self._queued_since = time.monotonic() - status.waited_s
                self._tick.start()
            self._show(BUSY)
            self._show_wait()
        elif kind == "started":
            self._end_wait()
            self._show(HEALTH_TEXT["ready"])
        elif kind == "ready" and self._queued_since is None:  # a server may say hello long before it starts
            self._show(HEALTH_TEXT["ready"])
        elif kind in ("retrying", "unreachable"):
            self._show(HEALTH_TEXT["unreachable"])
            if kind == "unreachable":
                self._check_timer.start(self.retry_every_ms)  # keep trying between answers
        elif kind == "fallback":
            self._show(FALLBACK)
            self._check_timer.start(self.retry_every_ms)

    def _show_wait(self) -> None:
        if self._queued_since is not None:
            self.answer.show_wait(queued_text(time.monotonic() - self._queued_since))

    def _end_wait(self) -> None:
        if self._queued_since is None:
            return
        self._queued_since = None
        self._tick.stop()
        self.answer.show_wait("")
        if self._text == BUSY:  # stopped while queued: the server is up, only busy
            self._show(HEALTH_TEXT["ready"])

    def _show(self, text: str) -> None:
        if text != self._text:
            self._text = text
            self.status.show_server(text)
            self.shown.emit(text)
