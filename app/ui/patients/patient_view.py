"""One patient: the name and age, demographics on one line, the summary of the accepted notes (each item opens the
note it came from), and the encounters (newest first; activate one to open it). A brief drafted by the model
appears above the summary when the doctor asks for one.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.storage.records import EncounterOverview, PatientOverview
from app.core.summary.age import age_text
from app.core.summary.items import PatientSummary
from app.ui.encounter.reason_dialog import reason_label
from app.ui.flow_layout import FlowLayout
from app.ui.patients.briefing_box import BriefingBox
from app.ui.patients.summary_rows import NO_NOTES, failed_notes, sections
from app.ui.patients.summary_tree import SummaryTree

ENCOUNTER_ID_ROLE = Qt.ItemDataRole.UserRole + 1
NO_ENCOUNTERS = "No encounters yet. Start one with New encounter."


def _encounter_row(overview: EncounterOverview) -> list[str]:
    enc = overview.encounter
    when = enc.started_at.astimezone().strftime("%Y-%m-%d %H:%M")
    notes = f"{overview.accepted_note_count}/{overview.note_count} accepted" if overview.note_count else "none"
    return [when, reason_label(enc.reason), str(overview.transcript_count), notes, enc.status.value]


def _failed_text(count: int) -> str:
    notes = "1 accepted note" if count == 1 else f"{count} accepted notes"
    return f"{notes} could not be summarised: {'its' if count == 1 else 'their'} facts are missing below."


class PatientView(QWidget):
    encounter_opened = Signal(int)
    new_encounter_requested = Signal(int)
    source_opened = Signal(object)  # Source or NoteRef: open that note (at that sentence)
    retry_requested = Signal(int)  # patient id: extract the notes that failed again
    brief_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("patientView")
        self.patient_id: int | None = None
        layout = QVBoxLayout(self)

        heading = FlowLayout()
        self.title = QLabel()
        self.title.setObjectName("patientTitle")
        self.title.setAccessibleName("Patient name")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        heading.addWidget(self.title)
        self.age = QLabel()
        self.age.setObjectName("patientAge")
        self.age.setAccessibleName("Age")
        age_font = self.age.font()
        age_font.setPointSizeF(age_font.pointSizeF() * 1.5)
        self.age.setFont(age_font)
        self.age.setTextFormat(Qt.TextFormat.PlainText)
        heading.addWidget(self.age)
        heading.add_stretch()
        self.brief_button = QPushButton("Brief me")
        self.brief_button.setObjectName("briefMe")
        self.brief_button.setToolTip("Hear a short summary before the patient comes in (Ctrl+B)")
        self.brief_button.clicked.connect(self.brief_requested)
        heading.addWidget(self.brief_button)
        layout.addLayout(heading)

        details = FlowLayout()
        self.fields: dict[str, QLabel] = {}
        for key, label in (("dob", "Date of birth"), ("mrn", "MRN"), ("sex", "Sex"), ("ids", "Other identifiers")):
            caption = QLabel(f"{label}:")
            value = QLabel()
            value.setObjectName(f"patient_{key}")
            value.setAccessibleName(label)
            value.setTextFormat(Qt.TextFormat.PlainText)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            pair = QHBoxLayout()
            pair.setContentsMargins(0, 0, 12, 0)
            pair.addWidget(caption)
            pair.addWidget(value)
            holder = QWidget()
            holder.setLayout(pair)
            details.addWidget(holder)
            self.fields[key] = value
        layout.addLayout(details)

        self.briefing = BriefingBox()
        layout.addWidget(self.briefing)

        notice = FlowLayout()
        self.failed = QLabel()
        self.failed.setObjectName("notSummarised")
        self.failed.setWordWrap(True)
        self.failed.setTextFormat(Qt.TextFormat.PlainText)
        notice.addWidget(self.failed)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setObjectName("retrySummary")
        self.retry_button.setAccessibleName("Retry summarising the notes")
        self.retry_button.clicked.connect(self._retry)
        notice.addWidget(self.retry_button)
        self.notice = QWidget()
        self.notice.setLayout(notice)
        self.notice.hide()
        layout.addWidget(self.notice)

        summary_part = QWidget()
        summary_layout = QVBoxLayout(summary_part)
        summary_layout.setContentsMargins(0, 0, 0, 0)
        self.summary = QLabel()
        self.summary.setObjectName("patientSummary")
        self.summary.setAccessibleName("About the summary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        summary_layout.addWidget(self.summary)
        self.summary_tree = SummaryTree()
        self.summary_tree.link_activated.connect(self.source_opened)
        summary_layout.addWidget(self.summary_tree, 1)

        encounters_part = QWidget()
        encounters_layout = QVBoxLayout(encounters_part)
        encounters_layout.setContentsMargins(0, 0, 0, 0)
        header = QHBoxLayout()
        header.addWidget(QLabel("Encounters (newest first)"))
        header.addStretch(1)
        self.new_encounter = QPushButton("New encounter")
        self.new_encounter.setObjectName("newEncounterButton")
        self.new_encounter.setAccessibleName("New encounter")
        self.new_encounter.clicked.connect(self._request_encounter)
        header.addWidget(self.new_encounter)
        encounters_layout.addLayout(header)
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
        encounters_layout.addWidget(self.encounters, 1)

        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.setObjectName("patientSplit")
        self.split.setChildrenCollapsible(False)
        self.split.addWidget(summary_part)
        self.split.addWidget(encounters_part)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 1)
        layout.addWidget(self.split, 1)

    def show_overview(self, overview: PatientOverview, today: date) -> None:
        patient = overview.patient
        if patient.id != self.patient_id:
            self.briefing.clear()  # a brief belongs to the patient it was written for
            self.summary_tree.clear()
        self.patient_id = patient.id
        self.title.setText(patient.display_name)
        self.age.setText(age_text(patient.date_of_birth, today))
        self.fields["dob"].setText(patient.date_of_birth.isoformat() if patient.date_of_birth else "unknown")
        self.fields["mrn"].setText(patient.mrn or "—")
        self.fields["sex"].setText(patient.sex or "—")
        self.fields["ids"].setText(", ".join(f"{k}: {v}" for k, v in patient.identifiers.items()) or "—")
        self.encounters.clear()
        items = []
        for visit in overview.encounters:
            item = QTreeWidgetItem(_encounter_row(visit))
            item.setData(0, ENCOUNTER_ID_ROLE, visit.encounter.id)
            items.append(item)
        self.encounters.addTopLevelItems(items)

    def show_summary(self, summary: PatientSummary, today: date) -> None:
        """The summary of the patient shown (one for another patient is ignored)."""
        if summary.patient_id != self.patient_id:
            return
        listed = sections(summary, today)
        if not summary.empty:
            self.summary.clear()
        elif self.encounters.topLevelItemCount():
            self.summary.setText(NO_NOTES)
        else:
            self.summary.setText(NO_ENCOUNTERS)
        self.summary.setVisible(bool(self.summary.text()))
        self.summary_tree.show_sections(listed)
        self.summary_tree.setVisible(bool(listed))
        failed = failed_notes(summary)
        self.failed.setText(_failed_text(len(failed)) if failed else "")
        self.notice.setVisible(bool(failed))

    def clear(self) -> None:
        self.patient_id = None
        self.title.clear()
        self.age.clear()
        for label in self.fields.values():
            label.clear()
        self.summary.clear()
        self.summary_tree.clear()
        self.briefing.clear()
        self.notice.hide()
        self.encounters.clear()

    def _open_item(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        encounter_id = item.data(0, ENCOUNTER_ID_ROLE)
        if encounter_id is not None:
            self.encounter_opened.emit(int(encounter_id))

    def _request_encounter(self) -> None:
        if self.patient_id is not None:
            self.new_encounter_requested.emit(self.patient_id)

    def _retry(self) -> None:
        if self.patient_id is not None:
            self.retry_requested.emit(self.patient_id)
