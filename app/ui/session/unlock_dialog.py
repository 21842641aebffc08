"""Unlock: the passphrase, asked at start and after every lock. The store checks it on its own thread; a wrong
passphrase is said inside the dialog (and waits longer after repeated tries: the store's throttle)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QProgressBar, QVBoxLayout, QWidget


class UnlockDialog(QDialog):
    submitted = Signal(str)

    def __init__(self, reason: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Unlock Clinic Assistant")
        self.setAccessibleName("Unlock Clinic Assistant")
        self.setObjectName("unlockDialog")
        layout = QVBoxLayout(self)
        intro = QLabel(reason or "Enter the passphrase to open the patient records.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("passphrase")
        self.passphrase.setAccessibleName("Passphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.returnPressed.connect(self._submit)
        layout.addWidget(self.passphrase)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setAccessibleName("Checking the passphrase")
        self.busy.hide()
        layout.addWidget(self.busy)
        self.problem = QLabel()
        self.problem.setObjectName("unlockProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #c62828;")
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.problem)
        self.buttons = QDialogButtonBox(parent=self)
        self.unlock_button = self.buttons.addButton("Unlock", QDialogButtonBox.ButtonRole.AcceptRole)
        self.unlock_button.setObjectName("unlockButton")
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def _submit(self) -> None:
        text = self.passphrase.text()
        if not text:
            self.show_problem("Enter the passphrase.")
            return
        self.set_busy(True)
        self.problem.clear()
        self.submitted.emit(text)

    def set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.unlock_button.setEnabled(not busy)
        self.passphrase.setEnabled(not busy)

    def show_problem(self, text: str) -> None:
        self.set_busy(False)
        self.problem.setText(text)
        self.passphrase.selectAll()
        self.passphrase.setFocus()

    def done(self, result: int) -> None:
        self.passphrase.clear()  # do not keep the passphrase in a widget longer than needed
        super().done(result)
