"""How long the GUI thread stalls: a heartbeat timer that measures its own lateness.

A precise 10 ms timer on the GUI thread should fire every 10 ms. When the event loop is busy (a slow slot, a flood
of signals, a blocking call) the next tick comes late; the lateness is the stall the doctor feels as a frozen
window. `StallProbe` records every tick's lateness so a test or the benchmark can report the longest one and the
99th percentile while dictation, generation and speech run.

Usage:
    probe = StallProbe()
    probe.start()
    ... run the work, waiting on signals ...
    report = probe.stop()   # StallReport(max_ms=..., p99_ms=..., ticks=...)
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Qt, QTimer

DEFAULT_INTERVAL_MS = 10
TARGET_MAX_STALL_MS = 50.0


@dataclass(frozen=True)
class StallReport:
    ticks: int
    interval_ms: int
    max_ms: float  # the longest stall: lateness of the latest tick
    p99_ms: float
    mean_ms: float
    over_target: int  # ticks later than TARGET_MAX_STALL_MS
    duration_s: float
    # With `watch_stacks`: where the GUI thread was when a stall was caught ("file:line function" innermost
    # frames, never variables), most frequent first. Says which slot to make cheaper.
    stall_sites: list[tuple[str, int]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "ticks": self.ticks,
            "interval_ms": self.interval_ms,
            "max_stall_ms": round(self.max_ms, 1),
            "p99_stall_ms": round(self.p99_ms, 1),
            "mean_stall_ms": round(self.mean_ms, 2),
            "ticks_over_target": self.over_target,
            "duration_s": round(self.duration_s, 2),
            "stall_sites": [[site, count] for site, count in self.stall_sites],
        }

    def summary(self) -> str:
        return (
            f"GUI stall: max {self.max_ms:.1f} ms, p99 {self.p99_ms:.1f} ms over {self.ticks} ticks "
            f"({self.duration_s:.1f} s; target <= {TARGET_MAX_STALL_MS:.0f} ms)"
        )


class _StackWatcher:
    """A plain thread that looks at the GUI thread's stack whenever the heartbeat is late (diagnostics only)."""

    def __init__(self, probe: StallProbe, threshold_ms: float) -> None:
        self._probe = probe
        self._threshold_s = threshold_ms / 1000.0
        self._gui_ident = threading.get_ident()
        self._stop = threading.Event()
        self.sites: Counter[str] = Counter()
        self._thread = threading.Thread(target=self._run, name="stall-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)

    def _run(self) -> None:
        while not self._stop.wait(self._threshold_s / 2):
            if time.perf_counter() - self._probe.last_tick < self._threshold_s:
                continue
            frame = sys._current_frames().get(self._gui_ident)
            if frame is None:
                continue
            frames = reversed(traceback.extract_stack(frame, limit=3))
            self.sites[" < ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in frames)] += 1


class StallProbe(QObject):
    """Create and use on the GUI thread (that is the thread it measures).

    `watch_stacks=True` also samples where the GUI thread is during stalls (a diagnostic for finding the slot
    that blocks; it costs a little CPU on another thread)."""

    def __init__(
        self, interval_ms: int = DEFAULT_INTERVAL_MS, parent: QObject | None = None, watch_stacks: bool = False
    ) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self.watch_stacks = watch_stacks
        self._watcher: _StackWatcher | None = None
        self._timer = QTimer(self)
        self._timer.setObjectName("stallProbe")
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0
        self._began = 0.0
        self._lateness: list[float] = []

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    @property
    def last_tick(self) -> float:
        return self._last

    def start(self) -> None:
        self._lateness = []
        self._began = self._last = time.perf_counter()
        self._timer.start()
        if self.watch_stacks:
            self._watcher = _StackWatcher(self, TARGET_MAX_STALL_MS)
            self._watcher.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        late_ms = (now - self._last) * 1000.0 - self.interval_ms
        self._lateness.append(max(late_ms, 0.0))
        self._last = now

    def report(self) -> StallReport:
        values = sorted(self._lateness)
        duration = (self._last - self._began) if values else 0.0
        if not values:
            return StallReport(0, self.interval_ms, 0.0, 0.0, 0.0, 0, duration)
        p99 = values[min(len(values) - 1, round(0.99 * (len(values) - 1)))]
        return StallReport(
            ticks=len(values),
            interval_ms=self.interval_ms,
            max_ms=values[-1],
            p99_ms=p99,
            mean_ms=sum(values) / len(values),
            over_target=sum(1 for v in values if v > TARGET_MAX_STALL_MS),
            duration_s=duration,
            stall_sites=self._watcher.sites.most_common(10) if self._watcher else [],
        )

    def stop(self) -> StallReport:
        self._timer.stop()
        if self._watcher is not None:
            self._watcher.stop()
        return self.report()
