"""The patient summary over a real encrypted store: a patient built from accepted notes over time, every source link
checked against the note version it points at; edits, un-acceptance, failed extraction, conflicts, drafts; and the
note_facts migration from a version-2 store. No model: the parsers only (the model step has its own test)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from app.core.errors import ModelError
from app.core.redact.pseudonyms import PseudonymMap
from app.core.services import summaries
from app.core.services.prior_context import earlier_notes_text, redacted_prior
from app.core.services.summaries import (
    accept_note,
    extract_note_version,
    extract_pending,
    patient_summary,
)
from app.core.storage import NoteAuthor, NoteKind, Repositories, Store
from app.core.storage.connection import Database
from app.core.storage.facts import ExtractionStatus
from app.core.storage.schema import migrate, schema_version
from app.core.summary.items import PatientSummary
from app.core.summary.render import NO_NOTES, prompt_text, summary_text

PASSPHRASE = "correct horse battery staple"
KDF = 4000
TODAY = date(2025, 6, 1)
NOTES = (
    ("2025-01-10", "New hypertension",
     "ASSESSMENT AND PLAN\n1. Hypertension. Blood pressure 152/96. Start amlodipine 5 mg once daily.\n"
     "2. Type 2 diabetes. Continue metformin 500 mg twice daily.\nFollow up in 4 weeks."),
    ("2025-02-14", "Blood pressure review",
     "HISTORY OF PRESENT ILLNESS\nShe developed a rash after amoxicillin last week.\nALLERGIES\nAmoxicillin (rash).\n"
     "VITALS\nBlood pressure: 141/90.\nASSESSMENT AND PLAN\nHypertension. Increase amlodipine to 10 mg once daily.\n"
     "Review in 6 weeks."),
    ("2025-04-02", "Ankle swelling",
     "VITALS\nBP 128/80.\nASSESSMENT AND PLAN\nAnkle swelling on amlodipine. Stop amlodipine.\n"
     "Hypertension. Start losartan 50 mg once daily.\nFollow up in 2 weeks."),
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "data", kdf_iterations=KDF, os_user="dr-test")
    s.create(PASSPHRASE)
    yield s
    s.close()


def _note(repos: Repositories, patient_id: int, day: str, reason: str, text: str, *, accept: bool = True) -> int:
    when = datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)
    encounter = repos.encounters.add(patient_id, when, reason)
    note = repos.notes.create(encounter.id, NoteKind.SOAP, text, author=NoteAuthor.DOCTOR)
    if accept:
        note = accept_note(repos, note.id)
        extract_note_version(repos, None, None, note.latest.id)
    return note.id


def _check_sources(repos: Repositories, summary: PatientSummary) -> int:
    """Every source is a sentence of an accepted note version: text[start:end] == sentence."""
    sources = summary.sources()
    for source in sources:
        version = repos.facts.version(source.note_version_id)
        assert version.note_status == "accepted" and version.note_id == source.note_id
        assert version.encounter_id == source.encounter_id
        assert version.text[source.start : source.end] == source.sentence
    return len(sources)


def test_a_patient_over_three_notes(store: Store) -> None:
    repos = store.repositories()
    patient = repos.patients.add("Okafor", "Ada", date_of_birth=date(1958, 3, 2), mrn="S-1")
    for day, reason, text in NOTES:
        _note(repos, patient.id, day, reason, text)
    summary = patient_summary(repos, patient.id, TODAY)

    assert summary.accepted_notes == 3 and not summary.not_summarised and not summary.open_drafts
    current = {m.name: m for m in summary.medications}
    assert set(current) == {"metformin", "losartan"}
    assert (current["losartan"].dose, current["losartan"].frequency, current["losartan"].since) == (
        "50 mg", "once daily", date(2025, 4, 2))
    stopped = {m.name: m for m in summary.stopped_medications}
    assert set(stopped) == {"amlodipine", "amoxicillin"}  # the allergen was taken once, not continued
    amlodipine = stopped["amlodipine"]
    assert amlodipine.status == "stopped" and amlodipine.dose == "10 mg"
    assert [(h.change, h.date.isoformat(), h.dose) for h in amlodipine.history] == [
        ("started", "2025-01-10", "5 mg"), ("dose changed", "2025-02-14", "10 mg"), ("stopped", "2025-04-02", "10 mg")]
    assert amlodipine.history[-1].source.sentence == "Stop amlodipine."

    assert [(a.substance, a.reaction, a.source.date) for a in summary.allergies] == [
        ("amoxicillin", "rash", date(2025, 2, 14))]
    [bp] = [t for t in summary.vitals if t.name == "blood pressure"]
    assert [(r.value, r.date.isoformat()) for r in bp.readings] == [
        ("128/80", "2025-04-02"), ("141/90", "2025-02-14"), ("152/96", "2025-01-10")]
    assert {p.name for p in summary.problems} >= {"hypertension", "type 2 diabetes"}
    assert summary.last_plan is not None and summary.last_plan.reason == "Ankle swelling"
    assert [f.due.isoformat() for f in summary.follow_ups] == ["2025-04-16"]  # the earlier ones were seen to
    assert summary.follow_ups[0].status == "overdue"
    assert _check_sources(repos, summary) > 15

    text = summary_text(summary)
    assert "losartan 50 mg, once daily" in text and "Stop amlodipine." in text
    assert "amlodipine" not in prompt_text(summary).split("Stopped:")[0].split("Medications:")[1]


def test_an_edited_or_unaccepted_note_is_recomputed(store: Store) -> None:
    repos = store.repositories()
    patient = repos.patients.add("Brandt", "Jo", mrn="S-2")
    note_id = _note(repos, patient.id, "2025-03-01", "Cough", "PLAN\nStart lisinopril 10 mg once daily.")
    assert [m.dose for m in patient_summary(repos, patient.id, TODAY).medications] == ["10 mg"]

    repos.notes.add_version(note_id, "PLAN\nStart lisinopril 20 mg once daily.")  # an edit, not yet accepted
    edited = patient_summary(repos, patient.id, TODAY)
    assert [m.dose for m in edited.medications] == ["10 mg"]
    assert [d.status for d in edited.open_drafts] == ["edit of an accepted note"]

    note = accept_note(repos, note_id)  # re-accepted: pending until extracted, then recomputed
    pending = patient_summary(repos, patient.id, TODAY)
    assert [n.status for n in pending.not_summarised] == ["pending"] and not pending.medications
    assert [o.status for o in extract_pending(repos, None, None, patient_id=patient.id)] == [ExtractionStatus.DONE]
    recomputed = patient_summary(repos, patient.id, TODAY)
    assert [m.dose for m in recomputed.medications] == ["20 mg"]
    assert recomputed.medications[0].source.note_version_id == note.latest.id
    _check_sources(repos, recomputed)

    repos.notes.unaccept(note_id)
    gone = patient_summary(repos, patient.id, TODAY)
    assert gone.empty and not gone.medications and summary_text(gone) == NO_NOTES
    assert [d.status for d in gone.open_drafts] == ["draft"]


def test_a_failed_extraction_leaves_the_note_not_summarised(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    repos = store.repositories()
    patient = repos.patients.add("Vance", "Lee", mrn="S-3")
    _note(repos, patient.id, "2025-01-05", "Review", "PLAN\nContinue metformin 500 mg twice daily.")

    def broken(*_args: object, **_kwargs: object) -> None:
        raise ModelError("the model failed", "")

    monkeypatch.setattr(summaries, "run_extraction", broken)
    note_id = _note(repos, patient.id, "2025-02-05", "Review", "PLAN\nStop metformin.")
    summary = patient_summary(repos, patient.id, TODAY)
    assert [(n.note_id, n.status) for n in summary.not_summarised] == [(note_id, "failed")]
    assert [m.name for m in summary.medications] == ["metformin"]  # nothing else changed
    assert summary.accepted_notes == 2

    monkeypatch.undo()
    retried = list(extract_pending(repos, None, None, patient_id=patient.id, retry_failed=True))
    assert [o.status for o in retried] == [ExtractionStatus.DONE]
    assert not patient_summary(repos, patient.id, TODAY).medications


def test_notes_of_the_same_day_that_disagree_are_both_shown(store: Store) -> None:
    repos = store.repositories()
    patient = repos.patients.add("Kerr", "Sam", mrn="S-4")
    _note(repos, patient.id, "2025-05-01", "Clinic", "ALLERGIES\nPenicillin.\nPLAN\nContinue atenolol 50 mg daily.")
    _note(repos, patient.id, "2025-05-01", "Ward", "ALLERGIES\nNo known drug allergies.\nPLAN\n"
                                                   "Continue atenolol 25 mg daily.")
    summary = patient_summary(repos, patient.id, TODAY)
    assert sorted((m.dose, m.conflict) for m in summary.medications) == [("25 mg", True), ("50 mg", True)]
    assert all(a.conflict for a in summary.allergies) and len(summary.allergies) == 2
    _check_sources(repos, summary)


def test_no_accepted_notes_and_the_prior_summary_for_a_new_note(store: Store) -> None:
    repos = store.repositories()
    patient = repos.patients.add("Quill", "Ray", mrn="S-5")
    assert patient_summary(repos, patient.id, TODAY).empty
    _note(repos, patient.id, "2025-01-10", "Review", "PLAN\nStart amlodipine 5 mg once daily.")
    new = repos.encounters.add(patient.id, datetime(2025, 3, 1, 12, tzinfo=UTC), "Review")

    class UpperCaseRedactor:  # stands in for the spaCy redactor: replaces the patient's name
        def redact(self, text: str, pseudonyms: PseudonymMap | None = None) -> object:
            class Result:
                redacted_text = text.replace("Quill", "[PATIENT_1]")

            return Result()

    prior = redacted_prior(UpperCaseRedactor(), earlier_notes_text(repos, new.id), PseudonymMap())  # type: ignore[arg-type]
    assert "amlodipine 5 mg, once daily" in prior and prior.startswith("What earlier accepted notes")
    first = repos.encounters.for_patient(patient.id)[0]
    assert redacted_prior(UpperCaseRedactor(), earlier_notes_text(repos, first.id), PseudonymMap()) == ""  # type: ignore[arg-type]


def test_migration_3_adds_note_facts_to_a_version_2_store() -> None:
    db = Database()
    db.attach(sqlite3.connect(":memory:", isolation_level=None), sqlite3.Error)
    migrate(db, target=2)
    db.execute("INSERT INTO patients(id, family_name, created_at, updated_at) VALUES (1, 'A', 't', 't')")
    assert migrate(db, target=3) == [3]
    assert schema_version(db) == 3
    columns = [r[1] for r in db.all("PRAGMA table_info(note_facts)")]
    assert columns == ["note_version_id", "status", "facts_json", "extractor", "error", "updated_at"]
    assert db.scalar("SELECT count(*) FROM patients") == 1
