"""A patient's notes as plain text: the one way patient data leaves the store unencrypted.

Only ever on an explicit request by the user (the CLI's `store export`, a GUI menu item with a confirmation); the
caller shows `PLAINTEXT_WARNING` first and decides where the file goes. Written with owner-only permissions.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from app.core.errors import StorageError
from app.core.storage.clinical import NoteRepository
from app.core.storage.patients import EncounterRepository, PatientRepository
from app.core.storage.records import Note, NoteStatus

PLAINTEXT_WARNING = (
    "The exported file is NOT encrypted: it holds the patient's identity and notes in plain text. Store it only "
    "where patient records may be kept, and delete it when it is no longer needed."
)

_KIND_TITLES = {"soap": "SOAP note", "summary": "Summary", "letter": "Letter", "other": "Note"}


def _note_block(note: Note, text: str, version: int, status: NoteStatus) -> list[str]:
    label = "accepted" if status is NoteStatus.ACCEPTED else f"{status.value}, not accepted"
    return [f"--- {_KIND_TITLES.get(note.kind.value, 'Note')} (version {version}, {label}) ---", text.rstrip(), ""]


def patient_notes_text(
    patients: PatientRepository,
    encounters: EncounterRepository,
    notes: NoteRepository,
    patient_id: int,
    exported_at: datetime,
    exported_by: str,
) -> str:
    """Demographics, then each encounter in date order with its notes: the accepted version of each note, or the
    latest draft (marked as such) when none was accepted."""
    patient = patients.get(patient_id)
    lines = [
        "CLINIC ASSISTANT - PATIENT NOTES EXPORT (NOT ENCRYPTED)",
        f"Exported {exported_at.isoformat(timespec='seconds')} by {exported_by}",
        "",
        f"Patient: {patient.display_name}",
        f"Date of birth: {patient.date_of_birth.isoformat() if patient.date_of_birth else 'not recorded'}",
        f"MRN: {patient.mrn or 'not recorded'}",
    ]
    lines += [f"{kind.upper()}: {value}" for kind, value in sorted(patient.identifiers.items())]
    lines.append("")
    for encounter in encounters.for_patient(patient_id):
        heading = f"=== Encounter {encounter.started_at.isoformat(timespec='minutes')}"
        lines += [heading + (f" - {encounter.reason}" if encounter.reason else "") + " ===", ""]
        encounter_notes = notes.for_encounter(encounter.id)
        if not encounter_notes:
            lines += ["(no notes)", ""]
        for note in encounter_notes:
            chosen = note.latest
            if note.accepted_version is not None:
                chosen = next(v for v in notes.versions(note.id) if v.version == note.accepted_version)
            lines += _note_block(note, chosen.text, chosen.version, chosen.status)
    return "\n".join(lines).rstrip() + "\n"


def write_private_text(path: Path, text: str, *, overwrite: bool) -> None:
    """Create the file readable by its owner only (0600 on POSIX), refusing to replace one unless asked."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise StorageError(
            f"{path} already exists", "Choose another file name, or pass --force to replace it"
        ) from None
    except OSError as exc:
        raise StorageError(f"Could not write {path}: {exc.strerror}", "Check the folder and the free space") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
