"""`StoreWorker`: the one thread that owns the database connection.

The GUI thread and the pipeline never touch the connection: they `submit` a function and get a `Future`. The
function runs on the worker thread with the repositories (or the `Store`, for unlock/lock/backup). This is the
Anki shape (one single-worker executor for all database work). SQLite itself enforces it: a connection used from
another thread raises `ProgrammingError`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from app.core.storage.store import Repositories, Store

T = TypeVar("T")


class StoreWorker:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clinic-store")
        self._closed = False

    def submit(self, fn: Callable[[Repositories], T]) -> Future[T]:
        """Run `fn(repositories)` on the store thread. If the store is locked the future fails with
        `StoreLocked`, which the UI answers by asking for the passphrase."""
        return self._executor.submit(lambda: fn(self._store.repositories()))

    def run(self, fn: Callable[[Store], T]) -> Future[T]:
        """Run `fn(store)` on the store thread: unlock, lock, check, backup, restore, rekey."""
        return self._executor.submit(fn, self._store)

    def unlock(self, passphrase: str) -> Future[None]:
        return self.run(lambda store: store.unlock(passphrase))

    def lock(self) -> Future[None]:
        return self.run(lambda store: store.lock())

    def is_unlocked(self) -> Future[bool]:
        return self.run(lambda store: store.is_unlocked)

    def shutdown(self, timeout_s: float | None = 10.0) -> None:
        """Lock (closing the connection on its own thread), then stop the thread."""
        if self._closed:
            return
        self._closed = True
        self.lock().result(timeout=timeout_s)
        self._executor.shutdown(wait=True)


class IdleTimer:
    """When to auto-lock, without any timer of its own: the UI calls `touch()` on user activity and `expired()`
    from whatever timer it owns. `minutes == 0` means never."""

    def __init__(self, minutes: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.minutes = minutes
        self._clock = clock
        self._last = clock()

    def touch(self) -> None:
        self._last = self._clock()

    def idle_s(self) -> float:
        return self._clock() - self._last

    def expired(self) -> bool:
        return self.minutes > 0 and self.idle_s() >= self.minutes * 60
