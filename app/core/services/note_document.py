"""A note or letter as it goes on paper (printed, or saved as a PDF): what the page says, without any Qt.

The window renders this model (app/ui/assistant/note_printing.py); here is only what goes on it: the clinic's and the
doctor's names, who the patient is, when they were seen, which note and version, and whether it is the doctor's
accepted note or a draft. Anything short of the accepted version exactly as stored is a draft — an accepted note
edited since, or a draft not yet saved, included — so a page can never pass an unchecked text off as the record.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from app.core.errors import AppError, StorageError
from app.core.storage import AuditAction, Encounter, Note, Patient, Repositories

DRAFT_MARK = "DRAFT"
DRAFT_STATUS = "DRAFT: not accepted by the doctor. Check it before use."
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
    "December",
)
# A line on its own in capitals (SUBJECTIVE, PLAN, HISTORY OF PRESENT ILLNESS) heads a section of the note.
_HEADING = re.compile(r"[A-Z][A-Z &/'()-]{1,58}:?")


@dataclass(frozen=True)
class Letterhead:
    clinic_name: str = ""
    doctor_name: str = ""


@dataclass(frozen=True)
class Identifier:
    label: str
    value: str


@dataclass(frozen=True)
class Block:
    """One paragraph of the body; `heading` for a section's title line."""

    text: str  # patient text
    heading: bool = False


@dataclass(frozen=True)
class NoteDocument:
    """Every piece of text on the page. Patient data throughout: never log it."""

    letterhead: tuple[str, ...]  # the clinic's name, then the doctor's (those set in the settings)
    identifiers: tuple[Identifier, ...]  # the patient's name, date of birth, MRN; the encounter's date
    title: str  # "SOAP note", "Referral letter"
    version: str  # "Version 3", "Version 3, edited since (not saved)", "Not saved yet"
    status: str  # "Accepted on 4 March 2026", or the draft line
    draft: bool
    body: tuple[Block, ...]
    running_line: str  # who the page is about, at the foot of every page ("Tredgold, Oswin · born 4 Mar 1958")

    @property
    def plain_text(self) -> str:
        """The same words in reading order, for checking a rendering (tests) and for the accessible description."""
        lines = [*self.letterhead, *(f"{i.label}: {i.value}" for i in self.identifiers)]
        lines += [f"{self.title} — {self.version}", self.status, *(b.text for b in self.body)]
        return "\n".join(lines)


@dataclass(frozen=True)
class PrintedRecord:
    """What the store holds about the note being printed: read on the store's thread, composed anywhere."""

    patient: Patient
    encounter: Encounter
    note: Note | None  # None: the text shown has not been saved yet
    accepted_at: datetime | None  # when the latest version was accepted, if it is the accepted one


def long_date(day: date) -> str:
    """4 March 2026: the month spelled out, so no reader mistakes the day for the month. (Not strftime's %B, which
    follows the process locale that Qt sets: the page's words are English, so are its dates.)"""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def short_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1][:3]} {day.year}"


def body_blocks(text: str) -> tuple[Block, ...]:
    """The note's text as paragraphs: each line one paragraph (the doctor's line breaks are kept), blank lines
    dropped (paragraph spacing replaces them), capitalised lines alone marked as section headings."""
    blocks = []
    for line in text.strip().splitlines():
        stripped = line.strip()
        if stripped:
            blocks.append(Block(line.rstrip(), heading=bool(_HEADING.fullmatch(stripped))))
    return tuple(blocks)


def compose(record: PrintedRecord, shown_text: str, title: str, letterhead: Letterhead) -> NoteDocument:
    """The page for the text shown in the window (what the doctor sees is what is printed)."""
    patient, note = record.patient, record.note
    shown = shown_text.strip()
    saved = note is not None and shown == note.latest.text.strip()
    accepted = saved and note is not None and note.accepted_version == note.latest.version
    if note is None:
        version = "Not saved yet"
    elif saved:
        version = f"Version {note.latest.version}"
    else:
        version = f"Version {note.latest.version}, edited since (not saved)"
    if accepted and note is not None:
        when = record.accepted_at or note.latest.created_at
        status = f"Accepted on {long_date(when.astimezone().date())}"
    else:
        status = DRAFT_STATUS
    born = patient.date_of_birth
    identifiers = (
        Identifier("Patient", patient.display_name),
        Identifier("Date of birth", long_date(born) if born else "not recorded"),
        Identifier("MRN", patient.mrn or "not recorded"),
        Identifier("Seen on", long_date(record.encounter.started_at.astimezone().date())),
    )
    running = [patient.display_name]
    if born:
        running.append(f"born {short_date(born)}")
    if patient.mrn:
        running.append(f"MRN {patient.mrn}")
    return NoteDocument(
        letterhead=tuple(n.strip() for n in (letterhead.clinic_name, letterhead.doctor_name) if n.strip()),
        identifiers=identifiers,
        title=title or "Note",
        version=version,
        status=status,
        draft=not accepted,
        body=body_blocks(shown),
        running_line=" · ".join(running),
    )


def read_record(repos: Repositories, encounter_id: int, note_id: int | None) -> PrintedRecord:
    """On the store's thread. The acceptance date is the audit log's: a version's own date is when it was written."""
    encounter = repos.encounters.get(encounter_id)
    patient = repos.patients.get(encounter.patient_id)
    note = repos.notes.get(note_id) if note_id is not None else None
    accepted_at = None
    if note is not None and note.accepted_version == note.latest.version:
        for entry in repos.audit.entries(record_type="note", record_id=note.id, newest_first=True):
            if entry.action == AuditAction.ACCEPT.value:
                accepted_at = entry.at
                break
    return PrintedRecord(patient, encounter, note, accepted_at)


def note_document(
    repos: Repositories,
    encounter_id: int,
    note_id: int | None,
    shown_text: str,
    title: str,
    letterhead: Letterhead,
) -> NoteDocument:
    """Read what the page needs and record in the audit log that the note left the store (printed or saved as a
    PDF: both are copies outside the encryption). Runs on the store's thread."""
    if not shown_text.strip():
        raise AppError("There is no note to print", "Open a note or draft one first")
    document = compose(read_record(repos, encounter_id, note_id), shown_text, title, letterhead)
    if note_id is not None:
        repos.audit.record(AuditAction.EXPORT, "note", note_id)
    else:
        repos.audit.record(AuditAction.EXPORT, "encounter", encounter_id)
    return document


def write_private_file(path: Path, data: bytes) -> None:
    """Write `data` to `path`, readable by its owner only (0600), all or nothing: it goes to a new owner-only file
    beside the target first and replaces the target only once complete, so a full disk never leaves half a PDF (nor
    spoils the file it was to replace)."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)  # a leftover partial keeps its old mode through O_CREAT: narrow it
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(partial, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            raise StorageError(
                f"The disk is full: {path.name} was not written", "Free some space, or choose another disk"
            ) from None
        raise StorageError(
            f"Could not write {path.name} ({exc.strerror or type(exc).__name__})", "Choose another folder"
        ) from None
