"""Progress with a Cancel button, for any long job: a bar (busy or percentage), a line saying what is happening."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from app.ui.workers import Job


class JobProgress(QWidget):
    """Shows one job at a time; Cancel cancels it. Hidden when idle."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.label, 1)
        self.bar = QProgressBar()
        self.bar.setAccessibleName("Progress")
        self.bar.setMaximumWidth(260)
        layout.addWidget(self.bar)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel the running task")
        self.cancel_button.clicked.connect(self.cancel)
        layout.addWidget(self.cancel_button)
        self.job: Job | None = None
        self.hide()

    def track(self, job: Job, text: str) -> None:
        self.job = job
        self.label.setText(text)
        self.bar.setRange(0, 0)  # busy until the first fraction arrives
        self.cancel_button.setEnabled(True)
        job.ended.connect(lambda: self._ended(job))
        self.show()

    def set_fraction(self, fraction: float, text: str | None = None) -> None:
        self.bar.setRange(0, 1000)
        self.bar.setValue(int(max(0.0, min(fraction, 1.0)) * 1000))
        if text is not None:
            self.label.setText(text)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.label.setText(self.label.text() + " — cancelling")

    def _ended(self, job: Job) -> None:
        if self.job is job:
            self.job = None
            self.hide()
