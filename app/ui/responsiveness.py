"""How long the GUI thread stalls: a heartbeat timer that measures its own lateness.

A precise 10 ms timer on the GUI thread should fire every 10 ms. When the event loop is busy (a slow slot, a flood
of signals, a blocking call) the next tick comes late; the lateness is the stall the doctor feels as a frozen
window. `StallProbe` records every tick's lateness so a test or the benchmark can report the longest one and the
99th percentile while dictation, generation and speech run.

Usage:
    probe = StallProbe(watch_stacks=True)   # watch_stacks: also find out who caused the stalls (stall_watcher.py)
    probe.start()
    ... run the work, waiting on signals ...
    report = probe.stop()   # StallReport(max_ms=..., p99_ms=..., ticks=..., stall_sites=..., longest=...)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Qt, QTimer

from app.ui.stall_watcher import SiteStats, StallCase, StallWatcher

DEFAULT_INTERVAL_MS = 10
TARGET_MAX_STALL_MS = 50.0
WATCH_THRESHOLD_MS = 20.0  # below the target: the sites of the near misses matter too
SITES_KEPT = 15


@dataclass(frozen=True)
class StallReport:
    ticks: int
    interval_ms: int
    max_ms: float  # the longest stall: lateness of the latest tick
    p99_ms: float
    mean_ms: float
    over_target: int  # ticks later than TARGET_MAX_STALL_MS
    duration_s: float
    # With `watch_stacks`: "[thread] file:line function < caller ..." and in how many stalls it was seen, most
    # frequent first. The GUI thread is "[GUI]"; other threads by name; threads waiting for work are left out.
    stall_sites: list[tuple[str, int]] = field(default_factory=list)
    site_stats: list[SiteStats] = field(default_factory=list)
    longest: list[StallCase] = field(default_factory=list)  # the longest stalls, each thread's CPU time and sites
    stalls_watched: int = 0  # stalls longer than the watch threshold
    held_off_samples: int = 0  # samples taken right after the watcher itself could not run for that long

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
            "stalls_watched": self.stalls_watched,
            "held_off_samples": self.held_off_samples,
            "site_stats": [
                {"site": s.site, "stalls": s.stalls, "worst_ms": round(s.worst_ms, 1),
                 "after_held_off": s.after_held_off}
                for s in self.site_stats
            ],
            "longest": [case.as_dict() for case in self.longest],
        }

    def summary(self) -> str:
        text = (
            f"GUI stall: max {self.max_ms:.1f} ms, p99 {self.p99_ms:.1f} ms over {self.ticks} ticks "
            f"({self.duration_s:.1f} s; target <= {TARGET_MAX_STALL_MS:.0f} ms)"
        )
        if self.longest:
            worst = self.longest[0]
            busiest = ", ".join(f"{t.thread} {t.cpu_ms:.0f}" for t in worst.threads[:4])
            text += f"; {self.stalls_watched} stalls watched; CPU ms in the longest: {busiest}"
        return text


class StallProbe(QObject):
    """Create and use on the GUI thread (that is the thread it measures).

    `watch_stacks=True` also samples, during stalls, where every Python thread is and how much CPU each used
    (`watch_all_threads=False`: the GUI thread only): a diagnostic for finding the slot that blocks or the worker
    that holds the GIL; it costs a little CPU on another thread."""

    def __init__(
        self,
        interval_ms: int = DEFAULT_INTERVAL_MS,
        parent: QObject | None = None,
        watch_stacks: bool = False,
        watch_all_threads: bool = True,
        watch_threshold_ms: float = WATCH_THRESHOLD_MS,
    ) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self.watch_stacks = watch_stacks
        self.watch_all_threads = watch_all_threads
        self.watch_threshold_ms = watch_threshold_ms
        self._watcher: StallWatcher | None = None
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
            self._watcher = StallWatcher(
                lambda: self._last, self.interval_ms, self.watch_threshold_ms, self.watch_all_threads
            )
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
        watcher = self._watcher
        stats = watcher.stats(SITES_KEPT) if watcher else []
        return StallReport(
            ticks=len(values),
            interval_ms=self.interval_ms,
            max_ms=values[-1],
            p99_ms=p99,
            mean_ms=sum(values) / len(values),
            over_target=sum(1 for v in values if v > TARGET_MAX_STALL_MS),
            duration_s=duration,
            stall_sites=[(s.site, s.stalls) for s in stats],
            site_stats=stats,
            longest=watcher.longest() if watcher else [],
            stalls_watched=watcher.stalls_watched if watcher else 0,
            held_off_samples=watcher.held_off_samples if watcher else 0,
        )

    def stop(self) -> StallReport:
        self._timer.stop()
        if self._watcher is not None:
            self._watcher.stop()
        return self.report()
