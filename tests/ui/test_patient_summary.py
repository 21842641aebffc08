"""The patient summary in the window: accepting a note extracts its facts in the background (never on the GUI
thread) and the summary updates; an item opens its encounter with the source sentence selected in the note; undoing
the acceptance takes its facts out again; a patient without accepted notes says so; a failed extraction shows "not
summarised" and Retry reads it again; the model's second reading waits while the doctor uses the model; Brief me
drafts a paragraph with SmolLM2 from the redacted summary, marked as a draft, and reads it aloud.

The store is seeded through the core services (fictitious patients, notes in the style of tests/core); the parsers
do the extraction unless a test turns the model step on."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTreeWidgetItem
from pytestqt.qtbot import QtBot

from app.core.llm.base import GenerationRequest
from app.core.services.summaries import accept_note, extract_note_version
from app.core.storage import NoteAuthor, NoteKind, Store
from app.core.storage.facts import ExtractionStatus
from app.core.summary.items import NoteRef, PatientSummary, Source
from app.ui.application import ClinicApplication
from app.ui.patients import summary_controller
from app.ui.patients.briefing_box import DRAFT_BADGE
from app.ui.patients.patient_view import NO_ENCOUNTERS
from app.ui.patients.summary_rows import NO_NOTES
from app.ui.patients.summary_tree import LINK_ROLE, SummaryTree
from tests.core.test_summary_store import NOTES
from tests.ui.support import (
    FAST_KDF,
    PASSPHRASE,
    PiecesLlm,
    accept_shown_draft,
    factories,
    make_app,
    shut,
    ui_settings,
    unlock,
)
from tests.ui.test_soap_draft import SMOLLM2, redactor, smollm  # noqa: F401  (the engines: module fixtures)
from tests.ui.test_window_width import _assert_shown

TODAY = date.today()
# A patient over three notes, as in tests/core: (reason, text).
FIRST, SECOND, THIRD = ((reason, text) for _day, reason, text in NOTES)
LOSARTAN = "Start losartan 50 mg once daily."


def _when(days_ago: int) -> datetime:
    return datetime.combine(TODAY - timedelta(days=days_ago), datetime.min.time(), UTC).replace(hour=10)


Visit = tuple[str, str]  # the encounter's reason, the note's text


def seed(
    data_dir: Path, *, accepted: tuple[Visit, ...] = (FIRST, SECOND), draft: Visit | None = THIRD,
    name: tuple[str, str] = ("Okafor", "Adaeze"),
) -> dict[str, int]:
    """A patient with `accepted` notes (extracted by the parsers), two months apart, and 20 days ago an encounter
    whose note, `draft`, is not accepted yet; also a patient with no encounters at all."""
    ids: dict[str, int] = {}
    with Store(data_dir, kdf_iterations=FAST_KDF) as store:
        store.create(PASSPHRASE)
        repos = store.repositories()
        patient = repos.patients.add(*name, date_of_birth=date(1958, 3, 2), mrn="S-1", sex="female")
        ids["patient"] = patient.id
        ids["nobody"] = repos.patients.add("Quill", "Ray", mrn="S-2").id
        for n, (reason, text) in enumerate(accepted):
            encounter = repos.encounters.add(patient.id, _when(20 + 60 * (len(accepted) - n)), reason)
            note = repos.notes.create(encounter.id, NoteKind.SOAP, text, author=NoteAuthor.DOCTOR)
            extract_note_version(repos, None, None, accept_note(repos, note.id).latest.id)
        if draft is not None:
            reason, text = draft
            encounter = repos.encounters.add(patient.id, _when(20), reason)
            note = repos.notes.create(encounter.id, NoteKind.SOAP, text, author=NoteAuthor.MODEL, model="scripted")
            ids["draft_encounter"], ids["draft_note"] = encounter.id, note.id
    return ids


def start(qtbot: QtBot, tmp_path: Path, models_dir: Path, shared: dict[str, Any] | None = None,
          model: str = "scripted") -> ClinicApplication:
    # A short brief is enough to check it (and SmolLM2 is quicker to the end of it).
    clinic = make_app(qtbot, ui_settings(model, max_tokens=80, review=False), tmp_path / "data", models_dir,
                      tmp_path / "settings.toml", factories(shared=shared))
    unlock(qtbot, clinic)
    return clinic


def show_patient(qtbot: QtBot, clinic: ClinicApplication, patient_id: int) -> PatientSummary:
    """Click the patient in the list (once the list, searched after unlocking, holds them)."""
    model = clinic.window.patients.model
    qtbot.waitUntil(lambda: any((p := model.patient_at(row)) is not None and p.id == patient_id
                                for row in range(model.rowCount())), timeout=10000)
    with qtbot.waitSignal(clinic.patients.summary_shown, timeout=10000) as shown:
        clinic.window.patients.select_patient(patient_id)
    summary: PatientSummary = shown.args[0]
    return summary


def items(tree: SummaryTree, section: str) -> list[QTreeWidgetItem]:
    top = tree.section(section)
    assert top is not None, section
    return [child for i in range(top.childCount()) if (child := top.child(i)) is not None]


def texts(tree: SummaryTree, section: str) -> list[str]:
    return [item.text(0) for item in items(tree, section)]


def open_draft_encounter(qtbot: QtBot, clinic: ClinicApplication, encounter_id: int) -> None:
    tree = clinic.window.patient_view.encounters
    item = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
                if tree.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole + 1) == encounter_id)  # type: ignore[union-attr]
    with qtbot.waitSignal(clinic.encounter.opened, timeout=10000):
        tree.itemClicked.emit(item, 0)


def test_accepting_a_note_updates_the_summary_and_an_item_opens_its_sentence(
    qtbot: QtBot, tmp_path: Path, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = seed(tmp_path / "data")
    threads: list[str] = []
    real = summary_controller.run_extraction

    def on_a_lane(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(summary_controller, "run_extraction", on_a_lane)
    clinic = start(qtbot, tmp_path, models_dir)
    w = clinic.window
    view, tree = w.patient_view, w.patient_view.summary_tree

    before = show_patient(qtbot, clinic, ids["patient"])
    assert view.title.text() == "Okafor, Adaeze" and view.age.text().endswith("years")
    assert before.accepted_notes == 2 and not view.summary.isVisible()
    assert [t.split(" (")[0] for t in texts(tree, "medications")] == ["Amlodipine 10 mg, once daily",
                                                                       "Metformin 500 mg, twice daily"]
    assert texts(tree, "allergies") == ["Amoxicillin: rash"]
    assert texts(tree, "drafts") == ["SOAP note: draft"]
    amlodipine = items(tree, "medications")[0]
    assert [c.text(0) for i in range(amlodipine.childCount()) if (c := amlodipine.child(i))] == [
        "Started: 5 mg, once daily", "Dose changed: 10 mg, once daily"]

    # Accept the draft in its encounter: its facts are extracted off the GUI thread, the summary follows.
    open_draft_encounter(qtbot, clinic, ids["draft_encounter"])
    with qtbot.waitSignal(clinic.patients.summary_shown, timeout=20000,
                          check_params_cb=lambda s: any(m.name == "losartan" for m in s.medications)) as updated:
        accept_shown_draft(qtbot, clinic)
    assert threads and threading.main_thread().name not in threads
    after: PatientSummary = updated.args[0]
    assert after.accepted_notes == 3 and not after.open_drafts and not after.not_summarised
    assert [m.name for m in after.stopped_medications] == ["amlodipine", "amoxicillin"]

    # Back on the patient: the summary as a doctor reads it, each item linked to its sentence.
    with qtbot.waitSignal(clinic.patients.shown, timeout=10000):
        clinic.back_to_patient()
    assert texts(tree, "medications")[0].startswith("Losartan 50 mg, once daily")
    [bp] = items(tree, "vitals")
    assert bp.text(0).startswith("Blood pressure: 128/80") and "141/90" in bp.text(0) and "152/96" in bp.text(0)
    assert texts(tree, "follow_ups") == ["⚠ Overdue (due 6 days ago): Follow up in 2 weeks."]  # not colour alone
    assert tree.section("drafts") is None
    losartan = items(tree, "medications")[0]
    link = losartan.data(0, LINK_ROLE)
    assert isinstance(link, Source) and link.sentence == LOSARTAN and link.note_id == ids["draft_note"]
    assert LOSARTAN in losartan.toolTip(0)

    with qtbot.waitSignal(clinic.sources.opened, timeout=10000):
        tree.itemClicked.emit(losartan, 0)
    assert w.center.currentWidget() is w.encounter_view and clinic.encounter.encounter_id == ids["draft_encounter"]
    assert w.answer.editor.textCursor().selectedText() == LOSARTAN

    # The keyboard too: Enter on an item of the history of a stopped medicine opens the note that stopped it.
    with qtbot.waitSignal(clinic.patients.shown, timeout=10000):
        clinic.back_to_patient()
    stopped = items(tree, "stopped")[0]
    stop = stopped.child(stopped.childCount() - 1)
    assert stop is not None and stop.text(0).startswith("Stopped")
    tree.setFocus()
    tree.setCurrentItem(stop)
    with qtbot.waitSignal(clinic.sources.opened, timeout=10000):
        QTest.keyClick(tree, Qt.Key.Key_Return)
    assert w.answer.editor.textCursor().selectedText() == "Stop amlodipine."

    # Undo the acceptance: its facts drop out of the summary.
    with qtbot.waitSignal(clinic.patients.summary_shown, timeout=10000,
                          check_params_cb=lambda s: not any(m.name == "losartan" for m in s.medications)) as undone:
        w.actions_by_key["undo_accept"].trigger()
    assert [m.name for m in undone.args[0].medications] == ["amlodipine", "metformin"]
    assert clinic.presenter.history == []
    shut(qtbot, clinic)


def test_a_patient_without_accepted_notes_says_so(qtbot: QtBot, tmp_path: Path, models_dir: Path) -> None:
    ids = seed(tmp_path / "data", accepted=())
    clinic = start(qtbot, tmp_path, models_dir)
    view = clinic.window.patient_view

    summary = show_patient(qtbot, clinic, ids["patient"])
    assert summary.empty and view.summary.isVisible() and view.summary.text() == NO_NOTES
    assert [s for s in ("problems", "medications") if view.summary_tree.section(s)] == []
    [draft] = items(view.summary_tree, "drafts")
    assert isinstance(draft.data(0, LINK_ROLE), NoteRef)
    with qtbot.waitSignal(clinic.sources.opened, timeout=10000):  # the draft opens in its encounter
        view.summary_tree.itemClicked.emit(draft, 0)
    assert clinic.drafts.current is not None and clinic.drafts.current.note_id == ids["draft_note"]

    with qtbot.waitSignal(clinic.patients.shown, timeout=10000):
        clinic.back_to_patient()
    show_patient(qtbot, clinic, ids["nobody"])
    assert view.summary.text() == NO_ENCOUNTERS and not view.summary_tree.isVisible()
    shut(qtbot, clinic)


def test_a_failed_extraction_is_not_summarised_until_retried(
    qtbot: QtBot, tmp_path: Path, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = seed(tmp_path / "data")
    real = summary_controller.run_extraction

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("a parser bug")

    monkeypatch.setattr(summary_controller, "run_extraction", broken)
    clinic = start(qtbot, tmp_path, models_dir)
    view = clinic.window.patient_view
    show_patient(qtbot, clinic, ids["patient"])
    open_draft_encounter(qtbot, clinic, ids["draft_encounter"])
    with qtbot.waitSignal(clinic.summaries.extracted, timeout=20000) as failed:
        accept_shown_draft(qtbot, clinic)
    assert failed.args[0].status == ExtractionStatus.FAILED

    with qtbot.waitSignal(clinic.patients.shown, timeout=10000):
        clinic.back_to_patient()
    assert view.notice.isVisible() and "could not be summarised" in view.failed.text()
    assert texts(view.summary_tree, "not_summarised") == ["SOAP note: could not be summarised"]
    assert "losartan" not in " ".join(texts(view.summary_tree, "medications")).lower()  # nothing else changed
    assert texts(view.summary_tree, "medications")[0].startswith("Amlodipine 10 mg")

    monkeypatch.setattr(summary_controller, "run_extraction", real)
    with qtbot.waitSignal(clinic.patients.summary_shown, timeout=20000,
                          check_params_cb=lambda s: not s.not_summarised):
        view.retry_button.click()
    assert not view.notice.isVisible() and view.summary_tree.section("not_summarised") is None
    assert texts(view.summary_tree, "medications")[0].startswith("Losartan 50 mg")
    shut(qtbot, clinic)


class ExtractingLlm(PiecesLlm):
    """The model step's seam: it finds "ankle swelling" in whichever numbered sentence says it."""

    model_name = "scripted-extractor"

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def pieces(self, request: GenerationRequest) -> Iterator[str]:
        prompt = request.messages[-1].content
        self.prompts.append(prompt)
        line = next(int(n) for n, text in re.findall(r"^\[(\d+)\] (.*)$", prompt, re.M) if "swelling" in text)
        yield json.dumps({"problems": [{"name": "ankle swelling", "status": "active", "sentence": line}],
                          "allergies": [], "medication_changes": []})


def test_the_models_second_reading_waits_for_the_doctor_and_runs_on_redacted_text(
    qtbot: QtBot, tmp_path: Path, models_dir: Path, redactor: Any  # noqa: F811
) -> None:
    ids = seed(tmp_path / "data", draft=(THIRD[0], THIRD[1].replace("Ankle swelling", "Okafor has ankle swelling")))
    llm = ExtractingLlm()
    clinic = start(qtbot, tmp_path, models_dir, {"llm": llm, "redact": redactor})
    clinic.summaries.model_step = True
    show_patient(qtbot, clinic, ids["patient"])
    open_draft_encounter(qtbot, clinic, ids["draft_encounter"])

    clinic.summaries.llm_busy(True)  # as while a draft is written: the second reading waits
    with qtbot.waitSignal(clinic.summaries.extracted, timeout=20000) as first:
        accept_shown_draft(qtbot, clinic)
    assert first.args[0].extractor == "parsers-1" and first.args[0].status == ExtractionStatus.DONE
    assert llm.prompts == [] and clinic.summaries._second == [first.args[0].note_version_id]

    with qtbot.waitSignal(clinic.summaries.extracted, timeout=30000) as second:
        clinic.summaries.llm_busy(False)
    assert second.args[0].extractor == "parsers-1+model:scripted-extractor"
    [prompt] = llm.prompts
    assert "Okafor" not in prompt and "[PATIENT_1]" in prompt  # the model read the note redacted
    with qtbot.waitSignal(clinic.patients.shown, timeout=10000):
        clinic.back_to_patient()
    assert "Ankle swelling" in texts(clinic.window.patient_view.summary_tree, "problems")
    shut(qtbot, clinic)


def test_brief_me_drafts_a_paragraph_and_reads_it_aloud(
    qtbot: QtBot, tmp_path: Path, models_dir: Path, smollm: Any, redactor: Any  # noqa: F811
) -> None:
    ids = seed(tmp_path / "data")
    clinic = start(qtbot, tmp_path, models_dir, {"llm": smollm, "redact": redactor}, model=SMOLLM2)
    box = clinic.window.patient_view.briefing
    show_patient(qtbot, clinic, ids["patient"])
    assert not box.isVisible()

    readings: list[bool] = []
    clinic.read_aloud.reading_changed.connect(readings.append)
    with qtbot.waitSignal(clinic.briefing.finished, timeout=300000) as done:
        clinic.window.actions_by_key["brief_me"].trigger()
        assert clinic.patients.view.briefing.isVisible()  # "writing…" at once: the window does not wait
    briefing = done.args[0]
    assert briefing.draft and briefing.model == SMOLLM2 and briefing.text.strip()
    assert box.badge.text() == DRAFT_BADGE and box.badge.isVisible()
    assert box.text.text().startswith(briefing.text) and "[PATIENT" not in briefing.text
    assert readings[:1] == [True]  # read aloud while it was written
    with qtbot.waitSignal(clinic.read_aloud.reading_changed, timeout=120000, check_params_cb=lambda on: not on):
        clinic.briefing.stop()

    # Nothing new in the notes: the same brief at once (kept per summary version), read again.
    with qtbot.waitSignal(clinic.briefing.finished, timeout=10000) as again:
        clinic.window.actions_by_key["brief_me"].trigger()
    assert again.args[0] is briefing
    with qtbot.waitSignal(clinic.read_aloud.reading_changed, timeout=120000, check_params_cb=lambda on: not on):
        clinic.briefing.stop()

    # Another patient: the brief is not theirs.
    show_patient(qtbot, clinic, ids["nobody"])
    assert not box.isVisible()
    clinic.window.actions_by_key["brief_me"].trigger()
    qtbot.waitUntil(lambda: box.isVisible() and "nothing to brief on" in box.text.text(), timeout=10000)
    assert not box.badge.isVisible()
    shut(qtbot, clinic)


LONG_PLAN = ("Community-acquired pneumonia of the right lower lobe, improving on oral antibiotics, with residual "
             "crackles at the right base and a persistent dry cough at night.")


@pytest.mark.parametrize("size", [QSize(1280, 720), QSize(1440, 900)])
def test_the_patient_view_fits_the_screen_with_nothing_cut(
    qtbot: QtBot, tmp_path: Path, models_dir: Path, size: QSize, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("a parser bug")

    long_note = ("Pneumonia review", f"ASSESSMENT AND PLAN\n{LONG_PLAN}\nContinue metformin 500 mg twice daily.")
    ids = seed(tmp_path / "data", accepted=(FIRST, SECOND, THIRD, long_note), draft=None,
               name=("Tredgold-Featherstonehaugh", "Oswin Bartholomew"))
    with Store(tmp_path / "data", kdf_iterations=FAST_KDF) as store:  # and one accepted note not summarised
        store.unlock(PASSPHRASE)
        repos = store.repositories()
        encounter = repos.encounters.add(ids["patient"], _when(5), "Telephone review")
        accept_note(repos, repos.notes.create(encounter.id, NoteKind.SOAP, "PLAN\nStop metformin.").id)
    monkeypatch.setattr(summary_controller, "run_extraction", broken)  # it fails when the patient is shown
    clinic = start(qtbot, tmp_path, models_dir)
    w = clinic.window
    w.resize(size)
    with qtbot.waitSignal(clinic.summaries.extracted, timeout=10000):
        show_patient(qtbot, clinic, ids["patient"])
    qtbot.waitUntil(lambda: w.patient_view.notice.isVisible(), timeout=10000)
    view, tree = w.patient_view, w.patient_view.summary_tree
    assert w.size() == size
    _assert_shown({"name": view.title, "age": view.age, "brief me": view.brief_button, "retry": view.retry_button,
                   "not summarised": view.failed, "new encounter": view.new_encounter, "summary": tree}, w)
    assert not tree.horizontalScrollBar().isVisible()
    [plan_line] = [i for i in items(tree, "plan") if i.text(0) == LONG_PLAN]
    lines_room = tree.visualItemRect(plan_line).height() // tree.fontMetrics().lineSpacing()
    text_width = tree.fontMetrics().horizontalAdvance(LONG_PLAN)
    assert text_width > tree.header().sectionSize(0) and lines_room >= 2  # wrapped onto a second line, not cut
    shut(qtbot, clinic)
