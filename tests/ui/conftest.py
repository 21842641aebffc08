"""Qt fixtures: fail any test that leaves a QThread running, a QTimer active, or a top-level window open."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QThread, QTimer
from PySide6.QtWidgets import QApplication, QWidget


@pytest.fixture(autouse=True)
def no_leftover_qt_objects(qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    started_threads: list[QThread] = []
    started_timers: list[QTimer] = []
    real_thread_start = QThread.start
    real_timer_start = QTimer.start

    def thread_start(self: QThread, *args: object) -> None:
        started_threads.append(self)
        real_thread_start(self, *args)  # type: ignore[arg-type]

    def timer_start(self: QTimer, *args: object) -> None:
        started_timers.append(self)
        real_timer_start(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(QThread, "start", thread_start)
    monkeypatch.setattr(QTimer, "start", timer_start)
    before = {id(w) for w in QApplication.topLevelWidgets()}
    yield
    QApplication.processEvents()
    problems: list[str] = []
    for thread in started_threads:
        try:
            if thread.isRunning():
                problems.append(f"QThread {thread.objectName() or thread!r} still running")
        except RuntimeError:  # already deleted: fine
            pass
    for timer in started_timers:
        try:
            if timer.isActive():
                problems.append(f"QTimer {timer.objectName() or timer!r} still active (interval {timer.interval()} ms)")
        except RuntimeError:
            pass
    leftover: list[QWidget] = [w for w in QApplication.topLevelWidgets() if id(w) not in before and w.isVisible()]
    for widget in leftover:
        problems.append(f"top-level window {type(widget).__name__} '{widget.windowTitle()}' left open")
        widget.close()
    if problems:
        pytest.fail("Qt objects left behind:\n  " + "\n  ".join(problems))
