"""Answers read aloud while they are still being written (tts.read_answers_aloud): the voice starts at the first
sentence, and stopping the answer stops the voice.

The model is a scripted seam that holds back the rest of its answer until the first sentence has been heard, so
the order is certain, not a race; the voice is the real Piper model playing into a fake output stream."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.core.llm.base import GenerationRequest
from app.ui.application import ClinicApplication
from tests.ui.support import PiecesLlm, create_store, factories, make_app, new_encounter, shut, ui_settings, unlock

FIRST = "The cough has lasted two weeks. "
REST = ["A chest X-ray", " is planned.", " Review after the result."]


class HeldBackLlm(PiecesLlm):
    """Streams FIRST, then waits (up to a minute) for `release` before streaming REST."""

    model_name = "held-back"

    def __init__(self) -> None:
        self.release = threading.Event()

    def pieces(self, request: GenerationRequest) -> Iterator[str]:
        yield FIRST
        self.release.wait(60)
        yield from REST

    def close(self) -> None:
        self.release.set()


def _reading_app(
    qtbot: QtBot, tmp_path: Path, models_dir: Path, llm: HeldBackLlm, played: list[int]
) -> ClinicApplication:
    """The window unlocked on a new store, answers read aloud as they stream, the held-back model lent to it."""
    create_store(tmp_path / "data")
    settings = ui_settings("held-back", review=False)
    settings.tts.read_answers_aloud = True
    clinic = make_app(qtbot, settings, tmp_path / "data", models_dir, tmp_path / "settings.toml",
                      factories(shared={"llm": llm}, played=played))
    unlock(qtbot, clinic)
    return clinic


def test_the_voice_starts_at_the_first_sentence_of_a_streaming_answer(
    qtbot: QtBot, tmp_path: Path, models_dir: Path
) -> None:
    llm = HeldBackLlm()
    played: list[int] = []
    clinic = _reading_app(qtbot, tmp_path, models_dir, llm, played)
    new_encounter(qtbot, clinic, "Holloway", "Margaret", None)
    clinic.window.encounter_view.dictation.transcript.setPlainText("Dry cough for two weeks. Plan: chest X-ray.")
    order: list[str] = []
    clinic.drafts.answer_finished.connect(lambda _a: order.append("answer finished"))

    # The first sentence is heard while the model is still holding back the rest of its answer.
    with qtbot.waitSignal(clinic.read_aloud.sentence_spoken, timeout=120000,
                          check_params_cb=lambda index: index == 0):
        clinic.window.encounter_view.action_buttons["referral"].click()
    order.append("first sentence heard")
    assert clinic.drafts.busy  # the model is still writing
    with (
        qtbot.waitSignal(clinic.drafts.answer_finished, timeout=60000),
        qtbot.waitSignal(clinic.read_aloud.reading_changed, timeout=120000, check_params_cb=lambda on: not on),
    ):
        llm.release.set()
    assert order == ["first sentence heard", "answer finished"]
    assert sum(played) > 0
    shut(qtbot, clinic)


def test_stopping_the_answer_stops_the_voice_and_keeps_the_draft(
    qtbot: QtBot, tmp_path: Path, models_dir: Path
) -> None:
    llm = HeldBackLlm()
    clinic = _reading_app(qtbot, tmp_path, models_dir, llm, [])
    new_encounter(qtbot, clinic, "Holloway", "Margaret", None)
    clinic.window.encounter_view.dictation.transcript.setPlainText("Dry cough for two weeks. Plan: chest X-ray.")
    with qtbot.waitSignal(clinic.read_aloud.sentence_spoken, timeout=120000):
        clinic.window.encounter_view.action_buttons["referral"].click()
    answer = clinic.window.answer
    with (
        qtbot.waitSignal(clinic.read_aloud.reading_changed, timeout=30000, check_params_cb=lambda on: not on),
        qtbot.waitSignal(clinic.drafts.generating_changed, timeout=30000, check_params_cb=lambda on: not on),
    ):
        clinic.window.actions_by_key["stop"].trigger()
        llm.release.set()  # the scripted model notices the stop at its next piece
    # The stopped draft is saved and listed; it is the note Accept now applies to.
    qtbot.waitUntil(lambda: answer.notes.count() == 1 and "[The answer stopped" in answer.text(), timeout=10000)
    with qtbot.waitSignal(clinic.drafts.accepted, timeout=10000) as accepted:
        clinic.window.actions_by_key["accept_draft"].trigger()
    note = accepted.args[0]
    assert note.latest.text.startswith(FIRST.strip()) and "[The answer stopped" in note.latest.text
    assert note.latest.version == 1  # the stopped draft itself was accepted, not a copy of it
    assert answer.notes.count() == 1
    shut(qtbot, clinic)
