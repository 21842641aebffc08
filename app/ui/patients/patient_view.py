"""One patient: demographics, a short summary, and the encounters (newest first); activate one to open it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.storage.records import EncounterOverview, PatientSummary
from app.ui.encounter.reason_dialog import reason_label

ENCOUNTER_ID_ROLE = Qt.ItemDataRole.UserRole + 1


def _encounter_row(overview: EncounterOverview) -> list[str]:
    enc = overview.encounter
    when = enc.started_at.astimezone().strftime("%Y-%m-%d %H:%M")
    notes = f"{overview.accepted_note_count}/{overview.note_count} accepted" if overview.note_count else "none"
    return [when, reason_label(enc.reason), str(overview.transcript_count), notes, enc.status.value]


class PatientView(QWidget):
    encounter_opened = Signal(int)
    new_encounter_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("patientView")
        self.patient_id: int | None = None
        layout = QVBoxLayout(self)
        self.title = QLabel()
        self.title.setObjectName("patientTitle")
        self.title.setAccessibleName("Patient name")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.title)

        details = QGroupBox("Demographics")
        form = QFormLayout(details)
        self.fields: dict[str, QLabel] = {}
        for key, label in (("dob", "Date of birth"), ("mrn", "MRN"), ("sex", "Sex"), ("ids", "Other identifiers")):
            value = QLabel()
            value.setObjectName(f"patient_{key}")
            value.setAccessibleName(label)
            value.setTextFormat(Qt.TextFormat.PlainText)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(label, value)
            self.fields[key] = value
        layout.addWidget(details)

        summary_box = QGroupBox("Summary")
        summary_layout = QVBoxLayout(summary_box)
        self.summary = QLabel()
        self.summary.setObjectName("patientSummary")
        self.summary.setAccessibleName("Patient summary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        summary_layout.addWidget(self.summary)
        layout.addWidget(summary_box)

        header = QHBoxLayout()
        header.addWidget(QLabel("Encounters (newest first)"))
        header.addStretch(1)
        self.new_encounter = QPushButton("New encounter")
        self.new_encounter.setObjectName("newEncounterButton")
        self.new_encounter.setAccessibleName("New encounter")
        self.new_encounter.clicked.connect(self._request_encounter)
        header.addWidget(self.new_encounter)
        layout.addLayout(header)
        self.encounters = QTreeWidget()
        self.encounters.setObjectName("encounterList")
        self.encounters.setAccessibleName("Encounters")
        self.encounters.setRootIsDecorated(False)
        self.encounters.setHeaderLabels(["Date", "Reason", "Dictations", "Notes", "Status"])
        header_view = self.encounters.header()
        header_view.setStretchLastSection(False)
        header_view.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header_view.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.encounters.itemActivated.connect(self._open_item)
        self.encounters.itemClicked.connect(self._open_item)
        layout.addWidget(self.encounters, 1)

    def show_summary(self, summary: PatientSummary) -> None:
        patient = summary.patient
        self.patient_id = patient.id
        self.title.setText(patient.display_name)
        self.fields["dob"].setText(patient.date_of_birth.isoformat() if patient.date_of_birth else "unknown")
        self.fields["mrn"].setText(patient.mrn or "—")
        self.fields["sex"].setText(patient.sex or "—")
        self.fields["ids"].setText(", ".join(f"{k}: {v}" for k, v in patient.identifiers.items()) or "—")
        visits = summary.encounters
        if visits:
            last = visits[0].encounter.started_at.astimezone().strftime("%Y-%m-%d")
            accepted = sum(v.accepted_note_count for v in visits)
            dictated = sum(v.transcript_count for v in visits)
            self.summary.setText(
                f"{len(visits)} encounter(s), the last on {last}. {dictated} dictation(s), {accepted} accepted note(s)."
            )
        else:
            self.summary.setText("No encounters yet. Start one with New encounter.")
        self.encounters.clear()
        items = []
        for overview in visits:
            item = QTreeWidgetItem(_encounter_row(overview))
            item.setData(0, ENCOUNTER_ID_ROLE, overview.encounter.id)
            items.append(item)
        self.encounters.addTopLevelItems(items)

    def clear(self) -> None:
        self.patient_id = None
        self.title.clear()
        for label in self.fields.values():
            label.clear()
        self.summary.clear()
        self.encounters.clear()

    def _open_item(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        encounter_id = item.data(0, ENCOUNTER_ID_ROLE)
        if encounter_id is not None:
            self.encounter_opened.emit(int(encounter_id))

    def _request_encounter(self) -> None:
        if self.patient_id is not None:
            self.new_encounter_requested.emit(self.patient_id)
