"""First run, unlock (wrong then right passphrase), new patient, search, lock on idle — through the real widgets
and the real encrypted store."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app.ui.application import ClinicApplication
from app.ui.session.first_run import FirstRunWizard
from tests.ui.support import PASSPHRASE, create_store, factories, make_app, shut, ui_settings, unlock


def _app(qtbot: QtBot, root: Path, models_dir: Path) -> ClinicApplication:
    return make_app(qtbot, ui_settings("tiny"), root / "data", models_dir, root / "settings.toml", factories())


def test_first_run_creates_the_store_and_saves_the_choices(qtbot: QtBot, tmp_path: Path, models_dir: Path) -> None:
    clinic = _app(qtbot, tmp_path, models_dir)
    clinic.start()
    qtbot.waitUntil(lambda: clinic.session.wizard is not None and clinic.session.wizard.isVisible(), timeout=10000)
    wizard = clinic.session.wizard
    assert isinstance(wizard, FirstRunWizard)
    assert clinic.window.pages.currentWidget() is clinic.window.locked_page

    page = wizard.passphrase_page
    page.first.setText("short")
    assert not page.isComplete() and "12 characters" in page.feedback.text()
    page.first.setText(PASSPHRASE)
    page.second.setText(PASSPHRASE + "x")
    assert not page.isComplete() and "do not match" in page.feedback.text()
    page.second.setText(PASSPHRASE)
    assert page.isComplete()
    wizard.next()
    # The models page lists the embedded models with their state (read off the GUI thread).
    qtbot.waitUntil(lambda: wizard.models.table.rowCount() >= 5, timeout=10000)
    states = {wizard.models.table.item(r, 2).text() for r in range(wizard.models.table.rowCount())}  # type: ignore[union-attr]
    assert "installed" in states
    wizard.next()
    qtbot.waitUntil(lambda: wizard.microphone_page.note.text() != "", timeout=10000)
    wizard.next()
    gpu = wizard.gpu_page
    gpu.editors["n_ctx"].set_value(2048)
    with qtbot.waitSignal(gpu.panel.reported, timeout=60000) as probe:
        gpu.panel.probe_button.click()
    assert "llama.cpp build" in probe.args[0]

    with qtbot.waitSignal(clinic.session.unlocked, timeout=30000):
        wizard.button(wizard.WizardButton.FinishButton).click()
    assert not wizard.isVisible()
    assert clinic.window.pages.currentWidget() is clinic.window.workspace
    assert (tmp_path / "data" / "clinic.db").is_file()
    saved = (tmp_path / "settings.toml").read_text()
    assert "n_ctx = 2048" in saved
    assert clinic.hub.settings.gpu.n_ctx == 2048
    shut(qtbot, clinic)


def test_wrong_passphrase_is_said_in_the_dialog_then_the_right_one_unlocks(
    qtbot: QtBot, tmp_path: Path, models_dir: Path
) -> None:
    create_store(tmp_path / "data")
    clinic = _app(qtbot, tmp_path, models_dir)
    clinic.start()
    qtbot.waitUntil(lambda: clinic.session.unlock_dialog is not None, timeout=10000)
    dialog = clinic.session.unlock_dialog
    assert dialog is not None
    dialog.passphrase.setText("not-the-passphrase-at-all")
    dialog.unlock_button.click()
    qtbot.waitUntil(lambda: "wrong" in dialog.problem.text().lower(), timeout=30000)
    assert dialog.isVisible() and not clinic.session.is_unlocked
    assert dialog.passphrase.text() == "" or dialog.passphrase.hasSelectedText()
    with qtbot.waitSignal(clinic.session.unlocked, timeout=30000):
        dialog.passphrase.setText(PASSPHRASE)
        dialog.unlock_button.click()
    assert clinic.window.status.lock.text() == "Unlocked"
    shut(qtbot, clinic)


def test_new_patient_search_and_lock_on_idle(qtbot: QtBot, tmp_path: Path, models_dir: Path) -> None:
    create_store(tmp_path / "data")
    clinic = _app(qtbot, tmp_path, models_dir)
    unlock(qtbot, clinic)

    dialog = clinic.patients.open_new_patient_dialog()
    dialog.family.setText("Example")
    dialog.given.setText("Jane")
    dialog.dob.setText("1957-03-14x")
    dialog.buttons.accepted.emit()
    assert "not a date" in dialog.problem.text()  # checked in the dialog, nothing sent to the store
    dialog.dob.setText("1957-03-14")
    dialog.mrn.setText("447291")
    with qtbot.waitSignal(clinic.patients.shown, timeout=10000):
        dialog.buttons.accepted.emit()
    assert clinic.window.patient_view.title.text() == "Example, Jane"
    assert clinic.window.patient_view.fields["dob"].text() == "1957-03-14"

    # The same MRN again: the store refuses, the dialog says so.
    second = clinic.patients.open_new_patient_dialog()
    second.family.setText("Other")
    second.mrn.setText("447291")
    second.buttons.accepted.emit()
    qtbot.waitUntil(lambda: second.problem.text() != "", timeout=10000)
    assert second.isVisible()
    second.reject()

    for query in ("exam", "447291", "1957-03-14"):
        with qtbot.waitSignal(clinic.patients.searched, timeout=10000) as found:
            clinic.window.patients.search.setText(query)
        assert found.args == [1], query

    # Idle: a fake clock runs past the limit; the patient vanishes from the screen and the store locks.
    now = [1000.0]
    clinic.session.clock = lambda: now[0]
    clinic.session.note_activity()
    clinic.session.set_idle_limit(60)
    # A key pressed in the window, delivered as the platform delivers a real keyboard's, counts as activity.
    clinic.window.activateWindow()
    qtbot.waitUntil(lambda: QGuiApplication.focusWindow() is clinic.window.windowHandle())
    now[0] += 59
    QTest.keyClick(clinic.window.windowHandle(), Qt.Key.Key_Shift)
    now[0] += 59
    clinic.session.check_idle()
    assert clinic.session.is_unlocked
    now[0] += 61
    with qtbot.waitSignal(clinic.session.locked, timeout=10000):
        clinic.session.check_idle()
    assert clinic.window.pages.currentWidget() is clinic.window.locked_page
    assert clinic.window.patients.model.rowCount() == 0 and clinic.window.patient_view.title.text() == ""
    assert "idle" in clinic.window.locked_page.message.text()
    dialog_after = clinic.session.unlock_dialog
    assert dialog_after is not None and dialog_after.isVisible()
    with qtbot.waitSignal(clinic.session.unlocked, timeout=30000):
        dialog_after.passphrase.setText(PASSPHRASE)
        dialog_after.unlock_button.click()
    with qtbot.waitSignal(clinic.patients.searched, timeout=10000) as found:
        clinic.window.patients.search.setText("Example")
    assert found.args == [1]
    assert date(1957, 3, 14).isoformat() in clinic.window.patients.model.data(clinic.window.patients.model.index(0))
    shut(qtbot, clinic)
