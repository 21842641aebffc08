"""The encounter: who and when, the dictation and identifier review tabs, and the drafting actions."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from app.ui.encounter.dictation_panel import DictationPanel
from app.ui.encounter.reason_dialog import reason_label
from app.ui.encounter.redaction_panel import RedactionPanel
from app.ui.flow_layout import FlowLayout

ACTIONS = (("soap", "Draft SOAP note"), ("summary", "Summarise"), ("referral", "Referral letter"))


class EncounterView(QWidget):
    back_clicked = Signal()
    reason_clicked = Signal()
    action_clicked = Signal(str)  # "soap" | "summary" | "referral"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("encounterView")
        layout = QVBoxLayout(self)
        header = QHBoxLayout()
        self.back_button = QPushButton("← Patient")
        self.back_button.setObjectName("backToPatient")
        self.back_button.setAccessibleName("Back to the patient")
        self.back_button.clicked.connect(self.back_clicked)
        header.addWidget(self.back_button)
        self.title = QLabel()
        self.title.setObjectName("encounterTitle")
        self.title.setAccessibleName("Encounter")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)  # patient, date and reason can be long: wrap rather than widen the window
        header.addWidget(self.title, 1)
        self.reason_button = QPushButton("Edit reason…")
        self.reason_button.setObjectName("editReason")
        self.reason_button.setAccessibleName("Edit the reason for the encounter")
        self.reason_button.setToolTip("Change the reason for this encounter")
        self.reason_button.clicked.connect(self.reason_clicked)
        header.addWidget(self.reason_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(header)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("encounterTabs")
        self.dictation = DictationPanel()
        self.redaction = RedactionPanel()
        self.tabs.addTab(self.dictation, "&Dictation")
        self.tabs.addTab(self.redaction, "&Identifiers")
        layout.addWidget(self.tabs, 1)
        actions = FlowLayout()
        self.action_buttons: dict[str, QPushButton] = {}
        for key, text in ACTIONS:
            button = QPushButton(text)
            button.setObjectName(f"action_{key}_button")
            button.setAccessibleName(text)
            button.clicked.connect(lambda _checked=False, k=key: self.action_clicked.emit(k))
            actions.addWidget(button)
            self.action_buttons[key] = button
        actions.add_stretch()
        layout.addLayout(actions)

    def show_header(self, patient_name: str, when: str, reason: str) -> None:
        self.title.setText(f"{patient_name} — {when} — {reason_label(reason)}")

    def show_review(self) -> None:
        self.tabs.setCurrentWidget(self.redaction)

    def show_dictation(self) -> None:
        self.tabs.setCurrentWidget(self.dictation)

    def set_generating(self, generating: bool) -> None:
        for button in self.action_buttons.values():
            button.setEnabled(not generating)

    def clear(self) -> None:
        self.title.clear()
        self.dictation.clear()
        self.redaction.clear()
        self.show_dictation()
