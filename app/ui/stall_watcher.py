"""Who made the GUI thread late: a watcher thread that, while the stall probe's heartbeat is overdue, samples the
innermost frames of every Python thread and measures how much CPU each thread used during the stall.

A stall seen only from the GUI thread's stack usually points at an innocent line: the thread was waiting for the
GIL, held by another thread in a long C call that does not release it (spaCy/thinc, numpy, onnxruntime session
creation, a tokenizer, a ctypes call, compiling a module on first import) or in a busy Python loop. Three signals
tell the cases apart:
- sites: "[thread] file:line function < caller ..." of each thread seen during the stall (names only, never
  variables; threads waiting for work are left out);
- CPU: a GUI thread that used most of the stall's time on the CPU was busy itself (a slow slot, a layout pass);
  one that used little was kept waiting, and the thread that used the CPU meanwhile is the suspect;
- "held off": samples taken right after the watcher itself could not run for a long time (it needs the GIL too),
  so the thread that held the GIL is at, or just after, the call that held it.
Diagnostics only: the samples cost a little CPU on the watcher's thread.
"""

from __future__ import annotations

import sys
import threading
import time
import weakref
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

PERIOD_S = 0.005  # one default switch interval: the watcher asks for the GIL as often as the interpreter hands it over
SITE_DEPTH = 4
LONGEST_KEPT = 5
GUI_LABEL = "GUI"
_IMPORTING = "(import)"

# Innermost frames of a thread that waits for work: it cannot be what holds the GIL.
_WAITING = frozenset({
    ("threading.py", "wait"), ("threading.py", "_wait_for_tstate_lock"), ("threading.py", "join"),
    ("queue.py", "get"), ("selectors.py", "select"), ("thread.py", "_worker"),
})


@dataclass(frozen=True)
class SiteStats:
    """A site seen during stalls: in how many, the worst of them, and in how many samples taken right after the
    watcher itself was held off (the GIL or the CPU taken from every other thread for that long)."""

    site: str
    stalls: int
    worst_ms: float
    after_held_off: int


@dataclass(frozen=True)
class ThreadActivity:
    thread: str
    cpu_ms: float  # CPU time the thread used during the stall (all of its native work, GIL or not)
    sites: tuple[str, ...]  # its sampled sites, without the thread label


@dataclass(frozen=True)
class StallCase:
    """One stall: how long, and what each thread did meanwhile (busiest first)."""

    stall_ms: float
    at_s: float  # when it began, counted from the watcher's start
    threads: tuple[ThreadActivity, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "stall_ms": round(self.stall_ms, 1),
            "at_s": round(self.at_s, 2),
            "threads": [
                {"thread": t.thread, "cpu_ms": round(t.cpu_ms, 1), "sites": list(t.sites)} for t in self.threads
            ],
        }


def frame_site(frame: FrameType | None, depth: int = SITE_DEPTH) -> str:
    """Innermost frames as "file:line function", read from the code objects (no source lines, no variables).
    The import machinery's own frames count as one "(import)", so a first import shows which module it runs."""
    parts: list[str] = []
    while frame is not None and len(parts) < depth:
        code = frame.f_code
        if code.co_filename.startswith("<frozen importlib"):
            if not parts or parts[-1] != _IMPORTING:
                parts.append(_IMPORTING)
        else:
            parts.append(f"{code.co_filename.rsplit('/', 1)[-1]}:{frame.f_lineno} {code.co_name}")
        frame = frame.f_back
    return " < ".join(parts)


def _waiting(frame: FrameType) -> bool:
    code = frame.f_code
    return (code.co_filename.rsplit("/", 1)[-1], code.co_name) in _WAITING


def _native_ids() -> dict[int, int]:
    """Python thread ident -> the kernel's thread id, for the threads alive now."""
    return {t.ident: t.native_id for t in threading.enumerate() if t.ident is not None and t.native_id is not None}


def _cpu_s(native_id: int | None) -> float | None:
    """CPU time a thread has used, read from /proc by its kernel id. Never through pthread_getcpuclockid: asking
    pthreads about a thread that has ended is undefined behaviour, and it crashed a test run (a segmentation
    fault). A thread that has ended only makes the file disappear; elsewhere than Linux there is no figure."""
    if native_id is None:
        return None
    try:
        with open(f"/proc/self/task/{native_id}/schedstat", "rb") as fh:
            return int(fh.read().split()[0]) / 1e9  # nanoseconds on the CPU
    except (OSError, ValueError, IndexError):
        return None


_RUNNING: weakref.WeakSet[StallWatcher] = weakref.WeakSet()


def stop_running_watchers() -> int:
    """Stop every watcher still running (a test that failed half-way must not leave one sampling into the next
    test); returns how many there were."""
    running = list(_RUNNING)
    for watcher in running:
        watcher.stop()
    return len(running)


@dataclass
class _Open:
    """The stall being watched."""

    tick: float  # the heartbeat's last tick when it began
    cpu_before: dict[int, float]
    sites: dict[int, set[str]]
    labels: dict[int, str]


class StallWatcher:
    """Start on the GUI thread (the thread it watches); `last_tick()` is the heartbeat's latest tick
    (time.perf_counter) and `interval_ms` its period."""

    def __init__(
        self,
        last_tick: Callable[[], float],
        interval_ms: int,
        threshold_ms: float,
        all_threads: bool = True,
        depth: int = SITE_DEPTH,
    ) -> None:
        self._last_tick = last_tick
        self._interval_s = interval_ms / 1000.0
        self._late_s = self._interval_s + threshold_ms / 1000.0
        self._held_off_s = threshold_ms / 1000.0
        self._all_threads = all_threads
        self._depth = depth
        self._gui_ident = threading.get_ident()
        self._stop = threading.Event()
        self._lock = threading.Lock()  # the report may be read while the watcher runs
        self._stalls: Counter[str] = Counter()
        self._worst: dict[str, float] = {}
        self._after_held_off: Counter[str] = Counter()
        self._longest: list[StallCase] = []
        self.stalls_watched = 0
        self.held_off_samples = 0
        self._started = 0.0
        self._thread = threading.Thread(target=self._run, name="stall-watcher", daemon=True)

    def start(self) -> None:
        self._started = time.perf_counter()
        _RUNNING.add(self)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        _RUNNING.discard(self)

    # -- the watcher's thread --------------------------------------------------------------------------------------
    def _run(self) -> None:
        me = threading.get_ident()
        recent: deque[tuple[float, dict[int, float]]] = deque(maxlen=64)  # CPU clocks at recent wake-ups
        stall: _Open | None = None
        woke = time.perf_counter()
        while not self._stop.wait(PERIOD_S):
            now = time.perf_counter()
            held_off = now - woke - PERIOD_S >= self._held_off_s
            woke = now
            frames = sys._current_frames()
            frames.pop(me, None)
            native = _native_ids()
            tick = self._last_tick()
            if stall is not None and tick != stall.tick:
                self._close(stall, tick, native)
                stall = None
            if now - tick >= self._late_s:
                if stall is None:
                    stall = _Open(tick, self._clocks_at(recent, tick + self._interval_s), {}, {})
                self._sample(stall, frames, held_off)
            recent.append((now, {ident: cpu for ident in frames if (cpu := _cpu_s(native.get(ident))) is not None}))
        if stall is not None:
            self._close(stall, time.perf_counter(), _native_ids())

    @staticmethod
    def _clocks_at(recent: deque[tuple[float, dict[int, float]]], moment: float) -> dict[int, float]:
        """The threads' CPU clocks at the last wake-up before `moment` (when the late tick was due)."""
        before = [clocks for at, clocks in recent if at <= moment]
        return dict(before[-1]) if before else (dict(recent[0][1]) if recent else {})

    def _sample(self, stall: _Open, frames: dict[int, FrameType], held_off: bool) -> None:
        names = {thread.ident: thread.name for thread in threading.enumerate()}
        sampled: list[str] = []
        for ident, frame in frames.items():
            gui = ident == self._gui_ident
            if not gui and (not self._all_threads or _waiting(frame)):
                continue
            label = GUI_LABEL if gui else names.get(ident, str(ident))
            site = frame_site(frame, self._depth)
            stall.labels[ident] = label
            stall.sites.setdefault(ident, set()).add(site)
            sampled.append(f"[{label}] {site}")
        if held_off:
            with self._lock:
                self.held_off_samples += 1
                self._after_held_off.update(sampled)

    def _close(self, stall: _Open, end_tick: float, native: dict[int, int]) -> None:
        stall_ms = (end_tick - stall.tick - self._interval_s) * 1000.0
        threads = []
        for ident, sites in stall.sites.items():
            cpu_after, cpu_before = _cpu_s(native.get(ident)), stall.cpu_before.get(ident)
            cpu_ms = (cpu_after - cpu_before) * 1000.0 if cpu_after is not None and cpu_before is not None else 0.0
            threads.append(ThreadActivity(stall.labels[ident], cpu_ms, tuple(sorted(sites))))
        threads.sort(key=lambda t: (t.thread != GUI_LABEL, -t.cpu_ms))
        case = StallCase(stall_ms, stall.tick - self._started, tuple(threads))
        with self._lock:
            self.stalls_watched += 1
            for activity in threads:
                for site in activity.sites:
                    key = f"[{activity.thread}] {site}"
                    self._stalls[key] += 1
                    self._worst[key] = max(self._worst.get(key, 0.0), stall_ms)
            self._longest = sorted([*self._longest, case], key=lambda c: -c.stall_ms)[:LONGEST_KEPT]

    # -- results ---------------------------------------------------------------------------------------------------
    def longest(self) -> list[StallCase]:
        with self._lock:
            return list(self._longest)

    def stats(self, limit: int) -> list[SiteStats]:
        with self._lock:
            return [
                SiteStats(site, count, self._worst[site], self._after_held_off[site])
                for site, count in self._stalls.most_common(limit)
            ]
