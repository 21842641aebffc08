"""Shared benchmark plumbing: the request every stage receives, timing, and peak-memory sampling."""

from __future__ import annotations

import os
import platform
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import psutil

from app.core.config import Settings


@dataclass
class BenchRequest:
    settings: Settings
    models_dir: Path
    data_dir: Path
    quick: bool = False  # fewer repetitions: for tests that only check the plumbing
    progress: Callable[[str], None] = field(default=lambda _msg: None)
    redact_sets: tuple[str, ...] = ()  # `bench redact --sets`: data sets to score (see app/core/bench/redact_sets.py)


class PeakMemory:
    """Samples this process's RSS on a thread; `peak_mib` is the highest seen while the block ran."""

    def __init__(self, interval_s: float = 0.02) -> None:
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._process = psutil.Process(os.getpid())
        self.peak_bytes = 0

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, self._process.memory_info().rss)
            self._stop.wait(self._interval)

    def __enter__(self) -> PeakMemory:
        self.peak_bytes = self._process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, name="bench-peak-memory", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.peak_bytes = max(self.peak_bytes, self._process.memory_info().rss)

    @property
    def peak_mib(self) -> float:
        return round(self.peak_bytes / 2**20, 1)


class Stopwatch:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start


def _cpu_model() -> str:
    """The CPU's marketing name on Linux (platform.processor() only says 'x86_64' there)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_description() -> dict[str, Any]:
    freq = psutil.cpu_freq()
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu_mhz": round(freq.max or freq.current) if freq else None,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }
