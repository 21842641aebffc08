"""File → Change passphrase: the current passphrase, the new one twice with the strength meter, then the store is
re-encrypted on its own thread while the dialog shows each step. The session controller runs the work."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLineEdit,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from app.ui.session.dialog_parts import keep_enter_on, wrapped_label
from app.ui.session.new_passphrase import NewPassphraseFields
from app.ui.text_fit import fit_wrapped_text

DIALOG_WIDTH_CHARS = 72


class ChangePassphraseDialog(QDialog):
    submitted = Signal(str, str)  # current, new

    def __init__(self, avoid: Iterable[str] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Change passphrase")
        self.setAccessibleName("Change passphrase")
        self.setObjectName("changePassphraseDialog")
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * DIALOG_WIDTH_CHARS)
        layout = QVBoxLayout(self)
        layout.addWidget(wrapped_label(
            "changePassphraseIntro",
            "Every record is re-encrypted with the new passphrase. Backups made before keep the passphrase they "
            "were made with.",
        ))
        self.current = QLineEdit()
        self.current.setObjectName("currentPassphrase")
        self.current.setAccessibleName("Current passphrase")
        self.current.setEchoMode(QLineEdit.EchoMode.Password)
        self.fields = NewPassphraseFields(avoid)
        self.fields.form.insertRow(0, "&Current passphrase", self.current)  # one form: the fields line up
        self.fields.changed.connect(self._update)
        layout.addWidget(self.fields)
        self.busy = QProgressBar()
        self.busy.setObjectName("changeProgress")
        self.busy.setAccessibleName("Changing the passphrase")
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.hide()
        layout.addWidget(self.busy)
        self.step = wrapped_label("changeStep")
        self.step.hide()
        layout.addWidget(self.step)
        self.problem = wrapped_label("changeProblem", problem=True)
        self.problem.setAccessibleName("Problem")
        self.problem.hide()
        layout.addWidget(self.problem)
        self.buttons = QDialogButtonBox(parent=self)
        self.change_button = self.buttons.addButton("Change passphrase", QDialogButtonBox.ButtonRole.AcceptRole)
        self.change_button.setObjectName("changePassphraseButton")
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        keep_enter_on(self.change_button, self.cancel_button)
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._busy = False
        self._update()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        fit_wrapped_text(self)

    def set_avoid(self, words: Iterable[str]) -> None:
        self.fields.set_avoid(words)

    def _update(self) -> None:
        self.change_button.setEnabled(not self._busy)
        fit_wrapped_text(self)

    def _submit(self) -> None:
        if self._busy:
            return
        if not self.current.text():
            self.show_problem("Enter the current passphrase.", self.current)
        elif not self.fields.verdict.ok:
            self.show_problem(f"The new passphrase is too weak: {self.fields.verdict.message()}.", self.fields.first)
        elif not self.fields.matches():
            self.show_problem("The two new passphrases do not match. Type the new one again.", self.fields.second)
        else:
            self.set_busy(True)
            self.submitted.emit(self.current.text(), self.fields.passphrase())

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.busy.setVisible(busy)
        self.current.setReadOnly(busy)
        self.fields.set_read_only(busy)
        self.cancel_button.setEnabled(not busy)  # the change is atomic: it finishes, or nothing changed
        if busy:
            self.problem.hide()
        else:
            self.step.hide()
        self._update()

    def show_step(self, text: str) -> None:
        self.step.setText(text)
        self.step.show()
        fit_wrapped_text(self)

    def show_problem(self, text: str, field: QLineEdit | None = None) -> None:
        self.set_busy(False)
        self.problem.setText(text)
        self.problem.setVisible(bool(text))
        target = field or self.current
        target.setFocus()
        target.selectAll()
        fit_wrapped_text(self)

    def reject(self) -> None:
        if not self._busy:  # Esc while re-encrypting: the dialog stays until the store has finished
            super().reject()

    def close_now(self) -> None:
        """Close even while busy (the app locks or quits; the store finishes the change on its own thread)."""
        self._busy = False
        self.reject()

    def done(self, result: int) -> None:
        self.current.clear()  # no passphrase stays in a widget longer than needed
        self.fields.clear()
        super().done(result)
