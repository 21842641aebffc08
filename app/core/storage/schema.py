"""The schema, as numbered migrations, and how values are written to it.

Each migration runs in its own transaction and records itself in `schema_version`; a migration is never edited
once released, a new one is added. Tests build the store at version N-1 with data, migrate, and check the data.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from app.core.errors import StorageError
from app.core.storage.connection import Database

_V1 = """
CREATE TABLE schema_version (
    version INTEGER PRIMARY KEY,
    applied_at TEXT NOT NULL,
    description TEXT NOT NULL
);
-- Settings of the file itself (cipher parameters, creation time). Never patient data.
CREATE TABLE store_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE patients (
    id INTEGER PRIMARY KEY,
    family_name TEXT NOT NULL,
    given_names TEXT NOT NULL DEFAULT '',
    date_of_birth TEXT,
    mrn TEXT UNIQUE,
    sex TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX patients_date_of_birth ON patients(date_of_birth);
CREATE TABLE encounters (
    id INTEGER PRIMARY KEY,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    started_at TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX encounters_patient_started ON encounters(patient_id, started_at);
CREATE TABLE transcripts (
    id INTEGER PRIMARY KEY,
    encounter_id INTEGER NOT NULL REFERENCES encounters(id),
    raw_text TEXT NOT NULL,
    edited_text TEXT,
    language TEXT NOT NULL DEFAULT '',
    duration_s REAL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX transcripts_encounter ON transcripts(encounter_id);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    encounter_id INTEGER NOT NULL REFERENCES encounters(id),
    role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    redacted_content TEXT NOT NULL,
    display_content TEXT NOT NULL,
    model TEXT NOT NULL DEFAULT '',
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    first_token_s REAL,
    total_s REAL,
    created_at TEXT NOT NULL
);
CREATE INDEX messages_encounter ON messages(encounter_id, id);
CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    encounter_id INTEGER NOT NULL REFERENCES encounters(id),
    kind TEXT NOT NULL CHECK (kind IN ('soap', 'summary', 'letter', 'other')),
    created_at TEXT NOT NULL
);
CREATE INDEX notes_encounter ON notes(encounter_id);
CREATE TABLE note_versions (
    id INTEGER PRIMARY KEY,
    note_id INTEGER NOT NULL REFERENCES notes(id),
    version INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'accepted', 'superseded')),
    text TEXT NOT NULL,
    author TEXT NOT NULL CHECK (author IN ('model', 'doctor')),
    model TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    UNIQUE (note_id, version)
);
CREATE TABLE redaction_maps (
    encounter_id INTEGER PRIMARY KEY REFERENCES encounters(id),
    map_json TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    os_user TEXT NOT NULL,
    action TEXT NOT NULL,
    record_type TEXT NOT NULL,
    record_id INTEGER
);
CREATE INDEX audit_log_at ON audit_log(at);
-- The audit log is append-only for the app: a bug cannot rewrite history.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'append-only'); END;
"""

# Version 2: search keys, so a search for "muller" finds "Müller", and identifiers beyond the MRN.
_V2 = """
ALTER TABLE patients ADD COLUMN search_name TEXT NOT NULL DEFAULT '';
ALTER TABLE patients ADD COLUMN search_mrn TEXT;
-- Not UNIQUE: two version-1 MRNs may differ only in case or dashes, and a migration must not fail on old data.
-- The repository refuses new look-alike MRNs.
CREATE INDEX patients_search_mrn ON patients(search_mrn);
CREATE TABLE patient_identifiers (
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    search_value TEXT NOT NULL,
    PRIMARY KEY (patient_id, kind)
);
CREATE INDEX patient_identifiers_search ON patient_identifiers(search_value);
"""

# Version 3: the facts extracted from accepted note versions (the patient summary's raw material), one row per note
# version with its extraction status. No foreign key on purpose: the facts are derived data that can always be
# extracted again, and salvage must never need a stand-in note version (whose CHECKed columns it cannot invent) for
# facts whose version was lost. The summary reaches them through note_versions, so orphans are never shown.
_V3 = """
CREATE TABLE note_facts (
    note_version_id INTEGER PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    facts_json TEXT NOT NULL DEFAULT '[]',
    extractor TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
);
"""

# Version 4: secrets the app needs and the settings file must not hold (the clinic server's API key), encrypted with
# the rest of the store. One row per secret, by name; the audit log records that a secret changed, never its value.
_V4 = """
CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""


# Latin letters that carry no combining mark to strip (so NFKD leaves them as they are).
_UNDECOMPOSABLE = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ı": "i", "æ": "ae", "œ": "oe", "þ": "th"})


def search_key(text: str) -> str:
    """Accents and case folded away, words separated by single spaces, padded so that `LIKE '% smi%'` matches the
    start of any word. Changing this function needs a migration that recomputes the stored keys."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_UNDECOMPOSABLE)
    return " " + " ".join(re.findall(r"\w+", plain)) + " "


def identifier_key(value: str) -> str:
    """MRNs and other identifiers compare without case, spaces or dashes ("ab-12 34" == "AB1234")."""
    return re.sub(r"[\s\-./]", "", value).casefold()


def _run_script(db: Database, script: str) -> None:
    # executescript would COMMIT our transaction; run the statements one by one inside it instead.
    for statement in _statements(script):
        db.execute(statement, (), "update the database layout")


def _statements(script: str) -> list[str]:
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    text = "\n".join(lines)
    parts: list[str] = []
    buffer = ""
    for chunk in text.split(";"):
        buffer += chunk
        # A trigger body holds its own semicolons: wait for its END.
        if buffer.strip().upper().startswith("CREATE TRIGGER") and not buffer.rstrip().upper().endswith("END"):
            buffer += ";"
            continue
        if buffer.strip():
            parts.append(buffer.strip())
        buffer = ""
    return parts


def _v2_backfill(db: Database) -> None:
    _run_script(db, _V2)
    rows = db.all("SELECT id, family_name, given_names, mrn FROM patients")
    db.executemany(
        "UPDATE patients SET search_name = ?, search_mrn = ? WHERE id = ?",
        [
            (search_key(f"{family} {given}"), identifier_key(mrn) if mrn else None, pid)
            for pid, family, given, mrn in rows
        ],
    )


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Database], None]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "core tables", lambda db: _run_script(db, _V1)),
    Migration(2, "patient search keys and other identifiers", _v2_backfill),
    Migration(3, "facts extracted from accepted notes", lambda db: _run_script(db, _V3)),
    Migration(4, "secrets kept out of the settings file", lambda db: _run_script(db, _V4)),
)
LATEST_VERSION = MIGRATIONS[-1].version


def schema_version(db: Database) -> int:
    """0 for a new, empty file."""
    if db.scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'") == 0:
        return 0
    return int(db.scalar("SELECT coalesce(max(version), 0) FROM schema_version"))


def ensure_not_newer(version: int) -> None:
    if version > LATEST_VERSION:
        raise StorageError(
            f"This database was written by a newer Clinic Assistant (layout version {version}; this one reads up to "
            f"{LATEST_VERSION}). Nothing was changed",
            "Install the newer version of Clinic Assistant, or restore a backup made with this version",
        )


def migrate(db: Database, target: int = LATEST_VERSION) -> list[int]:
    """Apply the pending migrations up to `target`, each all-or-nothing. Returns the versions applied."""
    current = schema_version(db)
    ensure_not_newer(current)
    applied: list[int] = []
    for migration in MIGRATIONS:
        if current < migration.version <= target:
            with db.transaction("update the database layout"):
                migration.apply(db)
                db.execute(
                    "INSERT INTO schema_version(version, applied_at, description) VALUES (?, ?, ?)",
                    (migration.version, to_db_time(utc_now()), migration.description),
                )
            applied.append(migration.version)
    return applied


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_db_time(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("times stored must be timezone-aware")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def to_db_date(value: date | None) -> str | None:
    return value.isoformat() if value else None


def from_db_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
