"""The window a clinician finds obvious (issue #17): a chat answer never lands in the note panel; the note panel's
title, banner, list and Accept always describe the document shown; holding F8 keeps recording through X11's key
repeat; a finished dictation says only what the doctor can act on; an encounter has a reason; and no label,
placeholder or banner is cut off at 1,280 x 720 or 1,920 x 1,080.

The language model is a scripted seam (the point is the window's path, not the model's words); the redactor and the
speech recogniser are the small real ones."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QFontMetrics, QKeyEvent, QTextCursor
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QStyle,
    QStyleOptionComboBox,
    QTextEdit,
    QWidget,
)
from pytestqt.exceptions import TimeoutError
from pytestqt.qtbot import QtBot

from app.core.asr.live import LiveResult
from app.core.audio.replay import FileReplaySource
from app.core.llm.base import GenerationRequest
from app.core.storage.records import NoteKind
from app.ui.application import ClinicApplication
from app.ui.assistant.answer_panel import AnswerState
from app.ui.encounter.dictation_controller import finished_note
from app.ui.text_fit import text_room
from tests.ui.support import (
    PiecesLlm,
    create_store,
    factories,
    make_app,
    new_encounter,
    shut,
    start_encounter,
    ui_settings,
    unlock,
)

CHAT_CUE = "chest X-ray?"  # every question here asks about one
CHAT_FIRST = "A repeat chest X-ray "
CHAT_REST = ["in six weeks ", "is reasonable."]
LETTER = ["Dear colleague, ", "please see Mr Tredgold ", "about his cough."]


class ScriptedLlm(PiecesLlm):
    """A structured note as valid JSON, a chat answer (every question here asks about a chest X-ray) or a letter as
    plain pieces. A chat answer waits for `release` after its first piece, and with `hold_letters` a letter waits for
    it before its first: a test can look at the window while the answer is being written."""

    model_name = "scripted"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.hold_letters = False

    def pieces(self, request: GenerationRequest) -> Iterator[str]:
        self.started.set()
        if request.json_schema is not None:
            properties = request.json_schema["properties"]
            note = {key: (["Cough"] if spec.get("type") == "array" else f"{key} noted.")
                    for key, spec in properties.items()}
            text = json.dumps(note)
            yield from (text[i:i + 12] for i in range(0, len(text), 12))
        elif CHAT_CUE in request.messages[-1].content:
            yield CHAT_FIRST
            self.release.wait(60)
            yield from CHAT_REST
        else:
            if self.hold_letters:
                self.release.wait(60)
            yield from LETTER

    def close(self) -> None:
        self.release.set()


@pytest.fixture(scope="module")
def redactor(models_dir: Path) -> Any:
    from app.core.redact.engine import SpacyRedactor

    return SpacyRedactor.from_settings(ui_settings("scripted"), models_dir)


def _app(qtbot: QtBot, root: Path, models_dir: Path, shared: dict[str, Any], review: bool = False,
         mic: Path | None = None) -> ClinicApplication:
    create_store(root / "data")
    made = factories(shared=shared, microphone=(lambda _s: FileReplaySource(mic, realtime=True)) if mic else None)
    clinic = make_app(qtbot, ui_settings("scripted", review=review), root / "data", models_dir,
                      root / "settings.toml", made)
    unlock(qtbot, clinic)
    return clinic


def _draft(qtbot: QtBot, clinic: ClinicApplication, task: str) -> None:
    with qtbot.waitSignal(clinic.drafts.answer_finished, timeout=30000):
        clinic.drafts.draft(task)
    answer = clinic.window.answer
    qtbot.waitUntil(lambda: answer.notes.currentData() is not None, timeout=10000)  # saved and listed


def _with_soap_draft(
    qtbot: QtBot, root: Path, models_dir: Path, redactor: Any
) -> tuple[ClinicApplication, ScriptedLlm]:
    """The window on an encounter with a dictated transcript and a SOAP note drafted (and saved) from it."""
    llm = ScriptedLlm()
    clinic = _app(qtbot, root, models_dir, {"llm": llm, "redact": redactor})
    new_encounter(qtbot, clinic, "Tredgold", "Oswin", "447291")
    clinic.window.encounter_view.dictation.transcript.setPlainText(
        "Three days of cough and fever. Crackles at the right base."
    )
    _draft(qtbot, clinic, "soap")
    return clinic, llm


def _letter_being_written(qtbot: QtBot, clinic: ClinicApplication, llm: ScriptedLlm) -> None:
    """A referral letter is started and the model holds back its first word until `llm.release` is set."""
    llm.hold_letters = True
    llm.started.clear()
    clinic.drafts.draft("referral")
    qtbot.waitUntil(lambda: llm.started.is_set() and clinic.window.answer.state == AnswerState.WRITING,
                    timeout=30000)


def _shown(clinic: ClinicApplication) -> tuple[str, str, str, str, bool]:
    a = clinic.window.answer
    return a.title.text(), a.badge.text(), a.text(), a.notes.currentText(), a.accept_button.isEnabled()


# -- 1. chat and documents never share a place ---------------------------------------------------------------------
def test_a_chat_answer_streams_into_the_conversation_never_into_the_note_panel(
    qtbot: QtBot, tmp_path: Path, models_dir: Path, redactor: Any
) -> None:
    clinic, llm = _with_soap_draft(qtbot, tmp_path, models_dir, redactor)
    w = clinic.window
    with qtbot.waitSignal(clinic.drafts.accepted, timeout=10000):
        w.actions_by_key["accept_draft"].trigger()
    qtbot.waitUntil(lambda: w.answer.undo_button.isEnabled(), timeout=5000)
    before = _shown(clinic)
    assert before[0] == "SOAP note — accepted" and before[3] == "SOAP note v1 (accepted)" and not before[4]

    changes: list[str] = []
    w.answer.editor.textChanged.connect(lambda: changes.append(w.answer.text()))
    w.chat.input.setText("Does he need a follow-up chest X-ray?")
    w.chat.ask_button.click()
    qtbot.waitUntil(lambda: CHAT_FIRST.strip() in w.chat.log.toPlainText(), timeout=30000)
    # While it is written: in the conversation, as the assistant's turn; Stop is beside the question box.
    assert "Assistant (writing…): " + CHAT_FIRST.strip() in w.chat.log.toPlainText()
    assert w.chat.stop_button.isVisible() and not w.chat.ask_button.isEnabled()
    assert _shown(clinic) == before and w.answer.state == AnswerState.ACCEPTED
    assert clinic.drafts.accept() is None  # Ctrl+Return still means the note shown, which is already accepted

    with qtbot.waitSignal(clinic.drafts.answer_finished, timeout=30000):
        llm.release.set()
    log = w.chat.log.toPlainText()
    assert "Assistant (draft): " + CHAT_FIRST + "".join(CHAT_REST) in log and "writing…" not in log
    assert _shown(clinic) == before and changes == []
    qtbot.waitUntil(lambda: w.chat.ask_button.isEnabled() and not w.chat.stop_button.isVisible(), timeout=5000)
    shut(qtbot, clinic)


def test_accept_always_applies_to_the_document_shown(
    qtbot: QtBot, tmp_path: Path, models_dir: Path, redactor: Any
) -> None:
    clinic, llm = _with_soap_draft(qtbot, tmp_path, models_dir, redactor)
    answer = clinic.window.answer
    assert _shown(clinic)[0::3] == ("SOAP note — draft", "SOAP note v1 (draft)")
    soap_id = answer.notes.currentData()

    # A letter being written is the document shown: listed as such, and nothing can be accepted until it is done.
    _letter_being_written(qtbot, clinic, llm)
    assert answer.title.text() == "Referral letter — being written"
    assert answer.notes.currentText() == "Referral letter (being written)" and not answer.notes.isEnabled()
    assert not answer.accept_button.isEnabled() and clinic.drafts.accept() is None
    with qtbot.waitSignal(clinic.drafts.answer_finished, timeout=30000):
        llm.release.set()
    qtbot.waitUntil(lambda: answer.notes.currentText() == "Referral letter v1 (draft)", timeout=10000)
    assert answer.title.text() == "Referral letter — draft" and answer.accept_button.isEnabled()

    # Back to the SOAP note through the list: Accept applies to it, and everything says so.
    with qtbot.waitSignal(clinic.drafts.show_note(soap_id).ended, timeout=10000):
        assert not answer.accept_button.isEnabled()  # until the note chosen is shown
    assert answer.title.text() == "SOAP note — draft" and answer.notes.currentData() == soap_id
    with qtbot.waitSignal(clinic.drafts.accepted, timeout=10000) as accepted:
        answer.accept_button.click()
    note = accepted.args[0]
    assert note.id == soap_id and note.kind == NoteKind.SOAP
    assert _shown(clinic)[0::3] == ("SOAP note — accepted", "SOAP note v1 (accepted)")
    assert "ACCEPTED" in answer.badge.text() and not answer.accept_button.isEnabled()
    # An edit makes it a draft again, in the title too; the list still names the note it is an edit of.
    answer.editor.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(answer.editor, " Seen with his daughter.")
    assert answer.title.text() == "SOAP note — edited, not accepted" and answer.accept_button.isEnabled()
    assert answer.notes.currentData() == soap_id
    shut(qtbot, clinic)


def test_a_draft_stopped_before_its_first_word_gives_the_panel_back_to_the_note_shown_before(
    qtbot: QtBot, tmp_path: Path, models_dir: Path, redactor: Any
) -> None:
    clinic, llm = _with_soap_draft(qtbot, tmp_path, models_dir, redactor)
    answer = clinic.window.answer
    before = _shown(clinic)
    _letter_being_written(qtbot, clinic, llm)
    with qtbot.waitSignal(clinic.drafts.generating_changed, timeout=30000, check_params_cb=lambda on: not on):
        clinic.window.actions_by_key["stop"].trigger()
        llm.release.set()  # the scripted model notices the stop at its next piece
    qtbot.waitUntil(lambda: _shown(clinic) == before, timeout=10000)
    assert answer.state == AnswerState.DRAFT and answer.notes.count() == 1
    shut(qtbot, clinic)


def test_approve_and_continue_cannot_be_pressed_again_once_approved(
    qtbot: QtBot, tmp_path: Path, models_dir: Path, redactor: Any
) -> None:
    clinic = _app(qtbot, tmp_path, models_dir, {"llm": ScriptedLlm(), "redact": redactor}, review=True)
    new_encounter(qtbot, clinic, "Example", "Jane", "447291")
    review = clinic.window.encounter_view.redaction
    clinic.window.encounter_view.dictation.transcript.setPlainText("Jane Example has a cough. Phone 555-201-7788.")
    clinic.drafts.draft("referral")
    qtbot.waitUntil(lambda: bool(review._spans) and review.approve_button.isEnabled(), timeout=30000)
    with qtbot.waitSignal(clinic.drafts.answer_finished, timeout=30000):
        review.approve_button.click()
    assert not review.approve_button.isEnabled() and review.approve_button.text() == "Approved"
    # A changed choice is a new review to approve.
    with qtbot.waitSignal(clinic.redaction.panel.span_clicked, timeout=5000):
        review.span_clicked.emit(0)
    qtbot.waitUntil(lambda: review.approve_button.isEnabled(), timeout=10000)
    assert review.approve_button.text() == "Approve and continue"
    shut(qtbot, clinic)


# -- 3. push-to-talk through X11's key repeat ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def whisper(models_dir: Path) -> Any:
    from app.core.asr.faster_whisper_engine import load_transcriber

    return load_transcriber(ui_settings("scripted").asr, models_dir)


def _f8(kind: QEvent.Type, repeat: bool, timestamp: int) -> QKeyEvent:
    event = QKeyEvent(kind, Qt.Key.Key_F8, Qt.KeyboardModifier.NoModifier, "", repeat)
    event.setTimestamp(timestamp)
    return event


def test_holding_f8_through_key_repeat_records_one_dictation_until_the_real_release(
    qtbot: QtBot, tmp_path: Path, models_dir: Path, fixture_data: Path, whisper: Any
) -> None:
    clinic = _app(qtbot, tmp_path, models_dir, {"asr": whisper},
                  mic=fixture_data / "speech" / "coqui_LJ001-0002.wav")
    new_encounter(qtbot, clinic, "Holloway", "Margaret")
    panel = clinic.window.encounter_view.dictation
    updates: list[Any] = []
    results: list[LiveResult] = []
    clinic.dictation.updated.connect(updates.append)
    clinic.dictation.dictated.connect(results.append)
    QApplication.sendEvent(panel.transcript, _f8(QEvent.Type.KeyPress, False, 1000))
    assert clinic.dictation.busy and panel.meter.isVisible()
    qtbot.waitUntil(lambda: bool(updates) and updates[-1].audio_s >= 0.8, timeout=30000)
    # X11 starts repeating the held key: pairs flagged as repeats, then pairs Qt failed to flag.
    for step in range(30):
        flagged = step < 15
        QApplication.sendEvent(panel.transcript, _f8(QEvent.Type.KeyRelease, flagged, 1660 + 40 * step))
        QApplication.sendEvent(panel.transcript, _f8(QEvent.Type.KeyPress, flagged, 1660 + 40 * step))
    assert not clinic.push_to_talk.releasing  # no release is pending: nothing can end the recording
    qtbot.waitUntil(lambda: updates[-1].audio_s >= 1.8, timeout=30000)
    handle = clinic.dictation.handle
    assert handle is not None and not handle.stopped and panel.state.text() != "Finishing the last words…"
    with qtbot.waitSignal(clinic.dictation.busy_changed, timeout=60000, check_params_cb=lambda on: not on):
        QApplication.sendEvent(panel.transcript, _f8(QEvent.Type.KeyRelease, False, 2900))
    assert len(results) == 1 and results[0].duration_s >= 1.8 and not clinic.dictation.busy
    assert panel.state.text().startswith("Added ") and "unclear" not in panel.state.text()
    assert not panel.meter.isVisible() and not clinic.push_to_talk.held
    shut(qtbot, clinic)


# -- 4. what a finished dictation says -----------------------------------------------------------------------------
def _result(text: str, duration_s: float, dropped_segments: int = 0, dropped_audio_s: float = 0.0) -> LiveResult:
    return LiveResult(text=text, low_confidence=(), segments=(), language="en", duration_s=duration_s,
                      dropped_audio_s=dropped_audio_s, dropped_segments=dropped_segments)


def test_a_finished_dictation_says_what_was_added_and_only_what_the_doctor_can_act_on() -> None:
    # Passages the guards left out (silence and inventions at the ends) are not the doctor's business.
    assert finished_note(_result("Cough for three days.", 4.4, dropped_segments=2)) == "Added 4 s of dictation."
    assert finished_note(_result("Long.", 125.0)) == "Added 2 min 05 s of dictation."
    assert finished_note(_result("  ", 0.7)) == "No words were recognised; nothing was added."
    lost = finished_note(_result("Cough.", 10.0, dropped_audio_s=1.5))
    assert lost.startswith("Added 10 s of dictation. 1.5 s of audio could not be kept") and "check" in lost


# -- 5. the reason for an encounter --------------------------------------------------------------------------------
def _encounter_reasons(clinic: ClinicApplication) -> list[str]:
    tree = clinic.window.patient_view.encounters
    return [tree.topLevelItem(i).text(1) for i in range(tree.topLevelItemCount())]


def test_an_encounter_is_given_a_reason_when_it_starts_and_it_can_be_changed(
    qtbot: QtBot, tmp_path: Path, models_dir: Path
) -> None:
    clinic = _app(qtbot, tmp_path, models_dir, {})
    w = clinic.window
    new_encounter(qtbot, clinic, "Tredgold", "Oswin", "447291", reason="Cough and fever")
    assert w.encounter_view.title.text().endswith("— Cough and fever")
    with qtbot.waitSignal(clinic.patients.shown, timeout=10000):
        w.encounter_view.back_button.click()
    assert _encounter_reasons(clinic) == ["Cough and fever"]

    start_encounter(qtbot, clinic)  # none given: it is a consultation
    assert w.encounter_view.title.text().endswith("— Consultation")
    dialog = clinic.encounter.edit_reason()
    assert dialog is not None and dialog.isVisible() and dialog.reason.text() == ""
    dialog.reason.setText("  Blood pressure review ")
    with qtbot.waitSignal(clinic.encounter.reason_saved, timeout=10000) as saved:
        dialog.submit()
    assert saved.args[0].reason == "Blood pressure review"
    assert w.encounter_view.title.text().endswith("— Blood pressure review")
    with qtbot.waitSignal(clinic.patients.shown, timeout=10000):
        w.encounter_view.back_button.click()
    assert sorted(_encounter_reasons(clinic)) == ["Blood pressure review", "Cough and fever"]

    # Cancelled: no encounter is started.
    w.patient_view.new_encounter.click()
    assert clinic.patients.reason_dialog is not None
    clinic.patients.reason_dialog.reject()
    qtbot.waitUntil(lambda: clinic.patients.reason_dialog is None, timeout=5000)
    assert w.center.currentWidget() is w.patient_view and len(_encounter_reasons(clinic)) == 2
    shut(qtbot, clinic)


# -- 2 and 6. nothing cut off ---------------------------------------------------------------------------------------
def _without_mnemonic(text: str) -> str:
    """The text as drawn: "&Family name" shows as "Family name" (with F underlined)."""
    return re.sub(r"&(.)", r"\1", text)


def _label_problem(label: QLabel) -> str | None:
    text = _without_mnemonic(label.text()) if label.buddy() is not None else label.text()
    if not text.strip() or label.textFormat() == Qt.TextFormat.RichText:
        return None
    metrics = QFontMetrics(label.font())
    room = label.contentsRect().width() - 2 * label.margin() - max(0, label.indent())
    if label.wordWrap():
        widest = max(metrics.horizontalAdvance(word) for word in text.split())
        if widest > room:
            return f"a word is {widest} px wide in {room} px"
        needed = label.heightForWidth(label.width())
        if needed > label.height():
            return f"needs {needed} px of height, has {label.height()}"
        return None
    widest = max(metrics.horizontalAdvance(line) for line in text.split("\n"))
    return f"needs {widest} px, has {room}" if widest > room else None


def _widget_problem(widget: QWidget) -> str | None:
    if isinstance(widget, QLabel):
        return _label_problem(widget)
    if isinstance(widget, QLineEdit):
        if widget.text() or not widget.placeholderText():
            return None  # typed text scrolls; only the hint must fit
        needed = QFontMetrics(widget.font()).horizontalAdvance(widget.placeholderText())
        return f"placeholder needs {needed} px, has {text_room(widget)}" if needed > text_room(widget) else None
    if isinstance(widget, QTextEdit):
        if not widget.document().isEmpty() or not widget.placeholderText():
            return None
        # Drawn on one line (clipped to an empty document's height): it must fit the viewport's width.
        margin = 2 * int(widget.document().documentMargin())
        room = widget.viewport().width() - margin
        needed = QFontMetrics(widget.font()).horizontalAdvance(widget.placeholderText())
        return f"placeholder needs {needed} px, has {room}" if needed > room else None
    if isinstance(widget, QAbstractButton) and widget.text():
        hint = widget.sizeHint().width()
        return f"needs {hint} px, has {widget.width()}" if hint > widget.width() else None
    if isinstance(widget, QComboBox) and widget.currentText():
        option = QStyleOptionComboBox()
        widget.initStyleOption(option)
        field = widget.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, widget
        )
        needed = QFontMetrics(widget.font()).horizontalAdvance(widget.currentText())
        return f"needs {needed} px, has {field.width()}" if needed > field.width() else None
    return None


def clipped(root: QWidget) -> list[str]:
    """Every visible label, placeholder, button or list text that does not fit its widget."""
    found = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.isVisible() or widget.window() is not root.window():
            continue
        problem = _widget_problem(widget)
        if problem is not None:
            text = getattr(widget, "text", lambda: "")() or getattr(widget, "placeholderText", lambda: "")()
            found.append(f"{type(widget).__name__} {widget.objectName() or '?'} {text!r}: {problem}")
    return found


def _settled(qtbot: QtBot, root: QWidget) -> None:
    """Wait until the layouts have placed everything (nothing clipped), or fail with what is."""
    problems: list[str] = []

    def fits() -> bool:
        problems[:] = clipped(root)
        return not problems

    try:
        qtbot.waitUntil(fits, timeout=3000)
    except TimeoutError:
        pytest.fail(f"cut off in {root.objectName() or type(root).__name__} at {root.size()}:\n  "
                    + "\n  ".join(problems))


@pytest.mark.parametrize("size", [QSize(1280, 720), QSize(1920, 1080)], ids=["1280x720", "1920x1080"])
def test_no_label_placeholder_or_banner_is_cut_off(
    qtbot: QtBot, tmp_path: Path, models_dir: Path, redactor: Any, size: QSize
) -> None:
    llm = ScriptedLlm()
    llm.release.set()
    clinic = _app(qtbot, tmp_path, models_dir, {"llm": llm, "redact": redactor})
    w = clinic.window
    w.resize(size)
    qtbot.waitUntil(lambda: w.size() == size, timeout=5000)
    _settled(qtbot, w)  # the empty list and its hint

    dialog = clinic.patients.open_new_patient_dialog()
    _settled(qtbot, dialog)
    dialog.reject()
    new_encounter(qtbot, clinic, "Tredgold-Featherstonehaugh", "Oswin Bartholomew", "447291",
                  reason="Three days of productive cough, fever and breathlessness on exertion")
    with qtbot.waitSignal(clinic.patients.shown, timeout=10000):
        w.encounter_view.back_button.click()
    _settled(qtbot, w)  # the patient, the encounter list
    reason = clinic.patients.ask_new_encounter(clinic.patients.current_patient or 0)
    _settled(qtbot, reason)
    reason.reject()
    with qtbot.waitSignal(clinic.encounter.opened, timeout=10000):
        w.patient_view.encounters.itemClicked.emit(w.patient_view.encounters.topLevelItem(0), 0)
    _settled(qtbot, w)  # an encounter with nothing drafted

    panel = w.encounter_view.dictation
    panel.transcript.setPlainText("Three days of productive cough and a low-grade fever. Crackles at the right base.")
    panel.set_recording(True, "Recording… press Stop (or release F8) to finish.")
    _settled(qtbot, w)  # the meter and the recording state
    panel.set_idle("Added 2 min 05 s of dictation. 1.5 s of audio could not be kept (the computer was too busy):"
                   " check that nothing is missing.")
    _draft(qtbot, clinic, "soap")
    _settled(qtbot, w)  # the DRAFT banner
    with qtbot.waitSignal(clinic.drafts.accepted, timeout=10000):
        w.answer.accept_button.click()
    _settled(qtbot, w)  # the ACCEPTED banner
    with qtbot.waitSignal(clinic.drafts.answer_finished, timeout=30000):
        clinic.drafts.ask("Does he need a follow-up chest X-ray?")
    _settled(qtbot, w)  # the chat
    w.answer.editor.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(w.answer.editor, " Edited.")
    w.answer.set_reading(True)
    _settled(qtbot, w)  # "EDITED DRAFT" and "Stop reading"
    w.answer.set_reading(False)
    w.encounter_view.show_review()
    _settled(qtbot, w)  # the identifier review
    shut(qtbot, clinic)


def test_a_long_paste_shows_how_far_the_identifier_check_is(
    qtbot: QtBot, tmp_path: Path, models_dir: Path, redactor: Any
) -> None:
    clinic = _app(qtbot, tmp_path, models_dir, {"llm": ScriptedLlm(), "redact": redactor}, review=True)
    new_encounter(qtbot, clinic, "Example", "Jane", "447291")
    paragraph = "Jane Example was seen for a cough with fever; chest clear, plan review in one week. "
    clinic.window.encounter_view.dictation.transcript.setPlainText(paragraph * 700)  # ~60,000 characters
    texts: list[str] = []
    job = clinic.redaction.review(clinic.drafts.transcript())
    job.yielded.connect(lambda _percent: texts.append(clinic.redaction.panel.intro.text()))
    with qtbot.waitSignal(job.finished, timeout=120000):
        pass
    assert texts and all("Looking for identifiers…" in t and t.endswith("%") for t in texts)
    assert [int(t.rsplit(" ", 1)[1][:-1]) for t in texts] == sorted(int(t.rsplit(" ", 1)[1][:-1]) for t in texts)
    shut(qtbot, clinic)
