"""The page of a printed note, without Qt: who it is about, which version, DRAFT unless it is the accepted version
exactly as stored, the acceptance date from the audit log; and the owner-only, all-or-nothing file write."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from app.core.errors import AppError, StorageError
from app.core.services import note_document as nd
from app.core.services.note_document import Block, Letterhead, body_blocks, compose, note_document, read_record
from app.core.storage import NoteKind
from app.core.storage.store import Store

PASSPHRASE = "amber-kettle-orbit-93"
HEAD = Letterhead("Larkfield Family Clinic", "Dr Helena Marsh")
NOTE = "SUBJECTIVE\nThree days of productive cough.\n\nPLAN\nAmoxicillin 500 mg three times daily."


# Midday UTC: the same calendar date in every time zone the test may run in.
@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "data", kdf_iterations=4000, clock=lambda: datetime(2026, 3, 5, 12, 30, tzinfo=UTC))
    s.create(PASSPHRASE)
    yield s
    s.close()


def _seed(store: Store) -> tuple[int, int]:
    repos = store.repositories()
    patient = repos.patients.add("Tredgold", "Oswin", date_of_birth=date(1958, 3, 4), mrn="447291", sex="male")
    encounter = repos.encounters.add(patient.id, started_at=datetime(2026, 3, 5, 12, 0, tzinfo=UTC), reason="Cough")
    note = repos.notes.create(encounter.id, NoteKind.SOAP, NOTE)
    return encounter.id, note.id


def test_a_draft_is_marked_and_names_the_patient(store: Store) -> None:
    encounter_id, note_id = _seed(store)
    doc = note_document(store.repositories(), encounter_id, note_id, NOTE, "SOAP note", HEAD)
    assert doc.draft and doc.status.startswith("DRAFT")
    assert doc.letterhead == ("Larkfield Family Clinic", "Dr Helena Marsh")
    assert [(i.label, i.value) for i in doc.identifiers] == [
        ("Patient", "Tredgold, Oswin"), ("Date of birth", "4 March 1958"), ("MRN", "447291"),
        ("Seen on", "5 March 2026"),
    ]
    assert doc.title == "SOAP note" and doc.version == "Version 1"
    assert doc.running_line == "Tredgold, Oswin · born 4 Mar 1958 · MRN 447291"
    assert doc.body[0] == Block("SUBJECTIVE", heading=True) and doc.body[-1].text.startswith("Amoxicillin")
    # Printing is a copy leaving the encryption: the audit log says so (never what).
    entries = store.repositories().audit.entries(record_type="note", record_id=note_id)
    assert [e.action for e in entries][-1] == "export"


def test_accepted_says_when_and_an_edit_makes_it_a_draft_again(store: Store) -> None:
    encounter_id, note_id = _seed(store)
    repos = store.repositories()
    repos.notes.accept(note_id)
    record = read_record(repos, encounter_id, note_id)
    assert record.accepted_at is not None
    accepted = compose(record, NOTE + "\n", "SOAP note", HEAD)  # trailing whitespace is no edit
    assert not accepted.draft and accepted.status == "Accepted on 5 March 2026"
    edited = compose(record, NOTE + "\nReview in one week.", "SOAP note", HEAD)
    assert edited.draft and edited.version == "Version 1, edited since (not saved)"
    unsaved = compose(read_record(repos, encounter_id, None), "Dictated text", "Summary", Letterhead())
    assert unsaved.draft and unsaved.version == "Not saved yet" and unsaved.letterhead == ()


def test_nothing_to_print_is_said(store: Store) -> None:
    encounter_id, note_id = _seed(store)
    with pytest.raises(AppError, match="no note to print"):
        note_document(store.repositories(), encounter_id, note_id, "  \n", "SOAP note", HEAD)


def test_headings_are_lines_in_capitals_alone() -> None:
    blocks = body_blocks("ASSESSMENT\nBP 140/90 and ECG normal.\nHISTORY OF PRESENT ILLNESS:\n\nECG 12-lead done")
    assert [b.heading for b in blocks] == [True, False, True, False]


def test_the_file_is_owner_only_and_replaced_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "note.pdf"
    target.write_bytes(b"old")
    target.chmod(0o644)
    nd.write_private_file(target, b"%PDF-1.4 new")
    assert target.read_bytes() == b"%PDF-1.4 new"
    assert target.stat().st_mode & 0o777 == 0o600
    assert os.listdir(tmp_path) == ["note.pdf"]

    def full(_fd: int, _data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(nd.os, "write", full)
    with pytest.raises(StorageError, match="The disk is full"):
        nd.write_private_file(target, b"%PDF-1.4 newer")
    assert target.read_bytes() == b"%PDF-1.4 new"  # the earlier file is intact
    assert os.listdir(tmp_path) == ["note.pdf"]  # and no partial file is left
