"""What happens inside an encounter: transcripts, chat messages, notes with versions, and redaction maps.
The only SQL that touches these tables."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from app.core.errors import InputError
from app.core.storage.audit import AuditAction, AuditLog
from app.core.storage.connection import Database
from app.core.storage.patients import RecordNotFound
from app.core.storage.records import (
    Message,
    MessageRole,
    MessageTimings,
    Note,
    NoteAuthor,
    NoteKind,
    NoteStatus,
    NoteVersion,
    RedactionMap,
    Transcript,
)
from app.core.storage.schema import from_db_time, to_db_time, utc_now


class _EncounterScoped:
    def __init__(self, db: Database, audit: AuditLog, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._audit = audit
        self._clock = clock

    def _require_encounter(self, encounter_id: int) -> None:
        if self._db.scalar("SELECT 1 FROM encounters WHERE id = ?", (encounter_id,)) is None:
            raise RecordNotFound("encounter", encounter_id)


_TRANSCRIPT_COLUMNS = "id, encounter_id, raw_text, edited_text, language, duration_s, created_at, updated_at"


def _transcript(r: tuple[Any, ...]) -> Transcript:
    return Transcript(
        id=r[0], encounter_id=r[1], raw_text=r[2], edited_text=r[3], language=r[4], duration_s=r[5],
        created_at=from_db_time(r[6]), updated_at=from_db_time(r[7]),
    )


class TranscriptRepository(_EncounterScoped):
    def add(
        self, encounter_id: int, raw_text: str, *, language: str = "", duration_s: float | None = None
    ) -> Transcript:
        now = to_db_time(self._clock())
        with self._db.transaction("save the transcript"):
            self._require_encounter(encounter_id)
            cursor = self._db.execute(
                "INSERT INTO transcripts(encounter_id, raw_text, language, duration_s, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (encounter_id, raw_text, language, duration_s, now, now),
                "save the transcript",
            )
            transcript_id = int(cursor.lastrowid)
            self._audit.record(AuditAction.CREATE, "transcript", transcript_id)
        return self.get(transcript_id)

    def set_edited(self, transcript_id: int, edited_text: str) -> Transcript:
        """The doctor's corrected text; the raw recognition is kept beside it."""
        with self._db.transaction("save the edited transcript"):
            self.get(transcript_id)
            self._db.execute(
                "UPDATE transcripts SET edited_text = ?, updated_at = ? WHERE id = ?",
                (edited_text, to_db_time(self._clock()), transcript_id),
            )
            self._audit.record(AuditAction.UPDATE, "transcript", transcript_id)
        return self.get(transcript_id)

    def get(self, transcript_id: int) -> Transcript:
        row = self._db.one(f"SELECT {_TRANSCRIPT_COLUMNS} FROM transcripts WHERE id = ?", (transcript_id,))
        if row is None:
            raise RecordNotFound("transcript", transcript_id)
        return _transcript(row)

    def for_encounter(self, encounter_id: int) -> list[Transcript]:
        rows = self._db.all(
            f"SELECT {_TRANSCRIPT_COLUMNS} FROM transcripts WHERE encounter_id = ? ORDER BY id", (encounter_id,)
        )
        return [_transcript(r) for r in rows]


_MESSAGE_COLUMNS = (
    "id, encounter_id, role, redacted_content, display_content, model, prompt_tokens, completion_tokens, "
    "first_token_s, total_s, created_at"
)


def _message(r: tuple[Any, ...]) -> Message:
    return Message(
        id=r[0], encounter_id=r[1], role=MessageRole(r[2]), redacted_content=r[3], display_content=r[4], model=r[5],
        timings=MessageTimings(r[6], r[7], r[8], r[9]), created_at=from_db_time(r[10]),
    )


class MessageRepository(_EncounterScoped):
    def add(
        self,
        encounter_id: int,
        role: MessageRole,
        redacted_content: str,
        display_content: str,
        *,
        model: str = "",
        timings: MessageTimings | None = None,
    ) -> Message:
        """`redacted_content`: exactly what the model saw or produced. `display_content`: what the doctor saw."""
        t = timings or MessageTimings()
        with self._db.transaction("save the message"):
            self._require_encounter(encounter_id)
            cursor = self._db.execute(
                f"INSERT INTO messages({_MESSAGE_COLUMNS.split(', ', 1)[1]}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (encounter_id, MessageRole(role).value, redacted_content, display_content, model, t.prompt_tokens,
                 t.completion_tokens, t.first_token_s, t.total_s, to_db_time(self._clock())),
                "save the message",
            )
            message_id = int(cursor.lastrowid)
            self._audit.record(AuditAction.CREATE, "message", message_id)
        return self.get(message_id)

    def get(self, message_id: int) -> Message:
        row = self._db.one(f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,))
        if row is None:
            raise RecordNotFound("message", message_id)
        return _message(row)

    def for_encounter(self, encounter_id: int) -> list[Message]:
        rows = self._db.all(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE encounter_id = ? ORDER BY id", (encounter_id,)
        )
        return [_message(r) for r in rows]

    def count(self) -> int:
        return int(self._db.scalar("SELECT count(*) FROM messages"))


_VERSION_COLUMNS = "id, note_id, version, status, text, author, model, created_at"


def _version(r: tuple[Any, ...]) -> NoteVersion:
    return NoteVersion(
        id=r[0], note_id=r[1], version=r[2], status=NoteStatus(r[3]), text=r[4], author=NoteAuthor(r[5]),
        model=r[6], created_at=from_db_time(r[7]),
    )


class NoteRepository(_EncounterScoped):
    """A note (SOAP, summary, letter) is a series of versions: the model's draft, the doctor's edits, and at most
    one accepted version at a time (accepting another marks the previous one superseded)."""

    def create(
        self, encounter_id: int, kind: NoteKind, text: str, *, author: NoteAuthor = NoteAuthor.MODEL, model: str = ""
    ) -> Note:
        now = to_db_time(self._clock())
        with self._db.transaction("save the note"):
            self._require_encounter(encounter_id)
            cursor = self._db.execute(
                "INSERT INTO notes(encounter_id, kind, created_at) VALUES (?, ?, ?)",
                (encounter_id, NoteKind(kind).value, now),
                "save the note",
            )
            note_id = int(cursor.lastrowid)
            self._insert_version(note_id, 1, text, author, model)
            self._audit.record(AuditAction.CREATE, "note", note_id)
        return self.get(note_id)

    def add_version(self, note_id: int, text: str, *, author: NoteAuthor = NoteAuthor.DOCTOR, model: str = "") -> Note:
        with self._db.transaction("save the note"):
            latest = self.get(note_id).latest.version
            self._insert_version(note_id, latest + 1, text, author, model)
            self._audit.record(AuditAction.UPDATE, "note", note_id)
        return self.get(note_id)

    def accept(self, note_id: int, version: int | None = None) -> Note:
        """Accept `version` (default: the latest)."""
        with self._db.transaction("accept the note"):
            note = self.get(note_id)
            version = version or note.latest.version
            exists = self._db.scalar(
                "SELECT 1 FROM note_versions WHERE note_id = ? AND version = ?", (note_id, version)
            )
            if exists is None:
                raise InputError(f"Note {note_id} has no version {version}", "Pick one of its versions")
            self._db.execute(
                "UPDATE note_versions SET status = 'superseded' WHERE note_id = ? AND status = 'accepted'", (note_id,)
            )
            self._db.execute(
                "UPDATE note_versions SET status = 'accepted' WHERE note_id = ? AND version = ?", (note_id, version)
            )
            self._audit.record(AuditAction.ACCEPT, "note", note_id)
        return self.get(note_id)

    def unaccept(self, note_id: int) -> Note:
        """Undo an acceptance: the accepted version goes back to draft (the doctor's "Undo acceptance")."""
        with self._db.transaction("undo the acceptance"):
            self.get(note_id)
            self._db.execute(
                "UPDATE note_versions SET status = 'draft' WHERE note_id = ? AND status = 'accepted'", (note_id,)
            )
            self._audit.record(AuditAction.UNACCEPT, "note", note_id)
        return self.get(note_id)

    def get(self, note_id: int) -> Note:
        row = self._db.one("SELECT id, encounter_id, kind, created_at FROM notes WHERE id = ?", (note_id,))
        if row is None:
            raise RecordNotFound("note", note_id)
        return self._note(row)

    def versions(self, note_id: int) -> list[NoteVersion]:
        rows = self._db.all(
            f"SELECT {_VERSION_COLUMNS} FROM note_versions WHERE note_id = ? ORDER BY version", (note_id,)
        )
        return [_version(r) for r in rows]

    def for_encounter(self, encounter_id: int) -> list[Note]:
        rows = self._db.all(
            "SELECT id, encounter_id, kind, created_at FROM notes WHERE encounter_id = ? ORDER BY id", (encounter_id,)
        )
        return [self._note(r) for r in rows]

    def _note(self, row: tuple[Any, ...]) -> Note:
        latest = self._db.one(
            f"SELECT {_VERSION_COLUMNS} FROM note_versions WHERE note_id = ? ORDER BY version DESC LIMIT 1", (row[0],)
        )
        if latest is None:  # cannot happen through this API: a note is created with its first version
            raise RecordNotFound("note version", row[0])
        accepted = self._db.scalar(
            "SELECT version FROM note_versions WHERE note_id = ? AND status = 'accepted'", (row[0],)
        )
        return Note(
            id=row[0], encounter_id=row[1], kind=NoteKind(row[2]), created_at=from_db_time(row[3]),
            latest=_version(latest), accepted_version=accepted,
        )

    def _insert_version(self, note_id: int, version: int, text: str, author: NoteAuthor, model: str) -> None:
        self._db.execute(
            "INSERT INTO note_versions(note_id, version, status, text, author, model, created_at) "
            "VALUES (?, ?, 'draft', ?, ?, ?, ?)",
            (note_id, version, text, NoteAuthor(author).value, model, to_db_time(self._clock())),
            "save the note",
        )


class RedactionMapRepository(_EncounterScoped):
    """One map per encounter, as the JSON text the redaction layer writes (`to_json`) and reads (`from_json`)."""

    def save(self, encounter_id: int, map_json: str) -> RedactionMap:
        try:
            json.loads(map_json)
        except ValueError:
            raise InputError("The redaction map is not valid JSON", "This is a bug in the caller") from None
        now = to_db_time(self._clock())
        with self._db.transaction("save the redaction map"):
            self._require_encounter(encounter_id)
            existed = self._db.scalar("SELECT 1 FROM redaction_maps WHERE encounter_id = ?", (encounter_id,))
            self._db.execute(
                "INSERT INTO redaction_maps(encounter_id, map_json, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(encounter_id) DO UPDATE SET "
                "map_json = excluded.map_json, updated_at = excluded.updated_at",
                (encounter_id, map_json, now),
                "save the redaction map",
            )
            action = AuditAction.UPDATE if existed else AuditAction.CREATE
            self._audit.record(action, "redaction_map", encounter_id)
        return RedactionMap(encounter_id, map_json, from_db_time(now))

    def get(self, encounter_id: int) -> RedactionMap | None:
        row = self._db.one(
            "SELECT encounter_id, map_json, updated_at FROM redaction_maps WHERE encounter_id = ?", (encounter_id,)
        )
        return RedactionMap(row[0], row[1], from_db_time(row[2])) if row else None
