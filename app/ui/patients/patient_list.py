"""The patient list: a search box, "New patient", and the matching patients (name, date of birth, MRN)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QListView, QPushButton, QVBoxLayout, QWidget

from app.core.storage.records import Patient

PATIENT_ID_ROLE = Qt.ItemDataRole.UserRole + 1
Index = QModelIndex | QPersistentModelIndex


def patient_line(patient: Patient) -> str:
    born = patient.date_of_birth.isoformat() if patient.date_of_birth else "date of birth unknown"
    mrn = f" · MRN {patient.mrn}" if patient.mrn else ""
    return f"{patient.display_name}\n{born}{mrn}"


class PatientListModel(QAbstractListModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._patients: list[Patient] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._patients)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> str | int | None:
        if not index.isValid() or not 0 <= index.row() < len(self._patients):
            return None
        patient = self._patients[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return patient_line(patient)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return patient_line(patient).replace("\n", ", ")
        if role == PATIENT_ID_ROLE:
            return patient.id
        return None

    def set_patients(self, patients: list[Patient]) -> None:
        self.beginResetModel()
        self._patients = list(patients)
        self.endResetModel()

    def patient_at(self, row: int) -> Patient | None:
        return self._patients[row] if 0 <= row < len(self._patients) else None

    def row_of(self, patient_id: int) -> int:
        return next((i for i, p in enumerate(self._patients) if p.id == patient_id), -1)

    def clear(self) -> None:
        self.set_patients([])


class PatientListPanel(QWidget):
    search_changed = Signal(str)
    patient_selected = Signal(int)
    new_patient_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("patientsPane")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.search = QLineEdit()
        self.search.setObjectName("patientSearch")
        # Short enough for the narrowest column; the tooltip says how to type a date.
        self.search.setPlaceholderText("Name, MRN or date of birth")
        self.search.setToolTip("Find a patient by name (any order), MRN, or date of birth as YYYY-MM-DD (Ctrl+F)")
        self.search.setAccessibleName("Search patients")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.search_changed)
        layout.addWidget(self.search)
        self.new_button = QPushButton("New patient")
        self.new_button.setObjectName("newPatientButton")
        self.new_button.setAccessibleName("New patient")
        self.new_button.clicked.connect(self.new_patient_requested)
        layout.addWidget(self.new_button)
        self.model = PatientListModel(self)
        self.view = QListView()
        self.view.setObjectName("patientList")
        self.view.setAccessibleName("Patients")
        self.view.setModel(self.model)
        self.view.setUniformItemSizes(True)  # thousands of rows stay cheap to lay out
        self.view.setAlternatingRowColors(True)
        self.view.selectionModel().currentRowChanged.connect(self._on_current)
        layout.addWidget(self.view, 1)
        self.count = QLabel()
        self.count.setObjectName("patientCount")
        self.count.setWordWrap(True)  # the hint for an empty list is longer than the narrowest column
        layout.addWidget(self.count)

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        patient_id = current.data(PATIENT_ID_ROLE)
        if patient_id is not None:
            self.patient_selected.emit(int(patient_id))

    def show_patients(self, patients: list[Patient], note: str = "") -> None:
        self.model.set_patients(patients)
        self.count.setText(note or f"{len(patients)} patient(s)")

    def select_patient(self, patient_id: int) -> bool:
        row = self.model.row_of(patient_id)
        if row < 0:
            return False
        self.view.setCurrentIndex(self.model.index(row))
        return True

    def move_selection(self, step: int) -> None:
        rows = self.model.rowCount()
        if not rows:
            return
        current = self.view.currentIndex().row()
        target = min(max(current + step, 0), rows - 1) if current >= 0 else 0
        self.view.setCurrentIndex(self.model.index(target))

    def clear(self) -> None:
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.model.clear()
        self.count.clear()
