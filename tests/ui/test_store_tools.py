"""File → Back up the store… and Restore from a backup…, in the window on a real store: a backup then a restore
round-trips a patient; a wrong passphrase, a damaged backup and a full disk are said in the dialog, and leave the
store as it was."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot
from shiboken6 import isValid

from app.core.services import store_copies
from app.ui.application import ClinicApplication
from app.ui.patients.new_patient_dialog import NewPatient
from app.ui.store_tools.backup_dialog import BackupDialog
from app.ui.store_tools.restore_dialog import RestoreDialog
from tests.ui.support import PASSPHRASE, create_store, factories, make_app, shut, ui_settings, unlock


@pytest.fixture
def clinic(qtbot: QtBot, tmp_path: Path, models_dir: Path) -> ClinicApplication:
    """The window unlocked on a new store (each test shuts it: `shut`)."""
    create_store(tmp_path / "data")
    app = make_app(qtbot, ui_settings("scripted"), tmp_path / "data", models_dir, tmp_path / "settings.toml",
                   factories())
    unlock(qtbot, app)
    return app


def add_patient(qtbot: QtBot, app: ClinicApplication, family: str, mrn: str) -> None:
    with qtbot.waitSignal(app.patients.shown, timeout=10000):
        app.patients.add_patient(NewPatient(family, "Test", None, mrn, ""))


def listed(app: ClinicApplication) -> list[str]:
    model = app.window.patients.view.model()
    return [str(model.index(row, 0).data()) for row in range(model.rowCount())]


def patient_count(qtbot: QtBot, app: ClinicApplication) -> int:
    job = app.hub.run("store", lambda store, _t: store.repositories().patients.count(), "counting")
    with qtbot.waitSignal(job.finished, timeout=10000) as done:
        pass
    return int(done.args[0])


def back_up(qtbot: QtBot, app: ClinicApplication, dest: Path) -> BackupDialog:
    app.window.actions_by_key["backup"].trigger()
    dialog = app.store_tools.backup_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.destination.edit.setText(str(dest))
    dialog.action_button.click()
    return dialog


def ask_restore(app: ClinicApplication, backup: Path, passphrase: str = PASSPHRASE) -> RestoreDialog:
    app.window.actions_by_key["restore"].trigger()
    dialog = app.store_tools.restore_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.backup.edit.setText(str(backup))
    dialog.passphrase.setText(passphrase)
    dialog.action_button.click()
    return dialog


def close(dialog: BackupDialog | RestoreDialog) -> None:
    assert not dialog.running
    dialog.close_button.click()
    assert not dialog.isVisible()


def test_backup_then_restore_round_trips_a_patient(qtbot: QtBot, tmp_path: Path, clinic: ClinicApplication) -> None:
    add_patient(qtbot, clinic, "Tredgold", "447291")
    backup = tmp_path / "usb" / "clinic-backup.db"
    backup.parent.mkdir()
    with qtbot.waitSignal(clinic.store_tools.backed_up, timeout=30000) as done:
        dialog = back_up(qtbot, clinic, backup)
        assert dialog.busy.isVisible()  # the busy bar while the copy is written and checked
    assert done.args[0].counts["patients"] == 1
    assert backup.is_file() and (backup.parent / "clinic-backup.db.cipher.json").is_file()
    assert backup.stat().st_mode & 0o777 == 0o600
    assert "1 patient" in dialog.outcome.text() and "cipher.json" in dialog.outcome.text()
    close(dialog)

    add_patient(qtbot, clinic, "Quillfeather", "550101")  # after the backup: the restore takes it away
    with qtbot.waitSignal(clinic.patients.searched, timeout=10000):
        clinic.patients.search("")
    assert any("Quillfeather" in row for row in listed(clinic))

    restore = ask_restore(clinic, backup)
    qtbot.waitUntil(lambda: restore.confirm_box is not None, timeout=30000)
    box = restore.confirm_box
    assert box is not None
    assert "backup is whole and holds 1 patient" in box.text() and "The store holds 2 patients" in box.text()
    replace = next(b for b in box.buttons() if b.text() == "Replace the records")
    with (
        qtbot.waitSignal(clinic.store_tools.restore_ended, timeout=30000) as ended,
        qtbot.waitSignal(clinic.patients.searched, timeout=30000),
    ):
        replace.click()
    assert ended.args == [True]
    assert "Restored 1 patient" in restore.outcome.text()
    rows = listed(clinic)
    assert any("Tredgold" in row for row in rows) and not any("Quillfeather" in row for row in rows)
    assert patient_count(qtbot, clinic) == 1
    kept = [name for name in os.listdir(tmp_path / "data") if name.startswith("clinic.db.replaced-")]
    assert kept  # the records there before are kept, encrypted, beside the store
    assert clinic.presenter.history == []
    close(restore)
    shut(qtbot, clinic)


def test_a_wrong_passphrase_or_a_damaged_backup_changes_nothing(
    qtbot: QtBot, tmp_path: Path, clinic: ClinicApplication
) -> None:
    add_patient(qtbot, clinic, "Tredgold", "447291")
    backup = tmp_path / "clinic-backup.db"
    with qtbot.waitSignal(clinic.store_tools.backed_up, timeout=30000):
        dialog = back_up(qtbot, clinic, backup)
    close(dialog)
    add_patient(qtbot, clinic, "Quillfeather", "550101")

    restore = ask_restore(clinic, backup, "not-the-passphrase-at-all")
    qtbot.waitUntil(lambda: restore.problem.isVisible(), timeout=30000)
    assert "passphrase does not open the backup" in restore.problem.text()
    assert restore.confirm_box is None and restore.action_button.isEnabled()
    close(restore)

    # A backup with a page overwritten (a bad sector, a bad copy): found before anything is replaced.
    damaged = tmp_path / "damaged" / "clinic-backup.db"
    damaged.parent.mkdir()
    data = bytearray(backup.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(64)
    damaged.write_bytes(bytes(data))
    (damaged.parent / "clinic-backup.db.cipher.json").write_bytes(
        (tmp_path / "clinic-backup.db.cipher.json").read_bytes()
    )
    restore = ask_restore(clinic, damaged)
    qtbot.waitUntil(lambda: restore.problem.isVisible(), timeout=30000)
    assert "damaged" in restore.problem.text() and "Nothing was changed" in restore.problem.text()
    assert restore.confirm_box is None
    close(restore)

    # Not a backup at all.
    letter = tmp_path / "letter.txt"
    letter.write_text("Dear colleague, please find enclosed.\n", encoding="utf-8")
    restore = ask_restore(clinic, letter)
    qtbot.waitUntil(lambda: restore.problem.isVisible(), timeout=30000)
    assert "not a Clinic Assistant backup" in restore.problem.text()
    close(restore)

    assert patient_count(qtbot, clinic) == 2  # both patients still there
    assert not [n for n in os.listdir(tmp_path / "data") if n.startswith("clinic.db.replaced-")]
    shut(qtbot, clinic)


def test_a_full_disk_is_said_before_anything_is_written(
    qtbot: QtBot, tmp_path: Path, clinic: ClinicApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = store_copies.shutil.disk_usage
    monkeypatch.setattr(store_copies.shutil, "disk_usage", lambda path: real(path)._replace(free=1024 * 1024))
    backup = tmp_path / "clinic-backup.db"
    dialog = back_up(qtbot, clinic, backup)
    qtbot.waitUntil(lambda: dialog.problem.isVisible(), timeout=30000)
    assert "not enough free space" in dialog.problem.text() and "Nothing was written" in dialog.problem.text()
    assert not backup.exists()
    close(dialog)
    shut(qtbot, clinic)


def test_replacing_an_existing_file_is_asked(qtbot: QtBot, tmp_path: Path, clinic: ClinicApplication) -> None:
    backup = tmp_path / "clinic-backup.db"
    backup.write_bytes(b"an older file")
    dialog = back_up(qtbot, clinic, backup)
    box = dialog.confirm_box
    assert isinstance(box, QMessageBox) and "already exists" in box.text()
    with qtbot.waitSignal(clinic.store_tools.backed_up, timeout=30000):
        next(b for b in box.buttons() if b.text() == "Replace").click()
    assert backup.read_bytes() != b"an older file"
    close(dialog)
    shut(qtbot, clinic)


def test_cancel_stops_a_backup_that_has_not_started(qtbot: QtBot, tmp_path: Path, clinic: ClinicApplication) -> None:
    gate = threading.Event()
    busy = clinic.hub.run("store", lambda _store, _t: gate.wait(30), "other store work")  # the backup waits behind it
    backup = tmp_path / "clinic-backup.db"
    dialog = back_up(qtbot, clinic, backup)
    assert dialog.running and dialog.close_button.text() == "Cancel" and dialog.close_button.isEnabled()
    dialog.close_button.click()
    assert dialog.isVisible()  # Cancel asks the work to stop; the dialog says when it has
    with qtbot.waitSignal(busy.ended, timeout=30000):
        gate.set()
    qtbot.waitUntil(lambda: dialog.problem.isVisible(), timeout=30000)
    assert dialog.problem.text() == "Stopped: no backup was written."
    assert not backup.exists()
    close(dialog)
    shut(qtbot, clinic)


def test_locking_closes_the_store_dialogs(qtbot: QtBot, clinic: ClinicApplication) -> None:
    clinic.window.actions_by_key["backup"].trigger()
    restore = clinic.store_tools.open_restore()
    restore.passphrase.setText(PASSPHRASE)
    with qtbot.waitSignal(clinic.session.locked, timeout=10000):
        clinic.window.actions_by_key["lock"].trigger()
    assert clinic.store_tools.backup_dialog is None and clinic.store_tools.restore_dialog is None
    qtbot.waitUntil(lambda: not isValid(restore), timeout=5000)  # the passphrase typed is not kept behind the lock
    assert not clinic.window.actions_by_key["restore"].isEnabled()
    shut(qtbot, clinic)
