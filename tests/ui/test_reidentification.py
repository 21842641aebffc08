"""What the model sees and what the doctor sees: through the window, the model receives placeholders only, and
its answer is shown with the identifiers back, even when a placeholder arrives split across streamed pieces.

The language model here is a scripted one (a seam: the point is the UI's redaction and re-identification path,
with the real spaCy redactor); the real models run in the other flow tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.core.errors import CancelToken
from app.core.llm.base import GenerationRequest, TokenStream
from app.ui.assistant.answer_panel import AnswerState
from tests.ui.support import PiecesLlm, create_store, factories, make_app, new_encounter, shut, ui_settings, unlock

PIECES = ["Refer [PAT", "IENT_1] (MRN [M", "RN_1]) to cardiology", " this week."]


class ScriptedLlm(PiecesLlm):
    """Answers with PIECES, whatever it is asked; remembers every request."""

    def __init__(self) -> None:
        self.requests: list[GenerationRequest] = []

    def stream(self, request: GenerationRequest, cancel: CancelToken | None = None) -> TokenStream:
        self.requests.append(request)
        return super().stream(request, cancel)

    def pieces(self, request: GenerationRequest) -> Iterator[str]:
        yield from PIECES


@pytest.fixture(scope="module")
def redactor(models_dir: Path) -> Any:
    from app.core.redact.engine import SpacyRedactor

    return SpacyRedactor.from_settings(ui_settings("scripted"), models_dir)


def test_the_model_sees_placeholders_and_the_doctor_sees_names(
    qtbot: QtBot, tmp_path: Path, models_dir: Path, redactor: Any
) -> None:
    create_store(tmp_path / "data")
    llm = ScriptedLlm()
    clinic = make_app(qtbot, ui_settings("scripted", review=False), tmp_path / "data", models_dir,
                      tmp_path / "settings.toml", factories(shared={"redact": redactor, "llm": llm}))
    unlock(qtbot, clinic)
    new_encounter(qtbot, clinic, "Example", "Jane", "447291")
    clinic.window.encounter_view.dictation.transcript.setPlainText(
        "Jane Example, MRN 447291, has exertional chest pain."
    )
    shown: list[str] = []
    clinic.window.answer.editor.textChanged.connect(lambda: shown.append(clinic.window.answer.text()))
    with qtbot.waitSignal(clinic.drafts.answer_finished, timeout=30000):
        clinic.window.encounter_view.action_buttons["referral"].click()

    sent = " ".join(m.content for request in llm.requests for m in request.messages)
    assert "Example" not in sent and "447291" not in sent and "[PATIENT_1]" in sent
    answer = clinic.window.answer
    assert answer.text() == "Refer Jane Example (MRN 447291) to cardiology this week."
    assert not any("[" in text or "PATIENT" in text for text in shown)  # not even half a placeholder, ever
    assert answer.state == AnswerState.DRAFT
    # The chat: a question naming the patient is redacted with the same placeholders.
    with qtbot.waitSignal(clinic.drafts.answer_finished, timeout=30000):
        clinic.window.chat.input.setText("Does Jane Example need an echo?")
        clinic.window.chat.ask_button.click()
    question = llm.requests[-1].messages[-1].content
    assert "Jane" not in question and "[PATIENT_1]" in question
    assert "Refer Jane Example" in clinic.window.chat.log.toPlainText()
    shut(qtbot, clinic)
