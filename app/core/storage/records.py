"""What the repositories return: frozen dataclasses, one per kind of record.

Times are timezone-aware UTC `datetime`s; dates of birth are `date`s. Fields that hold patient text are marked in
their docstrings so nobody logs them by accident.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class MessageRole(StrEnum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"


class NoteKind(StrEnum):
    SOAP = "soap"
    SUMMARY = "summary"
    LETTER = "letter"
    OTHER = "other"


class NoteStatus(StrEnum):
    DRAFT = "draft"
    ACCEPTED = "accepted"
    SUPERSEDED = "superseded"  # was accepted, then a later version was accepted


class NoteAuthor(StrEnum):
    MODEL = "model"
    DOCTOR = "doctor"


class EncounterStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class Patient:
    """Demographics. Every field but the ids and times is identifying: never log them."""

    id: int
    family_name: str
    given_names: str
    date_of_birth: date | None
    mrn: str | None
    sex: str
    identifiers: dict[str, str] = field(default_factory=dict)  # other identifiers by kind, e.g. {"nhs": "..."}
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def display_name(self) -> str:
        return f"{self.family_name}, {self.given_names}".strip(", ")


@dataclass(frozen=True)
class Encounter:
    id: int
    patient_id: int
    started_at: datetime
    reason: str  # patient text
    status: EncounterStatus
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class EncounterOverview:
    """One row of a patient's overview: the encounter and how much it holds."""

    encounter: Encounter
    transcript_count: int
    message_count: int
    note_count: int
    accepted_note_count: int


@dataclass(frozen=True)
class PatientOverview:
    """The patient's record at a glance: demographics and encounters, newest first, with what each holds (counts).
    The clinical summary of the patient's notes is `app.core.summary.items.PatientSummary`."""

    patient: Patient
    encounters: list[EncounterOverview]


@dataclass(frozen=True)
class Transcript:
    id: int
    encounter_id: int
    raw_text: str  # patient text: what the recogniser heard
    edited_text: str | None  # patient text: the doctor's correction, None until edited
    language: str
    duration_s: float | None
    created_at: datetime
    updated_at: datetime

    @property
    def text(self) -> str:
        return self.edited_text if self.edited_text is not None else self.raw_text


@dataclass(frozen=True)
class MessageTimings:
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    first_token_s: float | None = None
    total_s: float | None = None


@dataclass(frozen=True)
class Message:
    """One chat turn. `redacted_content` is exactly what the model saw (or said); `display_content` is what the
    doctor saw after re-identification. Both are kept: the display text is the record the doctor acted on, and
    re-deriving it later from an edited redaction map could silently change it."""

    id: int
    encounter_id: int
    role: MessageRole
    redacted_content: str
    display_content: str
    model: str
    timings: MessageTimings
    created_at: datetime


@dataclass(frozen=True)
class NoteVersion:
    id: int
    note_id: int
    version: int
    status: NoteStatus
    text: str  # patient text
    author: NoteAuthor
    model: str
    created_at: datetime


@dataclass(frozen=True)
class Note:
    id: int
    encounter_id: int
    kind: NoteKind
    created_at: datetime
    latest: NoteVersion
    accepted_version: int | None


@dataclass(frozen=True)
class RedactionMap:
    encounter_id: int
    map_json: str  # identifiers and their placeholders: the most sensitive text in the store
    updated_at: datetime


@dataclass(frozen=True)
class AuditEntry:
    """Who did what to which record, when. Never content."""

    id: int
    at: datetime
    os_user: str
    action: str
    record_type: str
    record_id: int | None


@dataclass(frozen=True)
class TableDamage:
    """What damaged pages cost one table: row ids and counts, never content."""

    table: str
    rows_read: int
    # Rows that could not be read: exact when `lost_exact` (counted from an intact index, which lists every row id),
    # otherwise at most this many (from the gap in row ids); None when not even that can be told.
    rows_lost: int | None
    lost_exact: bool
    lost_ids: list[list[int]]  # [first, last] ranges of the row ids that could not be read
    damaged_indexes: list[str]  # no rows are lost to these; a salvaged store rebuilds them


@dataclass(frozen=True)
class DamageReport:
    """Pages that fail SQLCipher's HMAC check, and the tables they touch (only tables with damage are listed)."""

    damaged_pages: list[int]
    page_count: int
    tables: list[TableDamage]


@dataclass(frozen=True)
class CheckReport:
    """`Store.check()`: the integrity of the file and what it holds (counts, never content). For a damaged store
    (`Store.inspect_damage`), `counts` are the rows that can still be read and `damage` says what cannot."""

    ok: bool
    schema_version: int
    integrity_errors: list[str]
    cipher_errors: list[str]
    foreign_key_errors: int
    counts: dict[str, int]
    cipher: dict[str, str]
    file_bytes: int
    damage: DamageReport | None = None


@dataclass(frozen=True)
class SalvageReport:
    """`Store.salvage()`: a new store holding every row that could be read. Counts and ids only."""

    path: str
    bytes: int
    schema_version: int
    counts: dict[str, int]  # rows copied, per table
    lost: dict[str, int | None]  # rows that could not be read, per table (see `TableDamage.rows_lost`)
    lost_exact: bool
    # Stand-in records ("Unreadable record") for lost ones that copied records point at, so that no copied record
    # is left pointing at nothing (an encounter whose patient was on the damaged page keeps a patient).
    placeholders: dict[str, int]
    damaged_pages: int


@dataclass(frozen=True)
class BackupInfo:
    path: str
    bytes: int
    schema_version: int
    counts: dict[str, int]
