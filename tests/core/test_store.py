"""The encrypted store: life cycle, repositories, audit, search. Real SQLCipher, low KDF iterations for speed."""

from __future__ import annotations

import dataclasses
import io
import json
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from app.core.errors import InputError, StorageError
from app.core.storage import (
    IdleTimer,
    MessageRole,
    MessageTimings,
    NoteAuthor,
    NoteKind,
    NoteStatus,
    RecordNotFound,
    Store,
    StoreLocked,
    StoreWorker,
)
from app.core.storage.audit import write_audit_csv, write_audit_json
from app.core.storage.export import write_private_text
from app.core.storage.schema import LATEST_VERSION

PASSPHRASE = "correct horse battery staple"
KDF = 4000  # test-only: far below the 64,000 floor the settings enforce


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "data", kdf_iterations=KDF, os_user="dr-test")
    s.create(PASSPHRASE)
    yield s
    s.close()


def test_create_then_unlock_keeps_records(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Store(data, kdf_iterations=KDF) as s:
        assert not s.exists()
        s.create(PASSPHRASE)
        patient = s.repositories().patients.add("Okonkwo", "Adaeze", date_of_birth=date(1971, 5, 9), mrn="A-100")
    assert (data / "clinic.db").is_file()
    with Store.open(data, PASSPHRASE, kdf_iterations=KDF) as s:
        again = s.repositories().patients.get(patient.id)
    assert (again.family_name, again.given_names, again.date_of_birth, again.mrn) == (
        "Okonkwo", "Adaeze", date(1971, 5, 9), "A-100"
    )


def test_create_refuses_an_existing_store_and_a_weak_passphrase(store: Store, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="already exists"):
        Store(store.data_dir, kdf_iterations=KDF).create(PASSPHRASE)
    with pytest.raises(InputError, match="too weak"):
        Store(tmp_path / "other", kdf_iterations=KDF).create("short")
    assert not (tmp_path / "other" / "clinic.db").exists()


def test_locked_store_refuses_work_and_unlocks_again(store: Store) -> None:
    repos = store.repositories()
    pid = repos.patients.add("Lindqvist", "Maja").id
    store.lock()
    assert not store.is_unlocked
    with pytest.raises(StoreLocked):
        repos.patients.get(pid)
    with pytest.raises(StoreLocked):
        store.repositories()
    store.unlock(PASSPHRASE)
    assert repos.patients.get(pid).family_name == "Lindqvist"


def test_patient_search_by_name_mrn_identifier_and_birth_date(store: Store) -> None:
    patients = store.repositories().patients
    muller = patients.add("Müller", "Jürgen Karl", date_of_birth=date(1960, 1, 2), mrn="MRN-0042",
                          identifiers={"nhs": "943 476 5919"})
    patients.add("Mullins", "Anne", date_of_birth=date(1960, 1, 2))
    patients.add("O'Brien", "Seán", mrn="X9")
    assert [p.id for p in patients.search("muller")] == [muller.id]
    assert [p.id for p in patients.search("karl MÜLL")] == [muller.id]  # any order, word starts, accents
    assert {p.family_name for p in patients.search("mul")} == {"Müller", "Mullins"}
    assert [p.id for p in patients.search("mrn0042")] == [muller.id]  # case, dashes ignored
    assert [p.id for p in patients.search("9434765919")] == [muller.id]
    assert {p.family_name for p in patients.search("1960-01-02")} == {"Müller", "Mullins"}
    assert {p.family_name for p in patients.search("mull", date_of_birth=date(1960, 1, 2))} == {"Müller", "Mullins"}
    assert patients.search("anne", date_of_birth=date(1999, 1, 1)) == []
    assert patients.search("sean")[0].given_names == "Seán"
    assert patients.search("zzz") == []
    assert patients.search("100%_") == []  # LIKE wildcards are literal
    assert {p.family_name for p in patients.search("")} == {"Müller", "Mullins", "O'Brien"}  # no criteria: all
    assert len(patients.search("", limit=2)) == 2
    with pytest.raises(InputError):
        patients.search("1960-02-31")


def test_mrn_is_unique_ignoring_case_and_dashes(store: Store) -> None:
    patients = store.repositories().patients
    first = patients.add("Ahn", "Min", mrn="ab-12")
    with pytest.raises(StorageError, match="already has this MRN"):
        patients.add("Other", "Person", mrn="AB12")
    assert patients.find_by_mrn("Ab 12") == first
    edited = patients.update(dataclasses.replace(first, family_name="Ahn-Park", identifiers={"passport": "P1"}))
    assert edited.family_name == "Ahn-Park" and edited.identifiers == {"passport": "P1"}
    assert patients.search("park")[0].id == first.id


def test_encounters_in_date_order_and_the_summary_counts(store: Store) -> None:
    r = store.repositories()
    pid = r.patients.add("Tanaka", "Hiro").id
    t0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    later = r.encounters.add(pid, t0 + timedelta(days=30), reason="review")
    first = r.encounters.add(pid, t0, reason="first visit")
    assert [e.id for e in r.encounters.for_patient(pid)] == [first.id, later.id]
    assert [e.id for e in r.encounters.for_patient(pid, newest_first=True)] == [later.id, first.id]
    r.transcripts.add(first.id, "dictated text")
    r.messages.add(first.id, MessageRole.USER, "q [NAME_1]", "q Hiro")
    note = r.notes.create(first.id, NoteKind.SOAP, "S: well")
    r.notes.accept(note.id)
    summary = r.patients.overview(pid)
    assert summary.patient.id == pid
    assert [o.encounter.id for o in summary.encounters] == [later.id, first.id]
    newest, oldest = summary.encounters
    assert (newest.transcript_count, newest.message_count, newest.note_count) == (0, 0, 0)
    assert (oldest.transcript_count, oldest.message_count, oldest.note_count, oldest.accepted_note_count) == (
        1, 1, 1, 1
    )
    with pytest.raises(RecordNotFound):
        r.encounters.add(9999)


def test_transcripts_messages_and_redaction_maps(store: Store) -> None:
    r = store.repositories()
    eid = r.encounters.add(r.patients.add("Silva", "Ana").id).id
    t = r.transcripts.add(eid, "raw words", language="en", duration_s=12.5)
    assert t.text == "raw words" and t.edited_text is None
    t = r.transcripts.set_edited(t.id, "edited words")
    assert (t.raw_text, t.text) == ("raw words", "edited words")
    timings = MessageTimings(prompt_tokens=50, completion_tokens=80, first_token_s=0.4, total_s=3.1)
    m = r.messages.add(eid, MessageRole.ASSISTANT, "[NAME_1] is well", "Ana is well", model="qwen", timings=timings)
    assert r.messages.for_encounter(eid) == [m]
    assert (m.role, m.redacted_content, m.display_content, m.model, m.timings) == (
        MessageRole.ASSISTANT, "[NAME_1] is well", "Ana is well", "qwen", timings
    )
    assert r.redaction_maps.get(eid) is None
    r.redaction_maps.save(eid, json.dumps({"NAME_1": "Ana"}))
    r.redaction_maps.save(eid, json.dumps({"NAME_1": "Ana", "DATE_1": "2024-01-01"}))
    saved = r.redaction_maps.get(eid)
    assert saved is not None and json.loads(saved.map_json)["DATE_1"] == "2024-01-01"
    with pytest.raises(InputError):
        r.redaction_maps.save(eid, "not json")


def test_note_versions_draft_accept_supersede(store: Store) -> None:
    r = store.repositories()
    eid = r.encounters.add(r.patients.add("Kowalski", "Jan").id).id
    note = r.notes.create(eid, NoteKind.LETTER, "Dear colleague", model="qwen")
    assert note.latest.version == 1 and note.latest.status is NoteStatus.DRAFT and note.accepted_version is None
    note = r.notes.add_version(note.id, "Dear Dr Smith")
    assert note.latest.version == 2 and note.latest.author is NoteAuthor.DOCTOR
    note = r.notes.accept(note.id)
    assert note.accepted_version == 2
    note = r.notes.add_version(note.id, "Dear Dr Smith, thanks")
    note = r.notes.accept(note.id, 3)
    statuses = [v.status for v in r.notes.versions(note.id)]
    assert statuses == [NoteStatus.DRAFT, NoteStatus.SUPERSEDED, NoteStatus.ACCEPTED]
    with pytest.raises(InputError):
        r.notes.accept(note.id, 7)
    assert [n.id for n in r.notes.for_encounter(eid)] == [note.id]
    note = r.notes.unaccept(note.id)  # the doctor's "Undo acceptance"
    assert note.accepted_version is None and note.latest.status is NoteStatus.DRAFT
    assert r.audit.entries()[-1].action == "unaccept"


def test_audit_log_has_who_what_which_when_and_no_content(store: Store) -> None:
    r = store.repositories()
    pid = r.patients.add("Quillfeather", "Ottoline", mrn="SECRET-MRN").id
    eid = r.encounters.add(pid, reason="secret reason").id
    r.messages.add(eid, MessageRole.USER, "secret redacted", "secret display")
    r.patients.overview(pid)
    entries = r.audit.entries()
    actions = [(e.action, e.record_type, e.record_id) for e in entries]
    assert ("create", "patient", pid) in actions and ("view", "patient", pid) in actions
    assert ("create", "encounter", eid) in actions and actions[0] == ("create_store", "store", None)
    assert all(e.os_user == "dr-test" and e.at.tzinfo is not None for e in entries)
    csv_out, json_out = io.StringIO(), io.StringIO()
    assert write_audit_csv(entries, csv_out) == len(entries)
    write_audit_json(entries, json_out)
    for text in (csv_out.getvalue(), json_out.getvalue()):
        assert "Quillfeather" not in text and "secret" not in text.lower()
    assert csv_out.getvalue().splitlines()[0] == "id,at,os_user,action,record_type,record_id"
    assert len(json.loads(json_out.getvalue())) == len(entries)
    assert r.audit.entries(record_type="patient", record_id=pid)[-1].action == "view"


def test_audit_log_is_append_only(store: Store) -> None:
    db = store.repositories().db
    with pytest.raises(StorageError):
        db.execute("UPDATE audit_log SET os_user = 'someone else'")
    with pytest.raises(StorageError):
        db.execute("DELETE FROM audit_log")


def test_transaction_groups_writes_and_rolls_back(store: Store) -> None:
    r = store.repositories()
    with pytest.raises(RuntimeError), r.db.transaction():
        r.patients.add("Rollback", "Me")
        raise RuntimeError("abandon")
    assert r.patients.search("rollback") == []
    with r.db.transaction():
        a = r.patients.add("Both", "One")
        r.encounters.add(a.id)
    assert len(r.encounters.for_patient(a.id)) == 1


def test_check_reports_integrity_counts_and_cipher_settings(store: Store) -> None:
    store.repositories().patients.add("Check", "Me")
    report = store.check()
    assert report.ok and report.schema_version == LATEST_VERSION and report.counts["patients"] == 1
    assert report.cipher["kdf_iter"] == str(KDF) and report.cipher["kdf_algorithm"] == "PBKDF2_HMAC_SHA512"
    assert report.cipher["hmac_algorithm"] == "HMAC_SHA512" and report.cipher["page_size"] == "4096"


def test_export_patient_text_uses_accepted_versions_and_is_audited(store: Store, tmp_path: Path) -> None:
    r = store.repositories()
    pid = r.patients.add("Export", "Ella", date_of_birth=date(1990, 1, 1), mrn="E1").id
    eid = r.encounters.add(pid, datetime(2024, 1, 1, 10, tzinfo=UTC), reason="rash").id
    accepted = r.notes.create(eid, NoteKind.SOAP, "S: rash v1")
    r.notes.add_version(accepted.id, "S: rash v2")
    r.notes.accept(accepted.id, 1)
    r.notes.create(eid, NoteKind.LETTER, "letter draft")
    text = store.export_patient_text(pid)
    assert "Export, Ella" in text and "1990-01-01" in text and "E1" in text and "rash" in text
    assert "S: rash v1" in text and "S: rash v2" not in text
    assert "letter draft" in text and "draft, not accepted" in text
    assert r.audit.entries(record_type="patient")[-1].action == "export"
    out = tmp_path / "export.txt"
    write_private_text(out, text, overwrite=False)
    assert out.stat().st_mode & 0o777 == 0o600
    with pytest.raises(StorageError, match="already exists"):
        write_private_text(out, text, overwrite=False)


def test_worker_owns_the_connection_on_one_thread(tmp_path: Path) -> None:
    store = Store(tmp_path / "data", kdf_iterations=KDF)
    worker = StoreWorker(store)
    try:
        worker.run(lambda s: s.create(PASSPHRASE)).result()
        pid = worker.submit(lambda r: r.patients.add("Worker", "Wendy").id).result()
        names = worker.submit(lambda r: [p.family_name for p in r.patients.search("wend")]).result()
        assert names == ["Worker"]
        thread_names = worker.submit(lambda r: threading.current_thread().name).result()
        assert thread_names.startswith("clinic-store")
        # The connection refuses any other thread: the rule is enforced, not just documented.
        with pytest.raises(Exception, match="thread"):
            store.repositories().patients.get(pid)
        worker.lock().result()
        with pytest.raises(StoreLocked):
            worker.submit(lambda r: r.patients.get(pid)).result()
        worker.unlock(PASSPHRASE).result()
        assert worker.is_unlocked().result()
    finally:
        worker.shutdown()
    assert not store.is_unlocked


def test_idle_timer_expires_after_the_configured_minutes() -> None:
    now = [1000.0]
    timer = IdleTimer(5, clock=lambda: now[0])
    now[0] += 299
    assert not timer.expired()
    now[0] += 1
    assert timer.expired()
    timer.touch()
    assert not timer.expired() and timer.idle_s() == 0
    assert not IdleTimer(0, clock=lambda: now[0] + 10**6).expired()


def test_missing_sqlcipher_is_an_engine_error_with_a_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.core.errors import EngineUnavailable

    monkeypatch.setitem(sys.modules, "sqlcipher3", None)  # what a missing native library looks like
    with pytest.raises(EngineUnavailable) as info:
        Store(tmp_path / "data", kdf_iterations=KDF).create(PASSPHRASE)
    assert "sqlcipher3" in info.value.hint
