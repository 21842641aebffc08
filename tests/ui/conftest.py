"""Qt fixtures: fail any test that leaves a QThread running, a QTimer active, or a top-level window open.

Also the small real engines the flow tests share (loaded once per module, lent to each test's application)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QThread, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from app.ui.stall_watcher import stop_running_watchers
from tests.support.tiny_gguf import write_tiny_gguf
from tests.ui.support import ui_settings


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
    watchers = stop_running_watchers()
    if watchers:
        problems.append(f"{watchers} stall watcher thread(s) still sampling")
    if problems:
        pytest.fail("Qt objects left behind:\n  " + "\n  ".join(problems))


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_gguf(tmp_path_factory.mktemp("tiny-llm") / "tiny.gguf")


@pytest.fixture(scope="module")
def engines(models_dir: Path, tiny_model: Path) -> Iterator[dict[str, Any]]:
    """whisper-tiny.en, spaCy NER + rules, the tiny GGUF in llama.cpp, the Piper voice."""
    from app.core.asr.faster_whisper_engine import load_transcriber
    from app.core.llm.factory import create_language_model
    from app.core.redact.engine import SpacyRedactor
    from app.core.tts.piper_engine import PiperSpeaker

    settings = ui_settings(str(tiny_model))
    made: dict[str, Any] = {
        "asr": load_transcriber(settings.asr, models_dir),
        "redact": SpacyRedactor.from_settings(settings, models_dir),
        "llm": create_language_model(settings, models_dir),
        "tts": PiperSpeaker.from_settings(settings, models_dir=models_dir),
    }
    yield made
    made["llm"].close()
