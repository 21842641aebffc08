"""Draft a SOAP note with a real (small) instruction model, SmolLM2-135M: the note streams in as headed sections
(not raw JSON), ends as a checked structured note, is re-identified, and is saved as a draft until accepted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.core.storage.records import NoteAuthor
from app.ui.assistant.answer_panel import AnswerState
from tests.ui.support import (
    accept_shown_draft,
    create_store,
    factories,
    make_app,
    new_encounter,
    shut,
    ui_settings,
    unlock,
)

SMOLLM2 = "smollm2-135m-instruct"


@pytest.fixture(scope="module")
def smollm(models_dir: Path) -> Any:
    from app.core.llm.factory import create_language_model

    llm = create_language_model(ui_settings(SMOLLM2, max_tokens=320), models_dir)
    yield llm
    llm.close()


@pytest.fixture(scope="module")
def redactor(models_dir: Path) -> Any:
    from app.core.redact.engine import SpacyRedactor

    return SpacyRedactor.from_settings(ui_settings(SMOLLM2), models_dir)


def test_draft_a_soap_note_and_accept_it(
    qtbot: QtBot, tmp_path: Path, models_dir: Path, smollm: Any, redactor: Any
) -> None:
    create_store(tmp_path / "data")
    settings = ui_settings(SMOLLM2, max_tokens=320, review=False)
    settings.tts.read_answers_aloud = True  # the finished note is read out without a click
    clinic = make_app(qtbot, settings, tmp_path / "data", models_dir,
                      tmp_path / "settings.toml", factories(shared={"llm": smollm, "redact": redactor}))
    unlock(qtbot, clinic)
    new_encounter(qtbot, clinic, "Tredgold", "Oswin", "M-1")
    clinic.window.encounter_view.dictation.transcript.setPlainText(
        "Oswin Tredgold has had chest pain for two days. Blood pressure 140/90. Plan: ECG and review in a week."
    )
    partials: list[str] = []
    clinic.drafts.streamed.connect(partials.append)
    with (
        qtbot.waitSignal(clinic.read_aloud.reading_changed, timeout=300000, check_params_cb=lambda on: on),
        qtbot.waitSignal(clinic.drafts.answer_finished, timeout=300000) as finished,
    ):
        clinic.window.actions_by_key["draft_soap"].trigger()
    with qtbot.waitSignal(clinic.read_aloud.reading_changed, timeout=60000, check_params_cb=lambda on: not on):
        clinic.read_aloud.stop()
    problems = [p.message for p in clinic.presenter.history]
    assert problems == []
    note = clinic.window.answer.text()
    for heading in ("SUBJECTIVE", "OBJECTIVE", "ASSESSMENT", "PLAN"):
        assert heading in note
    streamed = "".join(partials)
    assert "{" not in note and "{" not in streamed and '"subjective"' not in streamed  # sections, never raw JSON
    assert streamed.startswith("SUBJECTIVE")
    assert "[PATIENT" not in note
    assert finished.args[0].task == "soap"
    assert clinic.window.answer.state == AnswerState.DRAFT

    saved = accept_shown_draft(qtbot, clinic)  # SmolLM2 may write a fact the consultation does not say: kept
    assert saved.kind.value == "soap" and saved.latest.author == NoteAuthor.MODEL and saved.latest.text == note
    shut(qtbot, clinic)
