"""Offered when unlocking finds damaged pages: copy every record that can still be read into a new store beside the
damaged one. The session controller runs the copy on the store's thread; this dialog only asks and then says where
the copy went and what to do next (keep the damaged file)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QProgressBar, QVBoxLayout, QWidget

from app.core.storage.opening import StoreDamaged
from app.core.storage.records import SalvageReport
from app.ui.plain_label import plain_label


def salvage_summary(report: SalvageReport) -> str:
    """What the doctor reads once the copy is written: counts and a file name, never content."""
    copied = sum(report.counts.values())
    lost = {table: count for table, count in report.lost.items() if count != 0}
    if lost:
        parts = ", ".join(f"{t} {'an unknown number' if n is None else n}" for t, n in lost.items())
        lost_text = f"Could not be read{'' if report.lost_exact else ' (at most)'}: {parts}."
    else:
        lost_text = "Nothing was lost: every record could be read."
    lines = [f"Salvaged {copied} records into:\n{report.path}", lost_text]
    if report.placeholders:
        kept = ", ".join(f"{t} {n}" for t, n in report.placeholders.items())
        lines.append(f"Stand-ins named 'Unreadable record' were added for lost records that others point at: {kept}.")
    lines.append(
        "The damaged store was not changed: keep it until the salvaged copy is in use. To use the copy, quit Clinic "
        f'Assistant and run:\nclinic-assistant store restore "{report.path}" --force'
    )
    return "\n\n".join(lines)


class SalvageOffer(QDialog):
    salvage_requested = Signal()

    def __init__(self, problem: StoreDamaged, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("The store is damaged")
        self.setAccessibleName("The store is damaged")
        self.setObjectName("salvageOffer")
        layout = QVBoxLayout(self)
        self.message = plain_label(
            "salvageMessage",
            f"{problem.message}\n\nSalvage copies every record that can still be read into a new encrypted store "
            "next to it, with the same passphrase. The damaged store itself is not changed.",
        )
        layout.addWidget(self.message)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setAccessibleName("Salvaging the records")
        self.busy.hide()
        layout.addWidget(self.busy)
        self.outcome = plain_label("salvageOutcome")
        self.outcome.hide()
        layout.addWidget(self.outcome)
        self.buttons = QDialogButtonBox(parent=self)
        self.salvage_button = self.buttons.addButton("Salvage…", QDialogButtonBox.ButtonRole.ActionRole)
        self.salvage_button.setObjectName("salvageButton")
        self.salvage_button.clicked.connect(self._request)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def _request(self) -> None:
        self.set_busy(True)
        self.salvage_requested.emit()

    def set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.salvage_button.setEnabled(not busy)

    def show_result(self, report: object) -> None:
        self.set_busy(False)
        if isinstance(report, SalvageReport):
            self.outcome.setText(salvage_summary(report))
            self.salvage_button.setEnabled(False)  # done: a second copy would only add a file
        self.outcome.show()

    def show_failure(self, text: str) -> None:
        self.set_busy(False)
        self.outcome.setText(text or "The salvage did not finish.")
        self.outcome.show()
