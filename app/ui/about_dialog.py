"""Help → About: version, licence, and every model in use with its licence."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from app import __version__
from app.core.installed_models import list_models
from app.core.model_catalog import STATUS_WORDS, display_name


class AboutDialog(QDialog):
    def __init__(self, models_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Clinic Assistant")
        self.setAccessibleName("About Clinic Assistant")
        layout = QVBoxLayout(self)
        intro = QLabel(
            f"<b>Clinic Assistant {__version__}</b><br>"
            "Offline dictation, redaction, drafting and read-aloud. Nothing leaves this computer.<br>"
            "Licensed under the GNU General Public License v3.0 or later (piper-tts and espeak-ng are GPL-3.0). "
            "Third-party notices ship in THIRD_PARTY_NOTICES."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        entries = list_models(models_dir)
        table = QTableWidget(len(entries), 4, self)
        table.setObjectName("modelLicences")
        table.setAccessibleName("Models and their licences")
        table.setHorizontalHeaderLabels(["Model", "File", "Status", "Licence"])
        for row, entry in enumerate(entries):
            name = display_name(entry.name, role=entry.role, size=entry.size)
            state = STATUS_WORDS.get(entry.status, entry.status)
            for col, text in enumerate((name, entry.path.name, state, entry.licence)):
                table.setItem(row, col, QTableWidgetItem(text))
        table.resizeColumnsToContents()
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout.addWidget(table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, parent=self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(820, 360)
