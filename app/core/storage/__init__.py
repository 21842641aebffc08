"""The encrypted clinical store (SQLCipher): `Store` (life cycle), repositories (the only SQL), `StoreWorker`
(the one thread that owns the connection). See docs/storage.md.

Importing this package does not load SQLCipher; unlocking or creating a store does (a missing library is an
`EngineUnavailable` with a hint then).
"""

from app.core.storage.audit import AuditAction, AuditLog
from app.core.storage.connection import StoreLocked
from app.core.storage.export import PLAINTEXT_WARNING
from app.core.storage.opening import StoreDamaged
from app.core.storage.passphrase import PassphraseCheck, WeakPassphrase, check_passphrase
from app.core.storage.patients import RecordNotFound
from app.core.storage.records import (
    AuditEntry,
    BackupInfo,
    CheckReport,
    DamageReport,
    Encounter,
    EncounterOverview,
    EncounterStatus,
    Message,
    MessageRole,
    MessageTimings,
    Note,
    NoteAuthor,
    NoteKind,
    NoteStatus,
    NoteVersion,
    Patient,
    PatientOverview,
    RedactionMap,
    SalvageReport,
    TableDamage,
    Transcript,
)
from app.core.storage.store import DB_FILE_NAME, Repositories, Store
from app.core.storage.worker import IdleTimer, StoreWorker

__all__ = [
    "DB_FILE_NAME",
    "PLAINTEXT_WARNING",
    "AuditAction",
    "AuditEntry",
    "AuditLog",
    "BackupInfo",
    "CheckReport",
    "DamageReport",
    "Encounter",
    "EncounterOverview",
    "EncounterStatus",
    "IdleTimer",
    "Message",
    "MessageRole",
    "MessageTimings",
    "Note",
    "NoteAuthor",
    "NoteKind",
    "NoteStatus",
    "NoteVersion",
    "PassphraseCheck",
    "Patient",
    "PatientOverview",
    "RecordNotFound",
    "RedactionMap",
    "Repositories",
    "SalvageReport",
    "Store",
    "StoreDamaged",
    "StoreLocked",
    "StoreWorker",
    "TableDamage",
    "Transcript",
    "WeakPassphrase",
    "check_passphrase",
]
