"""The facts extracted from accepted note versions, the patient summary's raw material: the only SQL on note_facts.

One row per note version: its extraction status (pending, done, failed), the facts as JSON (encrypted with the rest
of the store; their format belongs to app/core/summary/facts.py, this layer only checks that it is JSON), and which
extractor made them. Nothing here decides what is shown: the summary's one query (`patient_notes`) reads a patient's
accepted versions and latest drafts with their facts, so a note edited (a new version) or un-accepted drops out of
the summary without this table being touched, and its new version waits here as "not summarised".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from app.core.errors import InputError
from app.core.storage.audit import AuditAction, AuditLog
from app.core.storage.connection import Database
from app.core.storage.patients import RecordNotFound
from app.core.storage.records import NoteKind, NoteStatus
from app.core.storage.schema import from_db_time, to_db_time, utc_now


class ExtractionStatus(StrEnum):
    PENDING = "pending"  # accepted, waiting for extraction (a version with no row at all counts as pending too)
    DONE = "done"
    FAILED = "failed"  # the note is shown as "not summarised"; nothing else changed


@dataclass(frozen=True)
class NoteFactsRow:
    """One note version of a patient, as the summary needs it: where it sits, its state, and its facts."""

    encounter_id: int
    encounter_started_at: datetime
    encounter_reason: str  # patient text
    note_id: int
    note_kind: NoteKind
    note_version_id: int
    version: int
    note_status: NoteStatus  # accepted, or draft for a note's latest version not yet accepted
    has_accepted_version: bool  # for a draft: an earlier version of the note is accepted (an edit in progress)
    extraction: ExtractionStatus | None  # None: never queued (the same as pending)
    facts_json: str  # patient text: "[]" until extracted


@dataclass(frozen=True)
class VersionToExtract:
    note_version_id: int
    note_id: int
    encounter_id: int
    patient_id: int
    note_status: NoteStatus
    text: str  # patient text


@dataclass(frozen=True)
class PendingVersion:
    """An accepted note version whose facts are not (or not successfully, or not fully) extracted."""

    note_version_id: int
    patient_id: int
    extraction: ExtractionStatus | None
    extractor: str


# A patient's accepted versions and the latest version of each note, with their facts: one query over the
# encounters_patient_started, notes_encounter and note_versions(note_id, version) indexes.
_PATIENT_NOTES = """
SELECT e.id, e.started_at, e.reason, n.id, n.kind, v.id, v.version, v.status,
       EXISTS (SELECT 1 FROM note_versions a WHERE a.note_id = n.id AND a.status = 'accepted'),
       f.status, coalesce(f.facts_json, '[]')
FROM encounters e
JOIN notes n ON n.encounter_id = e.id
JOIN note_versions v ON v.note_id = n.id
LEFT JOIN note_facts f ON f.note_version_id = v.id
WHERE e.patient_id = ?
  AND (v.status = 'accepted'
       OR (v.status = 'draft' AND v.version = (SELECT max(l.version) FROM note_versions l WHERE l.note_id = n.id)))
ORDER BY e.started_at, e.id, n.id, v.version
"""


def _row(r: tuple[Any, ...]) -> NoteFactsRow:
    return NoteFactsRow(
        encounter_id=r[0], encounter_started_at=from_db_time(r[1]), encounter_reason=r[2], note_id=r[3],
        note_kind=NoteKind(r[4]), note_version_id=r[5], version=r[6], note_status=NoteStatus(r[7]),
        has_accepted_version=bool(r[8]), extraction=ExtractionStatus(r[9]) if r[9] else None, facts_json=r[10],
    )


class FactRepository:
    def __init__(self, db: Database, audit: AuditLog, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._audit = audit
        self._clock = clock

    def mark_pending(self, note_version_id: int) -> None:
        """Queue a version for extraction (on acceptance). Facts already extracted for it are kept until replaced."""
        self._write(note_version_id, ExtractionStatus.PENDING, None, None, "")

    def save(self, note_version_id: int, facts_json: str, extractor: str) -> None:
        """The extracted facts of a version; its status becomes done."""
        try:
            if not isinstance(json.loads(facts_json), list):
                raise ValueError
        except ValueError:
            raise InputError("The extracted facts are not a JSON list", "This is a bug in the caller") from None
        self._write(note_version_id, ExtractionStatus.DONE, facts_json, extractor, "")

    def mark_failed(self, note_version_id: int, error_kind: str) -> None:
        """The extraction failed: the version is "not summarised". `error_kind` names the kind of failure (an
        exception class), never content."""
        self._write(note_version_id, ExtractionStatus.FAILED, None, None, error_kind[:100])

    def version(self, note_version_id: int) -> VersionToExtract:
        """A note version's text and where it belongs, for extraction."""
        row = self._db.one(
            "SELECT v.id, v.note_id, n.encounter_id, e.patient_id, v.status, v.text FROM note_versions v "
            "JOIN notes n ON n.id = v.note_id JOIN encounters e ON e.id = n.encounter_id WHERE v.id = ?",
            (note_version_id,),
        )
        if row is None:
            raise RecordNotFound("note version", note_version_id)
        return VersionToExtract(row[0], row[1], row[2], row[3], NoteStatus(row[4]), row[5])

    def status(self, note_version_id: int) -> ExtractionStatus | None:
        value = self._db.scalar("SELECT status FROM note_facts WHERE note_version_id = ?", (note_version_id,))
        return ExtractionStatus(value) if value else None

    def facts_json(self, note_version_id: int) -> str | None:
        value = self._db.scalar(
            "SELECT facts_json FROM note_facts WHERE note_version_id = ? AND status = 'done'", (note_version_id,)
        )
        return str(value) if value is not None else None

    def pending(
        self, patient_id: int | None = None, *, include_failed: bool = False, limit: int = 10_000
    ) -> list[PendingVersion]:
        """Accepted versions without extracted facts (oldest first): pending, never queued, and failed ones when
        `include_failed`."""
        statuses = "('pending', 'failed')" if include_failed else "('pending')"
        where = "AND e.patient_id = ?" if patient_id is not None else ""
        params: list[Any] = [patient_id] if patient_id is not None else []
        rows = self._db.all(
            "SELECT v.id, e.patient_id, f.status, coalesce(f.extractor, '') FROM note_versions v "
            "JOIN notes n ON n.id = v.note_id JOIN encounters e ON e.id = n.encounter_id "
            "LEFT JOIN note_facts f ON f.note_version_id = v.id "
            f"WHERE v.status = 'accepted' AND (f.status IS NULL OR f.status IN {statuses}) {where} "
            "ORDER BY v.id LIMIT ?",
            [*params, int(limit)],
        )
        return [PendingVersion(r[0], r[1], ExtractionStatus(r[2]) if r[2] else None, r[3]) for r in rows]

    def extracted_by_other(self, extractor: str, patient_id: int | None = None) -> list[int]:
        """Accepted versions whose facts another extractor made (say, the parsers alone before a model was there)."""
        where = "AND e.patient_id = ?" if patient_id is not None else ""
        params: list[Any] = [extractor] + ([patient_id] if patient_id is not None else [])
        rows = self._db.all(
            "SELECT v.id FROM note_versions v JOIN notes n ON n.id = v.note_id "
            "JOIN encounters e ON e.id = n.encounter_id JOIN note_facts f ON f.note_version_id = v.id "
            f"WHERE v.status = 'accepted' AND f.status = 'done' AND f.extractor != ? {where} ORDER BY v.id",
            params,
        )
        return [int(r[0]) for r in rows]

    def patient_notes(self, patient_id: int) -> list[NoteFactsRow]:
        """The summary's one query: the patient's accepted versions and each note's latest version if it is a draft,
        with their facts, oldest encounter first."""
        return [_row(r) for r in self._db.all(_PATIENT_NOTES, (patient_id,))]

    def _write(
        self,
        note_version_id: int,
        status: ExtractionStatus,
        facts_json: str | None,
        extractor: str | None,
        error: str,
    ) -> None:
        now = to_db_time(self._clock())
        with self._db.transaction("save the note's summary facts"):
            if self._db.scalar("SELECT 1 FROM note_versions WHERE id = ?", (note_version_id,)) is None:
                raise RecordNotFound("note version", note_version_id)
            existed = self._db.scalar("SELECT 1 FROM note_facts WHERE note_version_id = ?", (note_version_id,))
            # Facts and extractor stay as they were unless new ones are given (a failed retry keeps nothing new).
            self._db.execute(
                "INSERT INTO note_facts(note_version_id, status, facts_json, extractor, error, updated_at) "
                "VALUES (?, ?, coalesce(?, '[]'), coalesce(?, ''), ?, ?) "
                "ON CONFLICT(note_version_id) DO UPDATE SET status = excluded.status, "
                "facts_json = coalesce(?, note_facts.facts_json), extractor = coalesce(?, note_facts.extractor), "
                "error = excluded.error, updated_at = excluded.updated_at",
                (note_version_id, status.value, facts_json, extractor, error, now, facts_json, extractor),
                "save the note's summary facts",
            )
            self._audit.record(AuditAction.UPDATE if existed else AuditAction.CREATE, "note_facts", note_version_id)
