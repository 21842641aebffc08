"""Grounded drafts in the window (issue #16): a drafted note is checked against the transcript on a worker lane; a
wrong dose is underlined with its reason and listed under the note, a sentence nobody said is shaded; clicking a
note sentence highlights what was said for it in the transcript, and the reverse; Accept with a fact still to check
asks about it, and the audit log counts the flags kept (never their text).

The model is a scripted seam writing the sample dictation's note with one wrong dose and one sentence the
dictation does not say (the small real models write nonsense); the redactor is the small real one."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QHelpEvent, QTextCursor
from PySide6.QtWidgets import QApplication, QTextEdit, QToolTip
from pytestqt.qtbot import QtBot

from app.core.llm.base import GenerationRequest
from app.core.storage.audit import AuditAction
from app.core.storage.records import AuditEntry
from app.ui.application import ClinicApplication
from app.ui.assistant.answer_panel import AnswerState
from app.ui.assistant.flag_review import FlagReview
from tests.ui.support import PiecesLlm, create_store, factories, make_app, new_encounter, shut, ui_settings, unlock

REPO = Path(__file__).resolve().parents[2]
DICTATION = (REPO / "resources" / "sample" / "dictation.txt").read_text(encoding="utf-8").strip()
WRONG_DOSE = "Amoxicillin 250 mg three times daily for 5 days, chest X-ray, review in one week."
NOT_SAID = "Advised to stop smoking and given a leaflet."
REASON = "250 mg: the consultation says 500 mg"
SOAP = {
    "subjective": "Three days of productive cough and a low-grade fever. Takes metformin 500 mg twice daily and "
                  "lisinopril 10 mg once daily.",
    "objective": "Temperature 38.2, pulse 96, blood pressure 140/90, oxygen saturation 94% on room air. "
                 "Crackles at the right base.",
    "assessment": "Community-acquired pneumonia.",
    "plan": f"{WRONG_DOSE} {NOT_SAID}",
}


class GroundedNoteLlm(PiecesLlm):
    """Writes the sample dictation's SOAP note, with one wrong dose and one sentence nobody said, in small pieces."""

    def pieces(self, request: GenerationRequest) -> Iterator[str]:
        text = json.dumps(SOAP) if request.json_schema is not None else "A repeat chest X-ray in six weeks."
        yield from (text[i:i + 16] for i in range(0, len(text), 16))


@pytest.fixture(scope="module")
def redactor(models_dir: Path) -> Any:
    from app.core.redact.engine import SpacyRedactor

    return SpacyRedactor.from_settings(ui_settings("scripted"), models_dir)


def _drafted(qtbot: QtBot, root: Path, models_dir: Path, redactor: Any) -> ClinicApplication:
    """The window on an encounter with the sample dictation, a SOAP note drafted from it and checked."""
    create_store(root / "data")
    made = factories(shared={"llm": GroundedNoteLlm(), "redact": redactor})
    clinic = make_app(qtbot, ui_settings("scripted", review=False), root / "data", models_dir,
                      root / "settings.toml", made)
    unlock(qtbot, clinic)
    new_encounter(qtbot, clinic, "Tredgold", "Oswin", "447291")
    clinic.window.encounter_view.dictation.transcript.setPlainText(DICTATION)
    with qtbot.waitSignal(clinic.drafts.answer_finished, timeout=30000):
        clinic.drafts.draft("soap")
    qtbot.waitUntil(lambda: clinic.window.answer.notes.currentData() is not None, timeout=10000)
    _checked(qtbot, clinic)
    return clinic


def _checked(qtbot: QtBot, clinic: ClinicApplication) -> None:
    """Wait until the check drawn describes the note and the transcript shown, complete."""
    grounding, answer = clinic.grounding, clinic.window.answer
    transcript = clinic.window.encounter_view.dictation.transcript_text
    qtbot.waitUntil(lambda: grounding.current is not None and grounding.current.complete
                    and grounding.current.holds_for(answer.text(), transcript()), timeout=10000)


def _marked(view: QTextEdit, ranges: list[tuple[int, int]]) -> list[str]:
    text = view.toPlainText()
    return [text[start:end] for start, end in ranges]


def _tooltip(view: QTextEdit, position: int) -> str:
    """The tooltip shown when the mouse rests on `position`."""
    cursor = QTextCursor(view.document())
    cursor.setPosition(position)
    place = view.cursorRect(cursor).center()
    QApplication.sendEvent(view.viewport(), QHelpEvent(QEvent.Type.ToolTip, place, view.viewport().mapToGlobal(place)))
    shown = QToolTip.text() if QToolTip.isVisible() else ""
    QToolTip.hideText()
    return shown


def _click(qtbot: QtBot, view: QTextEdit, position: int) -> None:
    cursor = QTextCursor(view.document())
    cursor.setPosition(position)
    view.ensureCursorVisible()
    rect = view.cursorRect(cursor)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(rect.right() + 1, rect.center().y()))


def test_flags_appear_in_the_draft_and_a_click_links_the_note_and_the_transcript(
    qtbot: QtBot, tmp_path: Path, models_dir: Path, redactor: Any
) -> None:
    clinic = _drafted(qtbot, tmp_path, models_dir, redactor)
    answer, dictation = clinic.window.answer, clinic.window.encounter_view.dictation
    note = answer.text()
    assert answer.state == AnswerState.DRAFT and WRONG_DOSE in note
    # The wrong dose underlined, with its reason as tooltip; the sentence nobody said shaded.
    flags = [(s, e) for s, e, mark in answer.marks.marks if mark.kind == "flag"]
    unsupported = [(s, e) for s, e, mark in answer.marks.marks if mark.kind == "unsupported"]
    assert _marked(answer.editor, flags) == ["250 mg"] and _marked(answer.editor, unsupported) == [NOT_SAID]
    assert answer.marks.tip_at(flags[0][0] + 1) == REASON
    assert _tooltip(answer.editor, flags[0][0] + 2) == REASON
    assert answer.checks.isVisible() and "1 fact to check:" in answer.checks.text() and REASON in answer.checks.text()
    assert "1 sentence not found in the consultation" in answer.checks.text()
    assert answer.checks.accessibleDescription() == f"1 fact to check: {REASON}"
    assert answer.editor.extraSelections() and not dictation.transcript.extraSelections()

    # A note sentence clicked: the dictation's sentence it came from is highlighted.
    _click(qtbot, answer.editor, note.index("Crackles") + 3)
    assert _marked(answer.editor, answer.marks.links) == ["Crackles at the right base."]
    assert _marked(dictation.transcript, dictation.links.links) == ["Crackles at the right base."]
    _click(qtbot, answer.editor, note.index("Amoxicillin") + 3)
    assert _marked(dictation.transcript, dictation.links.links) == [
        "Plan, amoxicillin five hundred milligrams three times daily for five days, chest x ray, and review in one "
        "week."
    ]
    _click(qtbot, answer.editor, note.index("smoking"))  # nothing was said for it: nothing to highlight
    assert dictation.links.links == [] and answer.marks.links == []

    # And back: a transcript sentence clicked shows where it went in the note.
    _click(qtbot, dictation.transcript, DICTATION.index("productive cough"))
    assert _marked(dictation.transcript, dictation.links.links) == [
        "He was seen today at Larkfield Family Clinic with three days of productive cough and a low grade fever."
    ]
    assert _marked(answer.editor, answer.marks.links) == ["Three days of productive cough and a low-grade fever."]
    assert answer.state == AnswerState.DRAFT  # highlighting never edits the note
    shut(qtbot, clinic)


def _audit(qtbot: QtBot, clinic: ClinicApplication, note_id: int) -> list[AuditEntry]:
    job = clinic.hub.run("store", lambda store, _t: store.repositories().audit.entries(record_type="note",
                                                                                      record_id=note_id), "audit")
    with qtbot.waitSignal(job.finished, timeout=10000) as done:
        pass
    entries: list[AuditEntry] = done.args[0]
    return entries


def _asked(qtbot: QtBot, clinic: ClinicApplication) -> FlagReview:
    with qtbot.waitSignal(clinic.grounding.review_opened, timeout=10000) as opened:
        clinic.window.actions_by_key["accept_draft"].trigger()
    dialog: FlagReview = opened.args[0]
    assert dialog.isVisible()
    return dialog


def test_accept_with_an_open_flag_asks_and_the_audit_log_counts_it(
    qtbot: QtBot, tmp_path: Path, models_dir: Path, redactor: Any
) -> None:
    clinic = _drafted(qtbot, tmp_path, models_dir, redactor)
    answer = clinic.window.answer
    accepted: list[object] = []
    clinic.drafts.accepted.connect(accepted.append)

    # Asked: the flag and its reason, Keep or go back. Going back selects the fact in the note; nothing is accepted.
    dialog = _asked(qtbot, clinic)
    assert [f.reason for f in dialog.flags] == [REASON] and not dialog.accept_button.isEnabled()
    dialog.back_button.click()
    qtbot.waitUntil(lambda: clinic.grounding.review is None, timeout=5000)
    assert answer.editor.textCursor().selectedText() == "250 mg"
    assert answer.state == AnswerState.DRAFT and accepted == []

    # An edit elsewhere: re-checked, the flag survives (drawn where the dose now is).
    answer.editor.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(answer.editor, " Reviewed.")
    assert answer.state == AnswerState.EDITED
    _checked(qtbot, clinic)
    assert [m.tip for _s, _e, m in answer.marks.marks if m.kind == "flag"] == [REASON]

    # Kept: accepted, and the audit log says with how many open flags (one entry per flag, no content).
    dialog = _asked(qtbot, clinic)
    dialog.keep_buttons[0].click()
    assert dialog.accept_button.isEnabled() and dialog.accept_button.text() == "Accept with 1 open flag"
    with qtbot.waitSignal(clinic.drafts.accepted, timeout=10000) as done:
        dialog.accept_button.click()
    note = done.args[0]
    assert answer.state == AnswerState.ACCEPTED and note.latest.text.endswith("Reviewed.")
    actions = [e.action for e in _audit(qtbot, clinic, note.id)]
    assert actions.count(AuditAction.ACCEPT.value) == 1 and actions.count(AuditAction.KEEP_FLAG.value) == 1

    # Undone, the dose fixed: re-checked, nothing left to check, accepted without a question.
    with qtbot.waitSignal(answer.state_changed, timeout=10000):
        clinic.drafts.undo_accept()
    text = answer.text()
    cursor = answer.editor.textCursor()
    cursor.setPosition(text.index("250 mg"))
    cursor.setPosition(text.index("250 mg") + 3, QTextCursor.MoveMode.KeepAnchor)
    answer.editor.setTextCursor(cursor)
    qtbot.keyClicks(answer.editor, "500")
    _checked(qtbot, clinic)
    assert not [m for _s, _e, m in answer.marks.marks if m.kind == "flag"] and "fact" not in answer.checks.text()
    opened: list[object] = []
    clinic.grounding.review_opened.connect(opened.append)
    with qtbot.waitSignal(clinic.drafts.accepted, timeout=10000):
        clinic.window.actions_by_key["accept_draft"].trigger()
    assert opened == []
    actions = [e.action for e in _audit(qtbot, clinic, note.id)]
    assert actions.count(AuditAction.ACCEPT.value) == 2 and actions.count(AuditAction.KEEP_FLAG.value) == 1
    shut(qtbot, clinic)


class HeldLlm(GroundedNoteLlm):
    """Holds the note back after the plan's first sentence until `release` is set."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def pieces(self, request: GenerationRequest) -> Iterator[str]:
        text = json.dumps(SOAP)
        cut = text.index(NOT_SAID)
        yield from (text[i:min(i + 16, cut)] for i in range(0, cut, 16))
        self.release.wait(60)
        yield text[cut:]

    def close(self) -> None:
        self.release.set()


def test_a_draft_is_checked_sentence_by_sentence_as_it_is_written_off_the_gui_thread(
    qtbot: QtBot, tmp_path: Path, models_dir: Path, redactor: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.ui.assistant import grounding_controller

    threads: list[threading.Thread] = []
    real = grounding_controller.check_draft

    def recorded(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(grounding_controller, "check_draft", recorded)
    llm = HeldLlm()
    create_store(tmp_path / "data")
    clinic = make_app(qtbot, ui_settings("scripted", review=False), tmp_path / "data", models_dir,
                      tmp_path / "settings.toml", factories(shared={"llm": llm, "redact": redactor}))
    unlock(qtbot, clinic)
    new_encounter(qtbot, clinic, "Tredgold", "Oswin", "447291")
    clinic.window.encounter_view.dictation.transcript.setPlainText(DICTATION)
    answer = clinic.window.answer
    clinic.drafts.draft("soap")
    # While it is written: the complete sentences so far are checked, the wrong dose already flagged.
    qtbot.waitUntil(lambda: clinic.grounding.current is not None and bool(clinic.grounding.current.flags),
                    timeout=30000)
    partial = clinic.grounding.current
    assert partial is not None and not partial.complete and answer.state == AnswerState.WRITING
    assert [f.reason for f in partial.flags] == [REASON] and partial.note.endswith("review in one week.")
    assert "so far" in answer.checks.text() and not partial.unsupported
    with qtbot.waitSignal(clinic.drafts.answer_finished, timeout=30000):
        llm.release.set()
    _checked(qtbot, clinic)
    assert [s.text for s in clinic.grounding.current.unsupported] == [NOT_SAID]  # type: ignore[union-attr]
    assert "so far" not in answer.checks.text()
    assert threads and all(t is not threading.main_thread() for t in threads)
    shut(qtbot, clinic)
