"""New patient: the demographics form. The controller saves it off the GUI thread and closes the dialog on success;
a problem (a missing name, an MRN already in use) is shown inside the dialog."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget

from app.core.errors import InputError
from app.ui.text_fit import fit_placeholder


@dataclass(frozen=True)
class NewPatient:
    family_name: str
    given_names: str
    date_of_birth: date | None
    mrn: str | None
    sex: str


def parse_date_of_birth(text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        born = date.fromisoformat(text)
    except ValueError:
        raise InputError("The date of birth is not a date", "Write it as YYYY-MM-DD, e.g. 1957-03-14") from None
    if born > date.today():
        raise InputError("The date of birth is in the future", "Check the year")
    return born


class NewPatientDialog(QDialog):
    submitted = Signal(object)  # NewPatient

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New patient")
        self.setAccessibleName("New patient")
        form = QFormLayout(self)
        self.family = self._line("Family name", "familyName")
        self.given = self._line("Given names", "givenNames")
        self.dob = self._line("Date of birth", "dateOfBirth", "YYYY-MM-DD")
        self.mrn = self._line("MRN", "mrn", "Medical record number (optional)")
        self.sex = QComboBox()
        self.sex.setObjectName("sex")
        self.sex.setAccessibleName("Sex")
        self.sex.addItems(["", "female", "male", "other", "unknown"])
        for label, widget in (
            ("&Family name", self.family),
            ("&Given names", self.given),
            ("&Date of birth", self.dob),
            ("&MRN", self.mrn),
            ("&Sex", self.sex),
        ):
            form.addRow(label, widget)
        self.problem = QLabel()
        self.problem.setObjectName("newPatientProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #c62828;")
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        form.addRow(self.problem)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, parent=self
        )
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)

    def _line(self, name: str, object_name: str, placeholder: str = "") -> QLineEdit:
        line = QLineEdit()
        line.setObjectName(object_name)
        line.setAccessibleName(name)
        line.setPlaceholderText(placeholder)
        fit_placeholder(line, minimum=260)
        return line

    def _submit(self) -> None:
        try:
            born = parse_date_of_birth(self.dob.text())
        except InputError as exc:
            self.show_problem(exc.one_line())
            self.dob.setFocus()
            return
        if not self.family.text().strip():
            self.show_problem("A patient needs a family name.")
            self.family.setFocus()
            return
        self.set_busy(True)
        self.submitted.emit(
            NewPatient(
                self.family.text().strip(),
                self.given.text().strip(),
                born,
                self.mrn.text().strip() or None,
                self.sex.currentText(),
            )
        )

    def set_busy(self, busy: bool) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(not busy)

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.set_busy(False)
