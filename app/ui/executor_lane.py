"""A lane whose thread belongs to a core executor: the store's `StoreWorker` (one thread owns the connection).

The window keeps its job API (ids, slots, cancel, dropped results); the work runs wherever the executor runs it,
and what it produces comes back to the GUI thread through queued signals. The GUI and the consultation pipeline
thus share one database thread, as storage/worker.py intends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future

from PySide6.QtCore import QObject, Qt, Signal

from app.core.storage.worker import StoreWorker
from app.ui.workers import JobToken, Lane, Outcome, _Envelope, execute

log = logging.getLogger(__name__)

Submit = Callable[[Callable[[], Outcome]], "Future[Outcome]"]


class ExecutorLane(Lane):
    _started = Signal(int)
    _outcome = Signal(int, object)

    def __init__(self, name: str, submit: Submit, shutdown: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(name, parent)
        self._run = submit
        self._stop_executor = shutdown
        # Emitted from the executor's thread: queued explicitly, delivered on the GUI thread.
        self._started.connect(self._on_started, Qt.ConnectionType.QueuedConnection)
        self._outcome.connect(self._on_outcome, Qt.ConnectionType.QueuedConnection)
        self._pending: list[Future[Outcome]] = []

    def _dispatch(self, envelope: _Envelope) -> None:
        def call() -> Outcome:
            if not envelope.token.cancelled:
                self._started.emit(envelope.job_id)
            return execute(envelope, self._post_item)

        future = self._run(call)
        self._pending = [f for f in self._pending if not f.done()]
        self._pending.append(future)
        job_id = envelope.job_id
        future.add_done_callback(lambda f: self._done(job_id, f))

    def _done(self, job_id: int, future: Future[Outcome]) -> None:
        exc = future.exception() if not future.cancelled() else None
        outcome = Outcome("stopped") if future.cancelled() else Outcome("error", exc) if exc else future.result()
        self._outcome.emit(job_id, outcome)

    def shutdown(
        self, final: Callable[[], None] | None = None, timeout_ms: int = 30000, cancel_pending: bool = True
    ) -> bool:
        """Let (or not) the queued jobs run, run `final` on the executor's thread, then stop the executor."""
        if self._closed:
            return True
        if cancel_pending:
            self.cancel_all()
        if final is not None:
            self._run(lambda: execute(_Envelope(0, "shutdown", JobToken(), lambda _t: final()), lambda *_: None))
        self._closed = True
        for future in self._pending:
            try:
                future.result(timeout=timeout_ms / 1000)
            except Exception:  # reported through the job already
                log.debug("a store job ended with an error during shutdown")
        self._stop_executor()
        self._end_leftovers()
        return True


def store_lane(worker: StoreWorker, parent: QObject | None = None) -> ExecutorLane:
    """The store lane over the storage layer's own `StoreWorker`: `work(token)` gets the `Store` via the hub."""
    return ExecutorLane("store", lambda call: worker.run(lambda _store: call()), worker.shutdown, parent)
