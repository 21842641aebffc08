"""The doctor's edits to a draft are never lost: saved as a new doctor-authored draft version after a pause in typing,
and at once when the doctor leaves the note (back to the patient, another note, locking, quitting). Only Accept
makes an edit the note of record. A real encrypted store; no model is needed (the draft is already saved)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtGui import QTextCursor
from pytestqt.qtbot import QtBot

from app.core.storage.records import NoteAuthor, NoteKind
from app.ui.assistant.answer_panel import AnswerState
from tests.ui.support import FAST_KDF, PASSPHRASE, factories, make_app, shut, ui_settings, unlock

DRAFT = "SUBJECTIVE\nCough for two weeks.\n\nPLAN\nChest X-ray."


def _store_with_a_draft(data_dir: Path) -> tuple[int, int]:
    from app.core.storage.store import Store

    store = Store(data_dir, kdf_iterations=FAST_KDF)
    store.create(PASSPHRASE)
    repos = store.repositories()
    patient = repos.patients.add("Quill", "Ray")
    encounter = repos.encounters.add(patient.id, datetime(2026, 11, 2, 9, tzinfo=UTC), "Cough")
    note = repos.notes.create(encounter.id, NoteKind.SOAP, DRAFT, author=NoteAuthor.MODEL, model="test")
    store.lock()
    return encounter.id, note.id


def _versions(clinic: object, note_id: int) -> list[tuple[int, str, str]]:
    store = clinic.hub.store_worker  # type: ignore[attr-defined]
    rows = store.submit(lambda r: r.notes.versions(note_id)).result()
    return [(v.version, v.author.value, v.text) for v in rows]


def test_edits_are_saved_as_draft_versions_and_on_leaving(qtbot: QtBot, tmp_path: Path, models_dir: Path) -> None:
    encounter_id, note_id = _store_with_a_draft(tmp_path / "data")
    clinic = make_app(qtbot, ui_settings("scripted"), tmp_path / "data", models_dir, tmp_path / "settings.toml",
                      factories())
    unlock(qtbot, clinic)
    with qtbot.waitSignal(clinic.encounter.opened, timeout=10000):
        clinic.open_encounter(encounter_id)
    answer = clinic.window.answer
    qtbot.waitUntil(lambda: answer.text() == DRAFT and answer.state == AnswerState.DRAFT, timeout=10000)

    # A pause in typing saves the edit as version 2, by the doctor, still a draft.
    answer.editor.moveCursor(QTextCursor.MoveOperation.End)
    with qtbot.waitSignal(clinic.drafts.notes.edit_saved, timeout=10000):
        qtbot.keyClicks(answer.editor, " Review in one week.")
    versions = _versions(clinic, note_id)
    assert versions[-1] == (2, "doctor", DRAFT + " Review in one week.")
    assert answer.state == AnswerState.EDITED
    qtbot.waitUntil(lambda: answer.notes.currentText() == "SOAP note v2 (draft)", timeout=10000)

    # Typing, then leaving at once: the edit is saved before the encounter closes (no pause needed).
    qtbot.keyClicks(answer.editor, " Safety-net advice given.")
    with qtbot.waitSignal(clinic.drafts.notes.edit_saved, timeout=10000):
        clinic.back_to_patient()
    assert _versions(clinic, note_id)[-1] == (3, "doctor", DRAFT + " Review in one week. Safety-net advice given.")
    note = clinic.hub.store_worker.submit(lambda r: r.notes.get(note_id)).result()
    assert note.accepted_version is None  # only Accept makes it the note of record
    assert clinic.presenter.history == []
    shut(qtbot, clinic)
