"""In the window, a new encounter's draft is given the patient's earlier accepted notes (redacted) before the
consultation, read once when the encounter opens; the name of the patient never reaches the model, and the letter
comes back re-identified. The redactor is the real spaCy one; the model is a seam that records its prompts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.core.llm.base import GenerationRequest
from app.core.services.summaries import accept_note, extract_note_version
from app.core.storage.records import NoteAuthor, NoteKind
from tests.ui.support import FAST_KDF, PASSPHRASE, PiecesLlm, factories, make_app, shut, ui_settings, unlock

EARLIER = "ASSESSMENT AND PLAN\nHypertension. Start amlodipine 5 mg once daily. Review in 4 weeks."


class RecordingLlm(PiecesLlm):
    def __init__(self) -> None:
        self.requests: list[GenerationRequest] = []

    def pieces(self, request: GenerationRequest) -> Iterator[str]:
        self.requests.append(request)
        yield from ("Dear colleague, ", "[PATIENT_1] has ankle swelling ", "on amlodipine.")


@pytest.fixture(scope="module")
def redactor(models_dir: Path) -> Any:
    from app.core.redact.engine import SpacyRedactor

    return SpacyRedactor.from_settings(ui_settings("scripted"), models_dir)


def _store_with_an_accepted_note(data_dir: Path) -> int:
    from app.core.storage.store import Store

    store = Store(data_dir, kdf_iterations=FAST_KDF)
    store.create(PASSPHRASE)
    repos = store.repositories()
    patient = repos.patients.add("Pemberton", "Ada", mrn="P-77")
    first = repos.encounters.add(patient.id, datetime(2025, 1, 10, 12, tzinfo=UTC), "New hypertension")
    note = accept_note(repos, repos.notes.create(first.id, NoteKind.SOAP, EARLIER, author=NoteAuthor.DOCTOR).id)
    extract_note_version(repos, None, None, note.latest.id)
    store.lock()
    return patient.id


def test_the_letter_is_drafted_with_the_earlier_notes(qtbot: QtBot, tmp_path: Path, models_dir: Path,
                                                        redactor: Any) -> None:
    patient_id = _store_with_an_accepted_note(tmp_path / "data")
    llm = RecordingLlm()
    settings = ui_settings("scripted", review=False)
    clinic = make_app(qtbot, settings, tmp_path / "data", models_dir, tmp_path / "settings.toml",
                      factories(shared={"llm": llm, "redact": redactor}))
    unlock(qtbot, clinic)
    with qtbot.waitSignal(clinic.patients.shown, timeout=10000):
        clinic.patients.show_patient(patient_id)
    clinic.window.patient_view.new_encounter.click()
    dialog = clinic.patients.reason_dialog
    assert dialog is not None
    dialog.reason.setText("Ankle swelling")
    with qtbot.waitSignal(clinic.encounter.opened, timeout=10000):
        dialog.submit()
    qtbot.waitUntil(lambda: bool(clinic.drafts.prior), timeout=30000)  # read when the encounter opened
    clinic.window.encounter_view.dictation.transcript.setPlainText(
        "Ada Pemberton reports ankle swelling since starting the new tablet. Plan: refer to cardiology."
    )
    with qtbot.waitSignal(clinic.drafts.answer_finished, timeout=60000) as finished:
        clinic.window.actions_by_key["referral"].trigger()
    prompt = llm.requests[-1].messages[-1].content
    background, consultation = prompt.split("Clinical text:", 1)
    assert "amlodipine 5 mg" in background and "Pemberton" not in prompt and "Ada " not in prompt
    assert "[PATIENT_1]" in consultation
    assert "Ada Pemberton has ankle swelling" in finished.args[0].display  # re-identified for the doctor
    assert clinic.presenter.history == []
    shut(qtbot, clinic)
