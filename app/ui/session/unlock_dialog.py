"""Unlock: the passphrase, asked at start and after every lock. The store checks it on its own thread; a wrong
passphrase is said inside the dialog (and waits longer after repeated tries: the store's throttle).

Enter and the Unlock button do the same thing, once: Unlock is the dialog's default button and the only one Enter
can press. While the store checks, the field turns read-only rather than disabled, so the keyboard focus stays in
it (a disabled field hands the focus, and with it Enter, to Cancel)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from app.ui.session.dialog_parts import keep_enter_on, wrapped_label
from app.ui.text_fit import fit_wrapped_text

INTRO = "Enter the passphrase to open the patient records."
DIALOG_WIDTH_CHARS = 60  # wide enough that a two-sentence message wraps into a few lines, not a column


class UnlockDialog(QDialog):
    submitted = Signal(str)

    def __init__(self, reason: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Unlock Clinic Assistant")
        self.setAccessibleName("Unlock Clinic Assistant")
        self.setObjectName("unlockDialog")
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * DIALOG_WIDTH_CHARS)
        layout = QVBoxLayout(self)
        self.intro = wrapped_label("unlockIntro", reason or INTRO)
        layout.addWidget(self.intro)
        form = QFormLayout()
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("passphrase")
        self.passphrase.setAccessibleName("Passphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("&Passphrase", self.passphrase)
        layout.addLayout(form)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setAccessibleName("Checking the passphrase")
        self.busy.hide()
        layout.addWidget(self.busy)
        self.problem = wrapped_label("unlockProblem", problem=True)
        self.problem.setAccessibleName("Problem")
        self.problem.hide()
        layout.addWidget(self.problem)
        self.buttons = QDialogButtonBox(parent=self)
        self.unlock_button = self.buttons.addButton("Unlock", QDialogButtonBox.ButtonRole.AcceptRole)
        self.unlock_button.setObjectName("unlockButton")
        cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        keep_enter_on(self.unlock_button, cancel)
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        fit_wrapped_text(self)

    def _submit(self) -> None:
        if self.passphrase.isReadOnly():  # already checking this one
            return
        text = self.passphrase.text()
        if not text:
            self.show_problem("Enter the passphrase.")
            return
        self.problem.clear()
        self.problem.hide()
        self.set_busy(True)
        self.submitted.emit(text)

    def set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.unlock_button.setEnabled(not busy)
        self.passphrase.setReadOnly(busy)
        fit_wrapped_text(self)

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))
        self.set_busy(False)
        self.passphrase.setFocus()
        self.passphrase.selectAll()  # typing replaces it: the doctor retypes rather than edits a hidden text

    def done(self, result: int) -> None:
        self.passphrase.clear()  # do not keep the passphrase in a widget longer than needed
        super().done(result)
