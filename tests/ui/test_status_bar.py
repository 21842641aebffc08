"""The status bar after a load: the progress bar and Cancel go as soon as the model is ready (even if the job goes
on warming), and the model's name and placement say what llama.cpp really did, until the model is rebuilt."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from PySide6.QtWidgets import QMainWindow
from pytestqt.qtbot import QtBot

from app.core.config import Settings
from app.core.llm.base import LoadProgress
from app.core.model_catalog import display_name
from app.ui.status import StatusFacts
from app.ui.workers import JobLane, JobToken
from tests.ui.support import factories, make_app, shut, ui_settings


def test_progress_and_cancel_hide_when_the_model_is_ready(qtbot: QtBot) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    facts = StatusFacts(window.statusBar())
    lane = JobLane("status-test")
    warmed = threading.Event()

    def load(_token: JobToken) -> Iterator[LoadProgress]:
        yield LoadProgress("load", 0.5, "Reading the model")
        yield LoadProgress("ready", 1.0, "Model ready (0.1 s)", done=True)
        warmed.wait(30)  # the job goes on after "ready" (the task's instructions are read ahead)

    job = lane.submit(load, "loading the language model")
    facts.progress.track(job, "Loading the language model…")
    job.yielded.connect(lambda step: facts.progress.set_fraction(step.fraction, step.message))
    assert not facts.progress.isHidden() and facts.progress.cancel_button.isEnabled()
    qtbot.waitUntil(facts.progress.isHidden, timeout=10000)
    assert not job.done  # hidden because the model is ready, not because the job ended
    with qtbot.waitSignal(job.ended, timeout=10000):
        warmed.set()
    facts.progress.track(job, "Writing the answer…")  # a job that already ended is never shown (no end would hide it)
    assert facts.progress.isHidden()
    lane.shutdown()


def test_placement_shown_once_loaded_and_kept_until_the_model_changes(
    qtbot: QtBot, tmp_path: Path, models_dir: Path, tiny_model: Path
) -> None:
    settings = ui_settings(str(tiny_model))
    settings = settings.model_copy(update={"gpu": settings.gpu.model_copy(update={"n_gpu_layers": "auto"})})
    clinic = make_app(qtbot, settings, tmp_path / "data", models_dir, tmp_path / "settings.toml", factories())
    status = clinic.window.status
    assert status.compute.text() == "Not loaded yet"
    assert status.model.text() == display_name(str(tiny_model))
    assert status.model.text() == "tiny (your own file) — chat model, runs on this computer"
    with qtbot.waitSignal(clinic.drafts.model_loading, timeout=5000) as loading:
        clinic.drafts.prepare()
    assert not status.progress.isHidden() and status.progress.job is loading.args[0]
    # What llama.cpp reported: this build put every layer on the CPU, whatever "auto" might have asked for.
    qtbot.waitUntil(lambda: status.compute.text() == "Runs on: CPU", timeout=60000)
    assert status.model.text() == display_name(str(tiny_model), runs_on="cpu")
    qtbot.waitUntil(status.progress.isHidden, timeout=30000)
    # A change the model is not built from keeps the placement; one it is built from says it loads again.
    redaction = clinic.hub.settings.redaction.model_copy(update={"min_confidence": 0.5})
    clinic.apply_settings(clinic.hub.settings.model_copy(update={"redaction": redaction}), save=False)
    assert status.compute.text() == "Runs on: CPU"
    gpu = clinic.hub.settings.gpu.model_copy(update={"n_ctx": 1024})
    clinic.apply_settings(clinic.hub.settings.model_copy(update={"gpu": gpu}), save=False)
    assert status.compute.text() == "Not loaded yet"
    shut(qtbot, clinic)


def test_server_model_is_named_the_same_way(qtbot: QtBot) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    facts = StatusFacts(window.statusBar())
    base = Settings()
    facts.show_settings(base.model_copy(update={"llm": base.llm.model_copy(update={"backend": "server"})}))
    assert facts.model.text() == "The server's default model — chat model, runs on the clinic server"
    assert facts.compute.text() == "Runs on: clinic server"
