"""The one thread that owns the in-process model.

llama.cpp's `Llama` object is not thread-safe, so every call on it (load, tokenise, generate, close) runs here, one
job after another. When no job arrives for `idle_s` seconds the thread itself calls `on_idle` (unloading the model
to free VRAM), so the model is never touched from two threads, not even by the unload timer.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
_STOP = object()
# llama.cpp computes on every core for as long as an answer streams. At this niceness its threads (and the compute
# threads it starts from this one, which inherit it) still get every core nobody else wants, but yield them to the
# window and to live dictation (the stall probe saw the GUI thread get 20-40 ms of CPU in its 100-170 ms stalls
# while the worker threads shared both cores).
BACKGROUND_NICENESS = 5  # added to the process's own


def _run_in_background() -> None:
    """Lower this thread's CPU priority (Linux: niceness is per thread). Best effort: never fails the worker."""
    if not sys.platform.startswith("linux"):
        return
    thread = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + BACKGROUND_NICENESS))
    except OSError as exc:  # a sandbox may forbid it; the model still runs, only at normal priority
        log.debug("could not lower the model thread's priority (%s)", exc.strerror)


class ModelWorker:
    def __init__(self, name: str, idle_s: float, on_idle: Callable[[], None]) -> None:
        self._jobs: queue.Queue[Any] = queue.Queue()
        self._idle_s = idle_s
        self._on_idle = on_idle
        self._lock = threading.Lock()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._stopped:
                raise RuntimeError("the model worker has been shut down")
            self._jobs.put((fn, future))
        return future

    def call(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the worker and wait for its result (exceptions are re-raised here)."""
        if threading.current_thread() is self._thread:
            return fn()
        return self.submit(fn).result()

    @property
    def on_worker_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def _run(self) -> None:
        _run_in_background()
        armed = False  # the idle timer runs only after a job, so a model never loaded is never "unloaded"
        while True:
            try:
                item = self._jobs.get(timeout=self._idle_s if armed and self._idle_s > 0 else None)
            except queue.Empty:
                armed = False
                self._guarded(self._on_idle)
                continue
            if item is _STOP:
                return
            fn, future = item
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn())
                except BaseException as exc:  # handed to the caller, who raises it
                    future.set_exception(exc)
            armed = True

    @staticmethod
    def _guarded(fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception:
            log.exception("idle handler failed")

    def shutdown(self, final: Callable[[], None] | None = None, timeout_s: float = 30.0) -> None:
        """Run `final` (e.g. close the model) after the queued jobs, then stop the thread. Idempotent."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            if final is not None:
                self._jobs.put((final, Future()))
            self._jobs.put(_STOP)
        if not self.on_worker_thread:
            self._thread.join(timeout_s)
