"""The shell both store dialogs share: what the tool does, its fields, a busy bar with the step under way, and the
outcome or the problem in plain words. Cancel stops the work only while nothing has been written; after that it is
disabled (a backup or a restore is never stopped half-way) and the dialog cannot be closed until the work is done."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.plain_label import plain_label


class FileField(QWidget):
    """A path typed or chosen with Choose… (a save or an open dialog)."""

    def __init__(self, name: str, accessible: str, caption: str, saving: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = caption
        self.saving = saving
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit()
        self.edit.setObjectName(name)
        self.edit.setAccessibleName(accessible)
        row.addWidget(self.edit, 1)
        self.choose_button = QPushButton("Choose…")
        self.choose_button.setAccessibleName(f"Choose the {accessible.lower()}")
        self.choose_button.clicked.connect(self.choose)
        row.addWidget(self.choose_button)

    def path(self) -> Path | None:
        text = self.edit.text().strip()
        return Path(text).expanduser() if text else None

    def choose(self) -> QFileDialog:
        start = self.edit.text().strip() or str(Path.home())
        dialog = QFileDialog(self.window(), self.caption, start, "Clinic Assistant backups (*.db);;All files (*)")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave if self.saving else QFileDialog.AcceptMode.AcceptOpen)
        if self.saving:
            dialog.setDefaultSuffix("db")
        else:
            dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.edit.setText)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog


class ToolDialog(QDialog):
    cancel_requested = Signal()

    def __init__(self, title: str, intro: str, action: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setMinimumWidth(520)
        self.column = layout = QVBoxLayout(self)
        self.intro = plain_label("toolIntro", intro)
        layout.addWidget(self.intro)
        self.form = QFormLayout()
        layout.addLayout(self.form)
        self.step = plain_label("toolStep")
        self.step.hide()
        layout.addWidget(self.step)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # the copy reports no fraction: busy until it is done
        self.busy.setTextVisible(False)
        self.busy.setAccessibleName("Working")
        self.busy.hide()
        layout.addWidget(self.busy)
        self.problem = plain_label("toolProblem")
        self.problem.setStyleSheet("color: #c62828;")
        self.problem.hide()
        layout.addWidget(self.problem)
        self.outcome = plain_label("toolOutcome")
        self.outcome.hide()
        layout.addWidget(self.outcome)
        self.buttons = QDialogButtonBox(parent=self)
        self.action_button = self.buttons.addButton(action, QDialogButtonBox.ButtonRole.AcceptRole)
        self.action_button.setObjectName("toolAction")
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.buttons.accepted.connect(self.act)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.running = False
        self.fields: list[QWidget] = []

    def add_field(self, label: str, field: QWidget) -> None:
        self.form.addRow(label, field)
        self.fields.append(field)

    def act(self) -> None:
        """The action button: subclasses check their fields and ask for the work."""

    # -- the work's progress ---------------------------------------------------------------------------------------
    def begin(self, text: str) -> None:
        self.running = True
        self.problem.hide()
        self.outcome.hide()
        self.show_step(text)
        self.busy.show()
        self.action_button.setEnabled(False)
        for field in self.fields:
            field.setEnabled(False)
        self.close_button.setText("Cancel")
        self.close_button.setAccessibleName("Cancel")
        self.close_button.setEnabled(True)

    def show_step(self, text: str, can_cancel: bool = True) -> None:
        self.step.setText(text)
        self.step.show()
        if self.running and not can_cancel:
            self.close_button.setEnabled(False)  # writing now: stopping half-way could leave a partial copy
        self._fit()

    def _fit(self) -> None:
        """Grow with what the dialog says (an outcome, a problem), so no wrapped line is cut off at the bottom."""
        self.column.activate()
        self.resize(self.width(), max(self.height(), self.heightForWidth(self.width()), self.sizeHint().height()))

    def _end(self) -> None:
        self.running = False
        self.busy.hide()
        self.step.hide()
        self.close_button.setText("Close")
        self.close_button.setAccessibleName("Close")
        self.close_button.setEnabled(True)

    def succeeded(self, text: str) -> None:
        self._end()
        self.outcome.setText(text)
        self.outcome.show()
        self.close_button.setFocus()
        self._fit()

    def idle(self) -> None:
        """Ready for another try: the fields and the action button work again."""
        self._end()
        self.action_button.setEnabled(True)
        for field in self.fields:
            field.setEnabled(True)

    def show_problem(self, text: str) -> None:
        self.idle()
        self.problem.setText(text)
        self.problem.show()
        self._fit()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._fit()

    def reject(self) -> None:
        if self.running:  # Cancel (Esc, the window's close button): asked, not forced
            if self.close_button.isEnabled():
                self.close_button.setEnabled(False)
                self.step.setText(self.step.text() + " — stopping")
                self.cancel_requested.emit()
            return
        super().reject()
