"""The status bar's permanent facts: which model on which backend, GPU or CPU (and layers offloaded), locked or
unlocked; and the progress of long work (loading a model) with Cancel."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar

from app.core.config import Settings
from app.ui.job_progress import JobProgress


class StatusFacts:
    def __init__(self, bar: QStatusBar) -> None:
        self.progress = JobProgress("statusProgress")
        bar.addWidget(self.progress)
        self.model = self._label(bar, "statusModel", "Language model")
        self.compute = self._label(bar, "statusCompute", "Where the model runs")
        self.lock = self._label(bar, "statusLock", "Lock state")
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
        llm = settings.llm
        if llm.backend == "server":
            self.model.setText(f"Model: {llm.server_model or 'server default'} (clinic server)")
            self.compute.setText("Runs on: clinic server")
        else:
            self.model.setText(f"Model: {llm.model} (local llama.cpp)")
            layers = settings.gpu.n_gpu_layers
            self.compute.setText(f"GPU layers: {layers} (not loaded yet)" if layers != 0 else "Runs on: CPU")

    def show_loaded(self, backend: str, plan: object | None) -> None:
        """After the model loaded: what really happened (the planner may have chosen fewer layers)."""
        if backend == "server":
            self.compute.setText("Runs on: clinic server")
            return
        layers = getattr(plan, "n_gpu_layers", 0) if plan is not None else 0
        if layers:
            shown = "all" if layers < 0 else str(layers)
            self.compute.setText(f"Runs on: GPU ({shown} layers offloaded)")
        else:
            self.compute.setText("Runs on: CPU")

    def set_locked(self, locked: bool) -> None:
        # Plain words: a padlock emoji is an empty box on a workstation without an emoji font.
        self.lock.setText("Locked" if locked else "Unlocked")
        font = self.lock.font()
        font.setBold(locked)
        self.lock.setFont(font)
