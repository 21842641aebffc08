"""Issue #17, what a doctor saw: a wrong passphrase with Enter closed the unlock dialog, its message was clipped,
the lock screen said "Locked." twice over an unlabelled field, unlocking lost the open encounter; and choosing a
new passphrase — on the first run, and in the window's Change passphrase dialog — on a real temporary store."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from app.core.storage.passphrase import name_words
from app.core.storage.records import NoteAuthor, NoteKind
from app.core.storage.store import Store
from app.ui.application import ClinicApplication
from app.ui.patients.new_patient_dialog import NewPatient
from app.ui.session.first_run import PassphrasePage
from app.ui.session.resume import Place
from app.ui.session.unlock_dialog import UnlockDialog
from tests.ui.support import PASSPHRASE, create_store, factories, make_app, shut, start_encounter, ui_settings, unlock

NEW_PASSPHRASE = "copper lantern violet harbour 77"


def _app(qtbot: QtBot, root: Path, models_dir: Path) -> ClinicApplication:
    return make_app(qtbot, ui_settings("tiny"), root / "data", models_dir, root / "settings.toml", factories())


def _visible_label_of(field: QLineEdit) -> QLabel:
    parent = field.parentWidget()
    assert parent is not None
    for form in parent.findChildren(QFormLayout):
        label = form.labelForField(field)
        if isinstance(label, QLabel):
            assert label.isVisible() and label.text().replace("&", "") and label.buddy() is field
            return label
    raise AssertionError(f"{field.accessibleName()} has no visible label")


def _fits(label: QLabel, window: QWidget) -> bool:
    """Every wrapped line of the label is inside its own geometry, and the label inside the window."""
    inside = window.rect().contains(QRect(label.mapTo(window, QPoint(0, 0)), label.size()))
    return label.heightForWidth(label.width()) <= label.height() and inside


def _open_dialog(qtbot: QtBot, clinic: ClinicApplication) -> UnlockDialog:
    qtbot.waitUntil(lambda: clinic.session.unlock_dialog is not None and clinic.session.unlock_dialog.isVisible(),
                    timeout=10000)
    dialog = clinic.session.unlock_dialog
    assert dialog is not None
    return dialog


def test_wrong_passphrase_with_enter_keeps_the_dialog_and_a_readable_message(
    qtbot: QtBot, tmp_path: Path, models_dir: Path
) -> None:
    create_store(tmp_path / "data")
    clinic = _app(qtbot, tmp_path, models_dir)
    clinic.start()
    dialog = _open_dialog(qtbot, clinic)
    assert _visible_label_of(dialog.passphrase).text() == "&Passphrase"
    assert dialog.passphrase.accessibleName() == "Passphrase"
    for attempt in range(2):  # the doctor saw it vanish twice in a row
        QTest.keyClicks(dialog.passphrase, "not the passphrase at all")
        QTest.keyClick(dialog.passphrase, Qt.Key.Key_Return)
        assert dialog.isVisible() and dialog.busy.isVisible()
        QTest.keyClick(dialog.passphrase, Qt.Key.Key_Return)  # impatient: Enter again while it is checked
        qtbot.waitUntil(lambda: not dialog.busy.isVisible(), timeout=30000)
        assert dialog.isVisible() and clinic.session.unlock_dialog is dialog, attempt
        assert "wrong" in dialog.problem.text().lower() and dialog.problem.isVisible()
        assert _fits(dialog.problem, dialog), (dialog.problem.geometry(), dialog.size())
        # selected, with the focus: typing replaces it
        field = dialog.passphrase
        assert dialog.focusWidget() is field and field.selectedText() == field.text() != ""
        assert not dialog.passphrase.isReadOnly() and dialog.unlock_button.isEnabled()
    with qtbot.waitSignal(clinic.session.unlocked, timeout=30000):
        QTest.keyClicks(dialog.passphrase, PASSPHRASE)  # replaces the selected wrong one
        QTest.keyClick(dialog.passphrase, Qt.Key.Key_Return)
    assert not dialog.isVisible() and dialog.passphrase.text() == ""
    shut(qtbot, clinic)


def test_the_lock_screen_says_locked_once_and_unlocking_returns_to_the_encounter_and_its_note(
    qtbot: QtBot, tmp_path: Path, models_dir: Path
) -> None:
    create_store(tmp_path / "data")
    clinic = _app(qtbot, tmp_path, models_dir)
    unlock(qtbot, clinic)
    w = clinic.window
    with qtbot.waitSignal(clinic.patients.shown, timeout=10000):
        clinic.patients.add_patient(NewPatient("Thistlewood", "Oswin", None, "551203", ""))
    start_encounter(qtbot, clinic, "Cough for three weeks")
    encounter_id = clinic.encounter.encounter_id
    patient_id = clinic.patients.current_patient
    assert encounter_id is not None and patient_id is not None

    def two_notes(store: Store, _token: object) -> tuple[int, int]:
        notes = store.repositories().notes
        first = notes.create(encounter_id, NoteKind.SOAP, "S: cough for three weeks, first version",
                             author=NoteAuthor.DOCTOR)
        second = notes.create(encounter_id, NoteKind.LETTER, "Dear colleague, the later letter",
                              author=NoteAuthor.DOCTOR)
        return first.id, second.id

    with qtbot.waitSignal(clinic.hub.run("store", two_notes, "adding notes").finished, timeout=10000) as made:
        pass
    first_id, second_id = made.args[0]
    with qtbot.waitSignal(clinic.encounter.opened, timeout=10000):
        clinic.open_encounter(encounter_id)  # reopened: the newest note is shown, the doctor picks the older one
    w.encounter_view.dictation.transcript.setPlainText("Cough for three weeks, worse at night.")  # typed: saved on lock
    with qtbot.waitSignal(clinic.drafts.show_note(first_id).finished, timeout=10000):
        pass
    assert "first version" in w.answer.text()

    with qtbot.waitSignal(clinic.session.locked, timeout=10000):
        w.actions_by_key["lock"].trigger()
    dialog = _open_dialog(qtbot, clinic)
    # Said once, on the page behind the dialog; the dialog asks for the passphrase under a visible label.
    assert "locked" in w.locked_page.message.text().lower()
    assert "locked" not in dialog.intro.text().lower()
    _visible_label_of(dialog.passphrase)
    # Nothing of the patient stays on screen or in the remembered place: ids only.
    assert w.pages.currentWidget() is w.locked_page
    assert w.answer.text() == "" and w.encounter_view.dictation.transcript_text() == ""
    assert w.patients.model.rowCount() == 0 and w.patient_view.title.text() == ""
    assert clinic.resume.place == Place(patient_id, encounter_id, first_id)
    assert all(isinstance(v, int) for v in vars(clinic.resume.place).values())

    with qtbot.waitSignal(clinic.resume.returned, timeout=30000) as back:
        dialog.passphrase.setText(PASSPHRASE)
        dialog.unlock_button.click()
    assert back.args[0].encounter_id == encounter_id
    assert w.center.currentWidget() is w.encounter_view and clinic.encounter.encounter_id == encounter_id
    assert w.encounter_view.dictation.transcript_text() == "Cough for three weeks, worse at night."
    current = clinic.drafts.current
    assert current is not None and current.note_id == first_id != second_id
    assert "first version" in w.answer.text()
    assert w.patient_view.title.text() == "Thistlewood, Oswin"

    # On the patient page, it is the patient page that comes back.
    clinic.back_to_patient()
    qtbot.waitUntil(lambda: w.center.currentWidget() is w.patient_view)
    with qtbot.waitSignal(clinic.session.locked, timeout=10000):
        w.actions_by_key["lock"].trigger()
    dialog = _open_dialog(qtbot, clinic)
    with qtbot.waitSignal(clinic.resume.returned, timeout=30000):
        dialog.passphrase.setText(PASSPHRASE)
        dialog.unlock_button.click()
    assert w.center.currentWidget() is w.patient_view and clinic.encounter.data is None
    assert w.patient_view.title.text() == "Thistlewood, Oswin"
    shut(qtbot, clinic)


def test_first_run_page_measures_strength_and_refuses_a_name_with_a_year(qtbot: QtBot) -> None:
    page = PassphrasePage(name_words("Dr Oswin Harrow"))
    qtbot.addWidget(page)
    page.show()
    for field in (page.first, page.second):
        _visible_label_of(field)
    for weak in ("Summer2024!!", "Oswin1958!", "Harrow Oswin 1958"):
        page.first.setText(weak)
        page.second.setText(weak)
        assert not page.isComplete(), weak
        assert page.feedback.text().startswith("Not yet:") and page.fields.meter.value() < 4
    page.second.clear()
    page.first.setText(NEW_PASSPHRASE)
    assert "type it again" in page.feedback.text() and not page.isComplete()
    page.second.setText(NEW_PASSPHRASE)
    assert page.isComplete() and page.fields.meter.value() == 4 and page.fields.meter.text() == "Strong"


def test_change_passphrase_in_the_window_then_unlock_with_the_new_one(
    qtbot: QtBot, tmp_path: Path, models_dir: Path
) -> None:
    create_store(tmp_path / "data")
    clinic = _app(qtbot, tmp_path, models_dir)
    unlock(qtbot, clinic)
    with qtbot.waitSignal(clinic.patients.shown, timeout=10000):
        clinic.patients.add_patient(NewPatient("Thistlewood", "Oswin", None, None, ""))
    action = clinic.window.actions_by_key["change_passphrase"]
    assert action.isEnabled()
    action.trigger()
    dialog = clinic.session.passphrase.dialog
    assert dialog is not None and dialog.isVisible()
    for field in (dialog.current, dialog.fields.first, dialog.fields.second):
        _visible_label_of(field)
        assert field.accessibleName()

    # The patient's name, read from the store while the dialog opened, counts for nothing.
    dialog.fields.first.setText("Thistlewood Oswin 1958")
    qtbot.waitUntil(lambda: "name" in dialog.fields.feedback.text(), timeout=10000)

    def submit(current: str, new: str, repeat: str) -> None:
        dialog.current.setText(current)
        dialog.fields.first.setText(new)
        dialog.fields.second.setText(repeat)
        QTest.keyClick(dialog.fields.second, Qt.Key.Key_Return)

    submit(PASSPHRASE, "Summer2024!!", "Summer2024!!")
    assert dialog.isVisible() and "too weak" in dialog.problem.text() and not dialog.busy.isVisible()
    assert dialog.focusWidget() is dialog.fields.first and _fits(dialog.problem, dialog)
    submit(PASSPHRASE, NEW_PASSPHRASE, NEW_PASSPHRASE + "!")
    assert "do not match" in dialog.problem.text() and dialog.focusWidget() is dialog.fields.second
    assert not clinic.session.passphrase.busy  # neither reached the store

    submit("not the current passphrase", NEW_PASSPHRASE, NEW_PASSPHRASE)
    assert dialog.busy.isVisible() and not dialog.cancel_button.isEnabled()  # the re-key runs off the GUI thread
    qtbot.waitUntil(lambda: not dialog.busy.isVisible(), timeout=30000)
    assert dialog.isVisible() and "current passphrase is wrong" in dialog.problem.text()
    assert dialog.focusWidget() is dialog.current and _fits(dialog.problem, dialog)

    with qtbot.waitSignal(clinic.session.passphrase.changed, timeout=60000):
        submit(PASSPHRASE, NEW_PASSPHRASE, NEW_PASSPHRASE)
        assert dialog.busy.isVisible()
    qtbot.waitUntil(lambda: clinic.session.passphrase.dialog is None)
    assert "Passphrase changed" in clinic.window.statusBar().currentMessage()
    assert clinic.session.is_unlocked

    with qtbot.waitSignal(clinic.session.locked, timeout=10000):
        clinic.window.actions_by_key["lock"].trigger()
    unlock_dialog = _open_dialog(qtbot, clinic)
    unlock_dialog.passphrase.setText(PASSPHRASE)
    unlock_dialog.unlock_button.click()
    qtbot.waitUntil(lambda: "wrong" in unlock_dialog.problem.text().lower(), timeout=30000)
    with qtbot.waitSignal(clinic.session.unlocked, timeout=30000):
        unlock_dialog.passphrase.setText(NEW_PASSPHRASE)
        unlock_dialog.unlock_button.click()
    with qtbot.waitSignal(clinic.patients.searched, timeout=10000) as found:
        clinic.window.patients.search.setText("Thistlewood")
    assert found.args == [1]
    shut(qtbot, clinic)
