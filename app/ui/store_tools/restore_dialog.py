"""File → Restore from a backup…: the backup file and its passphrase; the backup is checked (the passphrase proven,
every page verified) before the doctor is asked to confirm, and nothing is replaced until they do. The records there
now are kept, encrypted, beside the store."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLineEdit, QMessageBox, QWidget

from app.core.services.store_copies import BackupCheck
from app.core.storage.records import BackupInfo
from app.ui.store_tools.tool_dialog import FileField, ToolDialog
from app.ui.store_tools.wording import backup_summary, records

INTRO = (
    "Replace every record in this store with those of a backup. The backup is checked first; nothing changes until "
    "you confirm. The records there now are kept, encrypted, in the data folder (clinic.db.replaced-<date and time>)."
)


class RestoreDialog(ToolDialog):
    check_requested = Signal(object, str)  # Path, the backup's passphrase
    restore_confirmed = Signal(object, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Restore from a backup", INTRO, "Restore…", parent)
        self.setObjectName("restoreDialog")
        self.backup = FileField("backupSource", "Backup file", "Choose the backup", saving=False)
        self.add_field("Backup file:", self.backup)
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("backupPassphrase")
        self.passphrase.setAccessibleName("Passphrase of the backup")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.returnPressed.connect(self.act)
        self.add_field("Its passphrase:", self.passphrase)
        self.confirm_box: QMessageBox | None = None

    def act(self) -> None:
        path = self.backup.path()
        if path is None:
            self.show_problem("Choose the backup file.")
            return
        if not self.passphrase.text():
            self.show_problem("Type the passphrase the store had when the backup was made.")
            self.passphrase.setFocus()
            return
        self.check_requested.emit(path, self.passphrase.text())

    def confirm(self, check: BackupCheck, path: Path) -> QMessageBox:
        """The backup is whole and opens with the passphrase: say what it holds and what it replaces, and ask."""
        self.idle()
        now = f" The store holds {records(check.current)} now." if check.current else ""
        box = QMessageBox(
            QMessageBox.Icon.Warning, "Replace the records?",
            f"The backup is whole and holds {backup_summary(check.backup)}.{now}\n\nReplace the records with the "
            "backup's? The store will then open with the backup's passphrase. The records there now are kept, "
            "encrypted, beside the store.",
            QMessageBox.StandardButton.Cancel, self,
        )
        box.setObjectName("confirmRestore")
        replace = box.addButton("Replace the records", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)  # Enter must not replace a store
        replace.clicked.connect(lambda: self.restore_confirmed.emit(path, self.passphrase.text()))
        box.finished.connect(box.deleteLater)
        box.finished.connect(lambda _r: setattr(self, "confirm_box", None))
        self.confirm_box = box
        box.open()
        return box

    def passphrase_refused(self, text: str) -> None:
        self.show_problem(text)
        self.passphrase.selectAll()
        self.passphrase.setFocus()

    def restored(self, info: BackupInfo) -> None:
        self.succeeded(
            f"Restored {backup_summary(info)} from {Path(info.path).name}. From now on the store opens with the "
            "backup's passphrase. The records it held before are kept in the data folder as "
            "clinic.db.replaced-<date and time>."
        )
        self.action_button.setEnabled(False)

    def done(self, result: int) -> None:
        self.passphrase.clear()  # the passphrase stays in a widget no longer than needed
        super().done(result)
