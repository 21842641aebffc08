"""The reason for an encounter: asked when it starts, editable from the encounter later. Optional: an encounter
without one is called a consultation wherever it is listed."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from app.ui.text_fit import fit_placeholder

DEFAULT_REASON = "Consultation"
MAX_REASON = 200


def reason_label(reason: str) -> str:
    """How an encounter's reason is shown: as written, or "Consultation" when none was given."""
    return reason.strip() or DEFAULT_REASON


class ReasonDialog(QDialog):
    submitted = Signal(str)  # the reason as typed, stripped ("" for none)

    def __init__(self, parent: QWidget | None, who: str, reason: str = "", *, new: bool) -> None:
        super().__init__(parent)
        self.setObjectName("newEncounterDialog" if new else "encounterReasonDialog")
        self.setWindowTitle("New encounter" if new else "Reason for the encounter")
        self.setAccessibleName(self.windowTitle())
        layout = QVBoxLayout(self)
        intro = QLabel(f"Reason for the encounter with {who}:" if who else "Reason for the encounter:")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.reason = QLineEdit(reason)
        self.reason.setObjectName("encounterReason")
        self.reason.setAccessibleName("Reason for the encounter")
        self.reason.setMaxLength(MAX_REASON)
        self.reason.setPlaceholderText(f"{DEFAULT_REASON} (e.g. cough and fever)")
        self.reason.setToolTip(f"Optional: without a reason the encounter is listed as “{DEFAULT_REASON}”")
        fit_placeholder(self.reason, minimum=320)
        intro.setBuddy(self.reason)
        layout.addWidget(self.reason)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, parent=self
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Start encounter" if new else "Save")
        ok.setObjectName("reasonOk")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def submit(self) -> None:
        self.submitted.emit(self.reason.text().strip())
        self.accept()
