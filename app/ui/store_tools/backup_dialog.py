"""File → Back up the store…: where to save an encrypted copy of every record. The copy opens with the store's
current passphrase; its cipher settings go in a small .cipher.json file beside it, to be kept with it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from app.core.storage.records import BackupInfo
from app.ui.store_tools.tool_dialog import FileField, ToolDialog
from app.ui.store_tools.wording import backup_summary

INTRO = (
    "Save an encrypted copy of every record: patients, encounters, transcripts and notes. The copy opens with the "
    "passphrase the store has now. Keep it somewhere other than this computer (a USB drive in a safe place, say)."
)


def default_backup_path(today: date | None = None) -> Path:
    return Path.home() / f"clinic-backup-{(today or date.today()).isoformat()}.db"


class BackupDialog(ToolDialog):
    backup_requested = Signal(object, bool)  # Path, replace an existing file

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Back up the store", INTRO, "Back up", parent)
        self.setObjectName("backupDialog")
        self.destination = FileField("backupDestination", "Backup file", "Save the backup as", saving=True)
        self.destination.edit.setText(str(default_backup_path()))
        self.add_field("Save the backup as:", self.destination)
        self.confirm_box: QMessageBox | None = None

    def act(self) -> None:
        path = self.destination.path()
        if path is None:
            self.show_problem("Choose where to save the backup.")
            return
        if path.exists():  # one stat, on a path the doctor just typed or chose
            self._confirm_replace(path)
            return
        self.backup_requested.emit(path, False)

    def _confirm_replace(self, path: Path) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Question, "Replace the file?",
            f"{path.name} already exists in {path.parent}. Replace it with a new backup?",
            QMessageBox.StandardButton.Cancel, self,
        )
        replace = box.addButton("Replace", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        replace.clicked.connect(lambda: self.backup_requested.emit(path, True))
        box.finished.connect(box.deleteLater)
        box.finished.connect(lambda _r: setattr(self, "confirm_box", None))
        self.confirm_box = box
        box.open()

    def backed_up(self, info: BackupInfo) -> None:
        sidecar = Path(info.path).name + ".cipher.json"
        self.succeeded(
            f"Backed up {backup_summary(info)} to:\n{info.path}\n\nKeep {sidecar} (beside it) with the backup: it "
            "records how the copy is encrypted. The backup opens with the store's current passphrase."
        )
        self.action_button.setEnabled(False)  # done: a second click would only write the same copy again
