"""The status bar's permanent facts: which model, where it runs (CPU, or GPU with how many layers, as llama.cpp
reported when it loaded), the clinic server's health when the model runs there, locked or unlocked; and the
progress of long work (loading a model) with Cancel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import QLabel, QStatusBar

from app.core.config import Settings
from app.core.llm.base import LoadProgress
from app.core.model_catalog import display_name
from app.ui.engines import ENGINE_SECTIONS, READ_PER_USE
from app.ui.job_progress import JobProgress
from app.ui.workers import Job


class StatusProgress(JobProgress):
    """Hidden as soon as its job says the work is done, not only when the job ends: loading the model yields
    "Model ready" and may then go on quietly (reading the task's instructions ahead), which must not leave a full
    bar and a live Cancel behind. A job that has already ended is not shown at all (its `ended` will not come)."""

    def track(self, job: Job, text: str) -> None:
        if job.done:
            return
        super().track(job, text)
        job.yielded.connect(lambda item: self._step(job, item))

    def _step(self, job: Job, item: object) -> None:
        if self.job is job and isinstance(item, LoadProgress) and item.done:
            self.hide()


def _llm_built_from(settings: Settings) -> list[dict[str, Any]]:
    """What the language model is built from (the same rule as EngineHub's): while it is unchanged, a model loaded
    before a settings change is still the one loaded."""
    return [
        {k: v for k, v in getattr(settings, s).model_dump().items() if k not in READ_PER_USE.get(s, frozenset())}
        for s in ENGINE_SECTIONS["llm"]
    ]


@dataclass(frozen=True)
class _Loaded:
    built_from: list[dict[str, Any]]
    gpu_layers: int  # as llama.cpp reported: 0 = CPU, -1 = all


class StatusFacts:
    def __init__(self, bar: QStatusBar) -> None:
        self.progress = StatusProgress("statusProgress")
        bar.addWidget(self.progress)
        self.model = self._label(bar, "statusModel", "Language model")
        self.compute = self._label(bar, "statusCompute", "Where the model runs")
        self.server = self._label(bar, "statusServer", "Clinic server")
        self.server.hide()  # shown only while the model runs on the clinic server (app/ui/server_status.py)
        self.lock = self._label(bar, "statusLock", "Lock state")
        self._settings: Settings | None = None
        self._loaded: _Loaded | None = None
        self.set_locked(True)

    @staticmethod
    def _label(bar: QStatusBar, name: str, accessible: str) -> QLabel:
        label = QLabel()
        label.setObjectName(name)
        label.setAccessibleName(accessible)
        label.setContentsMargins(8, 0, 8, 0)
        bar.addPermanentWidget(label)
        return label

    def show_settings(self, settings: Settings) -> None:
        self._settings = settings
        if self._loaded is not None and self._loaded.built_from != _llm_built_from(settings):
            self._loaded = None  # the hub closes the model: it loads again, maybe elsewhere, with the new settings
        self._show()

    def show_loaded(self, backend: str, plan: object | None) -> None:
        """After the model loaded: where llama.cpp really put it (the planner may have chosen fewer layers than
        asked, and a CPU build puts every layer on the CPU whatever was asked)."""
        if self._settings is None:
            return
        if backend == "local" and plan is None:
            self._loaded = None  # nothing loaded (the engine was rebuilt after a settings change)
        else:
            self._loaded = _Loaded(_llm_built_from(self._settings), int(getattr(plan, "n_gpu_layers", 0) or 0))
        self._show()

    def _show(self) -> None:
        settings = self._settings
        if settings is None:
            return
        llm = settings.llm
        if llm.backend == "server":
            self.model.setText(display_name(llm.server_model, runs_on="server"))
            self.compute.setText("Runs on: clinic server")
            return
        loaded = self._loaded
        if loaded is None:
            self.model.setText(display_name(llm.model))
            self.compute.setText("Not loaded yet")
        elif loaded.gpu_layers:
            self.model.setText(display_name(llm.model, runs_on="gpu"))
            shown = "all" if loaded.gpu_layers < 0 else str(loaded.gpu_layers)
            self.compute.setText(f"Runs on: GPU ({shown} layers offloaded)")
        else:
            self.model.setText(display_name(llm.model, runs_on="cpu"))
            self.compute.setText("Runs on: CPU")

    def show_server(self, text: str) -> None:
        """The clinic server's health in plain words ("Clinic server: ready"); "" hides it (a local model)."""
        self.server.setText(text)
        self.server.setVisible(bool(text))

    def set_locked(self, locked: bool) -> None:
        # Plain words: a padlock emoji is an empty box on a workstation without an emoji font.
        self.lock.setText("Locked" if locked else "Unlocked")
        font = self.lock.font()
        font.setBold(locked)
        self.lock.setFont(font)
