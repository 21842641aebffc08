"""Long work off the GUI thread: lanes (one thread each, owning one engine) that run jobs with ids.

A job is a function of a cancel token (`JobToken`). If it returns an iterator (segments, tokens, audio chunks,
progress), the lane iterates it on its thread, checking the token between items, and every item arrives on the GUI
thread as `Job.yielded` (callback-style core APIs use `token.emit` instead); the generator's return value (or a
plain function's result) arrives as `Job.finished`. Exactly one of `finished`, `failed`, `cancelled` is emitted per
job, then `ended`.

A lane runs one job at a time, in order, on one thread: that thread owns its engine (llama.cpp, CTranslate2, a
SQLite connection are not thread-safe), so nothing else ever touches it. Jobs submitted with a `slot` name supersede
the previous job of the same slot: it is cancelled and whatever it still produces is dropped, so a slow answer for
the patient clicked before never overwrites the patient shown now.

Items reach the GUI thread in bursts, not one queued signal each: the worker thread drops them in the lane's
mailbox and only the first item since the last delivery wakes the GUI thread, which then delivers all that are
waiting. A model streaming hundreds of tokens a second thus costs the GUI thread a few wake-ups (each of which must
take the GIL from busy worker threads) instead of one per token; every item is still its own `yielded` signal.
"""

from __future__ import annotations

import itertools
import logging
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from PySide6.QtCore import QObject, Qt, QThread, Signal, SignalInstance, Slot

from app.core.errors import Cancelled, CancelToken

log = logging.getLogger(__name__)

_job_ids = itertools.count(1)
# The GUI thread needs the GIL for every Python slot and for every event a Python object filters. While lane
# threads run Python (imports, spaCy, tokenising, re-identifying), the interpreter hands the GIL over once per switch
# interval (5 ms by default), and with several such threads the GUI thread may wait several intervals per slot.
# Measured with three Python-busy threads: longest GUI stall 126 ms at 5 ms, 28 ms at 1 ms.
GUI_SWITCH_INTERVAL_S = 0.001
DELIVERY_SLICE_S = 0.008  # a backlog of items is delivered in slices this long: the window repaints in between


def favour_the_gui_thread() -> None:
    """Shorten the interpreter's switch interval (never lengthen it): done when the first lane is made."""
    if sys.getswitchinterval() > GUI_SWITCH_INTERVAL_S:
        sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)


class JobToken(CancelToken):
    """The cancel token a job's work receives. `emit(value)` sends an item to the GUI thread like a `yield` does,
    for core APIs that report through a callback (`draft(..., on_piece=token.emit)`)."""

    __slots__ = ("_emit",)

    def __init__(self) -> None:
        super().__init__()
        self._emit: Callable[[object], None] = lambda _value: None

    def emit(self, value: object) -> None:
        self._emit(value)


Work = Callable[[JobToken], object]  # a value, or an iterator whose items are yielded one by one


class JobState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Job(QObject):
    """The GUI-thread handle of one piece of background work. Signals arrive on the GUI thread."""

    yielded = Signal(object)
    finished = Signal(object)
    failed = Signal(object)  # the exception; show it with ErrorPresenter
    cancelled = Signal()
    ended = Signal()

    def __init__(self, name: str, slot: str = "") -> None:
        super().__init__()
        self.id = next(_job_ids)
        self.name = name  # what the work is, for progress and logs: never patient text
        self.slot = slot
        self.token = JobToken()
        self.state = JobState.PENDING
        self.submitted_at = time.perf_counter()

    def cancel(self) -> None:
        """Ask the work to stop at its next check; from now on its results are dropped."""
        self.token.cancel()

    @property
    def done(self) -> bool:
        return self.state in (JobState.FINISHED, JobState.FAILED, JobState.CANCELLED)

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.name} {self.state}>"


@dataclass(frozen=True)
class _Envelope:
    job_id: int
    name: str
    token: JobToken
    work: Work


def _iterate(result: object) -> Iterator[object] | None:
    """An iterator to drain, or None when the work returned a plain value."""
    if isinstance(result, Iterator):
        return result
    if isinstance(result, Iterable) and not isinstance(result, (str, bytes, bytearray, list, tuple, dict, set)):
        return iter(result)  # e.g. the LLM's TokenStream: iterable, not an iterator
    return None


@dataclass(frozen=True)
class Outcome:
    kind: str  # "done" | "error" | "stopped"
    value: object = None


def execute(envelope: _Envelope, emit_item: Callable[[int, object], None]) -> Outcome:
    """Run one job on the calling (worker) thread: drain its iterator, checking the token between items."""
    token = envelope.token
    if token.cancelled:
        return Outcome("stopped")
    job_id = envelope.job_id
    token._emit = lambda value: emit_item(job_id, value)
    began = time.perf_counter()
    try:
        result = envelope.work(token)
        items = _iterate(result)
        if items is not None:
            result = None
            try:
                while True:
                    token.raise_if_cancelled()
                    try:
                        value = next(items)
                    except StopIteration as stop:
                        result = stop.value
                        break
                    emit_item(job_id, value)
            finally:
                close = getattr(items, "close", None)
                if close is not None:
                    close()  # a generator's finally blocks run here, on the owning thread
        token.raise_if_cancelled()
    except Cancelled:
        return Outcome("stopped")
    except BaseException as exc:  # handed to the GUI thread's ErrorPresenter, never swallowed
        return Outcome("error", exc)
    finally:
        log.debug("job %d %s ran %.3f s", job_id, envelope.name, time.perf_counter() - began)
    return Outcome("done", result)


class Lane(QObject):
    """The GUI-thread side of a worker thread: jobs by id, slots, and the one place results are delivered (or
    dropped, for a cancelled or superseded job). Subclasses decide which thread runs the work."""

    job_started = Signal(object)  # Job
    job_ended = Signal(object)  # Job
    _items_waiting = Signal()  # from a worker thread: the first item since the last delivery arrived

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        favour_the_gui_thread()
        self.name = name
        self._jobs: dict[int, Job] = {}
        self._slots: dict[str, Job] = {}
        self._closed = False
        self._mail: deque[tuple[int, object]] = deque()
        self._mail_lock = threading.Lock()
        self._wake_sent = False
        self.wakeups = 0  # deliveries the GUI thread was woken for (tests read it)
        self._items_waiting.connect(self._on_items_waiting, Qt.ConnectionType.QueuedConnection)

    # -- submitting ----------------------------------------------------------------------------------------------
    def submit(self, work: Work, name: str, slot: str = "") -> Job:
        """Queue `work(token)`. With `slot`, the previous job of that slot is cancelled and its results dropped."""
        if self._closed:
            raise RuntimeError(f"lane {self.name} is shut down")
        job = Job(name, slot)
        if slot:
            previous = self._slots.get(slot)
            if previous is not None and not previous.done:
                previous.cancel()
            self._slots[slot] = job
        self._jobs[job.id] = job
        self._dispatch(_Envelope(job.id, name, job.token, work))
        return job

    def _dispatch(self, envelope: _Envelope) -> None:
        raise NotImplementedError

    def shutdown(
        self, final: Callable[[], None] | None = None, timeout_ms: int = 30000, cancel_pending: bool = True
    ) -> bool:
        """Stop the lane: cancel its jobs (unless `cancel_pending` is False), run `final` on its thread."""
        raise NotImplementedError

    def run_on_thread(self, fn: Callable[[], object], name: str) -> Job:
        """A plain call on the lane's thread (no token needed), e.g. closing the engine it owns."""
        return self.submit(lambda _token: fn(), name)

    @property
    def busy(self) -> bool:
        return any(job.state == JobState.RUNNING for job in self._jobs.values())

    def pending_jobs(self) -> list[Job]:
        return list(self._jobs.values())

    def cancel_all(self) -> None:
        for job in list(self._jobs.values()):
            job.cancel()

    # -- results, on the GUI thread ------------------------------------------------------------------------------
    def _live(self, job_id: int) -> Job | None:
        job = self._jobs.get(job_id)
        if job is None or job.token.cancelled:
            return None  # superseded or stopped: whatever it still produced is dropped
        return job

    def _post_item(self, job_id: int, value: object) -> None:
        """On the worker thread: leave an item for the GUI thread; wake it only if no wake-up is on its way."""
        with self._mail_lock:
            self._mail.append((job_id, value))
            if self._wake_sent:
                return
            self._wake_sent = True
        self._items_waiting.emit()

    @Slot()
    def _on_items_waiting(self) -> None:
        self.wakeups += 1
        if self._deliver_items(time.perf_counter() + DELIVERY_SLICE_S):
            with self._mail_lock:
                self._wake_sent = True
            self._items_waiting.emit()  # the rest after the events that queued up meanwhile (a repaint, a tick)

    def _deliver_items(self, until: float | None = None) -> bool:
        """Deliver the items waiting, oldest first, until none is left (True if some are left at `until`). Also run
        before a start or an outcome, so that a job's items always come before its end, even when a slot spins a
        nested event loop mid-delivery."""
        with self._mail_lock:
            self._wake_sent = False  # items posted from now on send a new wake-up (or are taken by this loop)
        while True:
            with self._mail_lock:
                if not self._mail:
                    return False
                if until is not None and time.perf_counter() > until:
                    return True
                job_id, value = self._mail.popleft()
            self._on_item(job_id, value)

    @Slot(int)
    def _on_started(self, job_id: int) -> None:
        self._deliver_items()
        job = self._jobs.get(job_id)
        if job is not None:
            job.state = JobState.RUNNING
            self.job_started.emit(job)

    def _on_item(self, job_id: int, value: object) -> None:
        job = self._live(job_id)
        if job is not None:
            job.yielded.emit(value)

    @Slot(int, object)
    def _on_outcome(self, job_id: int, outcome: Outcome) -> None:
        self._deliver_items()
        job = self._jobs.get(job_id)
        if job is None:
            return
        if outcome.kind == "stopped" or job.token.cancelled:
            self._end(job, JobState.CANCELLED, job.cancelled, None)
        elif outcome.kind == "error":
            self._end(job, JobState.FAILED, job.failed, outcome.value)
        else:
            self._end(job, JobState.FINISHED, job.finished, outcome.value)

    def _end(self, job: Job, state: JobState, signal: SignalInstance, value: object) -> None:
        self._jobs.pop(job.id, None)
        if self._slots.get(job.slot) is job:
            del self._slots[job.slot]
        job.state = state
        if state == JobState.CANCELLED:
            signal.emit()
        else:
            signal.emit(value)
        job.ended.emit()
        self.job_ended.emit(job)

    def _end_leftovers(self) -> None:
        """After the thread stopped: every job still listed ends (cancelled) so listeners can clean up."""
        self._deliver_items()
        for job in list(self._jobs.values()):
            self._end(job, JobState.CANCELLED, job.cancelled, None)


class _Runner(QObject):
    """Lives on a JobLane's thread; runs envelopes one after another."""

    outcome = Signal(int, object)
    started = Signal(int)

    def __init__(self, thread_name: str, post_item: Callable[[int, object], None]) -> None:
        super().__init__()
        self._thread_name = thread_name
        self._post_item = post_item

    @Slot(object)
    def run(self, envelope: _Envelope) -> None:
        current = threading.current_thread()
        if current.name != self._thread_name:
            # A QThread is "Dummy-N" to Python: name it so logs and the stall probe's thread samples say which lane.
            current.name = self._thread_name
        if not envelope.token.cancelled:
            self.started.emit(envelope.job_id)
        self.outcome.emit(envelope.job_id, execute(envelope, self._post_item))


class JobLane(Lane):
    """A QThread of its own and the jobs queued on it. Create on the GUI thread; `shutdown()` before exit."""

    _submit = Signal(object)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(name, parent)
        self._thread = QThread()
        self._thread.setObjectName(f"lane-{name}")
        self._runner = _Runner(f"lane-{name}", self._post_item)
        self._runner.moveToThread(self._thread)
        self._submit.connect(self._runner.run)
        self._runner.outcome.connect(self._on_outcome)
        self._runner.started.connect(self._on_started)
        self._thread.finished.connect(self._runner.deleteLater)
        self._thread.start()

    def _dispatch(self, envelope: _Envelope) -> None:
        self._submit.emit(envelope)

    def shutdown(
        self, final: Callable[[], None] | None = None, timeout_ms: int = 30000, cancel_pending: bool = True
    ) -> bool:
        """Cancel everything (or, with `cancel_pending=False`, let queued jobs finish), run `final` (e.g. close the
        engine) on the lane's thread, stop the thread.

        Returns False if the thread did not stop in time (a native call that cannot be interrupted)."""
        if self._closed:
            return True
        if cancel_pending:
            self.cancel_all()
        if final is not None:
            self._submit.emit(_Envelope(next(_job_ids), "shutdown", JobToken(), lambda _t: final()))
        self._closed = True
        self._thread.quit()
        stopped = bool(self._thread.wait(timeout_ms))
        if not stopped:
            log.warning("lane %s did not stop within %d ms", self.name, timeout_ms)
        self._end_leftovers()
        return stopped


class Stoppable(Protocol):
    """An audio source or a reader: `stop()` may be called from any thread."""

    def stop(self) -> None: ...


class StopHandle:
    """Stop a source that is created on another thread, whether Stop comes before or after it exists."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._source: Stoppable | None = None
        self._stopped = False

    def attach(self, source: Stoppable) -> None:
        with self._lock:
            self._source = source
            stop_now = self._stopped
        if stop_now:
            source.stop()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            source = self._source
        if source is not None:
            source.stop()

    @property
    def stopped(self) -> bool:
        return self._stopped
