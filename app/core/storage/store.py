"""`Store`: the encrypted clinical database's life cycle — create, unlock, lock, check — and its repositories.

Backup, restore and passphrase change live in `maintenance.py` (they replace or copy whole files).

One thread owns a `Store` once it is unlocked (SQLite connections refuse calls from other threads); the GUI and
the pipeline reach it through `StoreWorker`. Locking closes the connection, which makes SQLCipher wipe its copy
of the key; this class never keeps the passphrase or the key after a call returns.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from app.core.config import Settings
from app.core.errors import StorageError, WrongPassphrase
from app.core.storage.audit import AuditAction, AuditLog, current_os_user
from app.core.storage.cipher import (
    SQLCIPHER_DEFAULT_KDF_ITER,
    CipherParams,
    KeyFile,
    KeyRecord,
    check_value,
    cipher_settings,
    derive_key,
    fsync_dir,
    key_spec,
    new_salt,
    passphrase_bytes,
    wipe,
)
from app.core.storage.clinical import MessageRepository, NoteRepository, RedactionMapRepository, TranscriptRepository
from app.core.storage.connection import (
    Database,
    StoreLocked,
    configure_for_writing,
    load_sqlcipher,
    open_encrypted,
    storage_error,
)
from app.core.storage.export import patient_notes_text
from app.core.storage.facts import FactRepository
from app.core.storage.files import PartialFiles, create_private, remove_db_files
from app.core.storage.opening import (
    OpenedFile,
    StoreDamaged,
    close_quietly,
    damaged_pages,
    is_damaged,
    open_with_key,
    open_with_passphrase,
    verify_contents,
)
from app.core.storage.passphrase import UnlockThrottle, require_strong
from app.core.storage.patients import EncounterRepository, PatientRepository
from app.core.storage.records import BackupInfo, CheckReport, SalvageReport
from app.core.storage.schema import LATEST_VERSION, ensure_not_newer, migrate, schema_version, utc_now
from app.core.storage.secrets import SecretRepository

log = logging.getLogger(__name__)

DB_FILE_NAME = "clinic.db"
COUNTED_TABLES = (
    "patients", "encounters", "transcripts", "messages", "notes", "note_versions", "redaction_maps", "audit_log",
)
# Encrypted leftovers of an interrupted rekey/restore: safe to delete at the next unlock. (Partial copies: files.py.)
LEFTOVER_SUFFIXES = (".rekey", ".restoring")


@dataclass(frozen=True)
class Repositories:
    """Everything that reads or writes records. `db.transaction()` groups several calls into one commit."""

    db: Database
    patients: PatientRepository
    encounters: EncounterRepository
    transcripts: TranscriptRepository
    messages: MessageRepository
    notes: NoteRepository
    redaction_maps: RedactionMapRepository
    audit: AuditLog
    facts: FactRepository  # facts extracted from accepted notes, for the patient summary
    secrets: SecretRepository  # the clinic server's API key: kept here, never in the settings file


class Store:
    """The encrypted store at `<data_dir>/clinic.db`.

    `kdf_iterations` applies to stores created (and passphrases changed) from now on; existing files open with the
    settings recorded for them. Settings enforce at least 64,000; tests may pass less here to stay fast.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        kdf_iterations: int = SQLCIPHER_DEFAULT_KDF_ITER,
        os_user: str | None = None,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / DB_FILE_NAME
        self.params = CipherParams(kdf_iter=kdf_iterations)
        self.key_file = KeyFile(self.path)
        self.throttle = UnlockThrottle(self.path.with_name(self.path.name + ".attempts.json"), sleep)
        self.partials = PartialFiles(self.path.with_name(self.path.name + ".partials.json"), self.data_dir)
        self.os_user = os_user or current_os_user()
        self.clock = clock
        self.salt: bytes | None = None
        self.db = Database()
        audit = AuditLog(self.db, self.os_user, clock)
        self._repos = Repositories(
            db=self.db,
            patients=PatientRepository(self.db, audit, clock),
            encounters=EncounterRepository(self.db, audit, clock),
            transcripts=TranscriptRepository(self.db, audit, clock),
            messages=MessageRepository(self.db, audit, clock),
            notes=NoteRepository(self.db, audit, clock),
            redaction_maps=RedactionMapRepository(self.db, audit, clock),
            audit=audit,
            facts=FactRepository(self.db, audit, clock),
            secrets=SecretRepository(self.db, audit, clock),
        )

    @classmethod
    def from_settings(cls, settings: Settings, data_dir: Path) -> Store:
        return cls(data_dir, kdf_iterations=settings.storage.kdf_iterations)

    @classmethod
    def open(cls, data_dir: Path, passphrase: str, **kwargs: Any) -> Store:
        """An unlocked store (convenience for scripts and tests)."""
        store = cls(data_dir, **kwargs)
        store.unlock(passphrase)
        return store

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- state -------------------------------------------------------------------------------------------------

    def exists(self) -> bool:
        return self.path.is_file()

    @property
    def is_unlocked(self) -> bool:
        return self.db.is_open

    def repositories(self) -> Repositories:
        if not self.db.is_open:
            raise StoreLocked()
        return self._repos

    # --- life cycle --------------------------------------------------------------------------------------------

    def create(self, passphrase: str) -> None:
        """First run: a new, empty store, unlocked. Built under a temporary name and renamed when complete, so a
        crash never leaves half a store behind."""
        if self.exists():
            raise StorageError(
                f"A store already exists in {self.data_dir}", "Unlock it, or choose another data folder with --data-dir"
            )
        require_strong(passphrase)
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.remove_leftovers()
        building = self.path.with_name(self.path.name + ".creating")
        salt = new_salt()
        secret = passphrase_bytes(passphrase)
        key = derive_key(secret, salt, self.params)
        wipe(secret)
        spec = key_spec(key, salt)
        try:
            create_private(building)  # owner-only from the first byte, and so are SQLite's -wal and -shm beside it
            conn = open_encrypted(building, spec, self.params, create=True)
            self.db.attach(conn, load_sqlcipher().Error)
            try:
                configure_for_writing(conn)
                migrate(self.db)
                self._record_cipher_settings(self.params)
            finally:
                close_quietly(self.db.detach())
            os.chmod(building, 0o600)
            self.key_file.remember(salt, KeyRecord(self.params, check_value(key)), keep_only=True)
            os.replace(building, self.path)
            fsync_dir(self.data_dir)
            self.attach_opened(open_with_key(self.path, key, self.params, salt))
        except OSError as exc:
            raise storage_error(exc, "create the store") from None
        finally:
            wipe(spec)
            wipe(key)
            remove_db_files(building)
        self._repos.audit.record(AuditAction.CREATE_STORE, "store")
        log.info("created a new store (kdf_iter %d)", self.params.kdf_iter)

    def unlock(self, passphrase: str | bytes | bytearray) -> None:
        """Open the store with its passphrase. A wrong one raises `WrongPassphrase` (after a growing delay when it
        keeps happening) and leaves the file untouched. A store with damaged pages raises `StoreDamaged` (nothing
        is written to it); `salvage` then copies what can be read."""
        if self.is_unlocked:
            self.lock()
        self.remove_leftovers()
        try:
            opened = open_with_passphrase(self.path, passphrase, [self.key_file], self.params)
        except WrongPassphrase:
            self.throttle.record_failure()
            raise
        self.throttle.reset()
        self.attach_opened(opened)
        try:
            # Also the first write of the session: a read-only disk shows up here, and then we stay locked.
            self._repos.audit.record(AuditAction.UNLOCK, "store")
        except BaseException:
            self.detach_connection()
            raise

    def lock(self) -> None:
        """Close the connection (SQLCipher wipes its key material); repositories raise `StoreLocked` until the next
        unlock. Safe to call when already locked."""
        if not self.db.is_open:
            return
        with contextlib.suppress(StorageError):
            self._repos.audit.record(AuditAction.LOCK, "store")
        self.detach_connection()

    close = lock

    def detach_connection(self) -> None:
        conn = self.db.detach()
        if conn is not None:
            with contextlib.suppress(Exception):
                # Fold the WAL back into the file now, so nothing lingers in a -wal file after locking.
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            close_quietly(conn)
        self.salt = None

    def attach_opened(self, opened: OpenedFile) -> None:
        """Checks that write nothing come first; only a file we accept is switched to WAL and migrated."""
        wipe(opened.key)
        self.db.attach(opened.conn, load_sqlcipher().Error)
        self.salt = opened.salt
        try:
            # SQLite's quick check reads every page of every table and index, so a damaged page shows up here,
            # before anything is written.
            if is_damaged(opened.conn):
                raise self._damage_error(opened.conn, opened.params)
            version = schema_version(self.db)
            ensure_not_newer(version)
            if version == 0:
                raise StorageError(
                    "This encrypted file is not a Clinic Assistant store. Nothing was changed", "Choose the right file"
                )
            configure_for_writing(opened.conn)
            if version < LATEST_VERSION:
                self._copy_before_migration(version)
                migrate(self.db)
                self._repos.audit.record(AuditAction.MIGRATE, "store", LATEST_VERSION)
            self._record_cipher_settings(opened.params)
            recorded = self.key_file.lookup(opened.salt)
            if recorded is None or recorded.check != opened.check or recorded.params != opened.params:
                self.key_file.remember(opened.salt, KeyRecord(opened.params, opened.check))
        except BaseException:
            close_quietly(self.db.detach())
            self.salt = None
            raise
        for suffix in LEFTOVER_SUFFIXES:
            remove_db_files(self.path.with_name(self.path.name + suffix))

    def _damage_error(self, conn: Any, params: CipherParams) -> StoreDamaged:
        bad = damaged_pages(conn)
        return StoreDamaged(len(bad), self.path.stat().st_size // params.page_size)

    def remove_leftovers(self) -> None:
        """Partial copies that a killed process left behind (owner-only, encrypted; see files.py)."""
        self.partials.sweep()

    def _copy_before_migration(self, version: int) -> None:
        """An encrypted copy of the file as it was, so a failed or regretted migration can be undone."""
        from app.core.storage.maintenance import export_copy

        target = self.path.with_name(f"{self.path.name}.before-v{LATEST_VERSION}-from-v{version}")
        if not target.exists():
            export_copy(self, target)
            log.info("kept a copy of the store before migrating from version %d", version)

    def _record_cipher_settings(self, params: CipherParams) -> None:
        """The cipher settings inside the database too, next to SQLCipher's own version (never patient data)."""
        current = dict(self.db.all("SELECT key, value FROM store_settings WHERE key LIKE 'cipher.%'"))
        wanted = cipher_settings(params, current.get("cipher.sqlcipher_version", ""))
        if all(current.get(k) == v for k, v in wanted.items()):
            return
        wanted["cipher.sqlcipher_version"] = str(self.db.scalar("PRAGMA cipher_version"))
        with self.db.transaction("record the cipher settings"):
            self.db.executemany(
                "INSERT INTO store_settings(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                sorted(wanted.items()),
            )

    # --- whole-file operations (maintenance.py) ----------------------------------------------------------------

    def backup(self, dest: Path, *, overwrite: bool = False) -> BackupInfo:
        from app.core.storage.maintenance import backup

        return backup(self, dest, overwrite=overwrite)

    def restore(self, src: Path, passphrase: str, *, replace_existing: bool = False) -> BackupInfo:
        """Works locked or unlocked; leaves the store unlocked with the backup's passphrase."""
        from app.core.storage.maintenance import restore

        return restore(self, src, passphrase, replace_existing=replace_existing)

    def rekey(self, current: str, new: str) -> None:
        """Change the passphrase (atomically; the configured KDF iterations apply to the new key)."""
        from app.core.storage.maintenance import change_passphrase

        change_passphrase(self, current, new)

    # --- a damaged store (salvage.py) --------------------------------------------------------------------------

    def open_readonly(self, passphrase: str | bytes | bytearray) -> OpenedFile:
        """The file opened read-only with its passphrase, damaged or not (for inspection and salvage). A wrong
        passphrase counts like a failed unlock. The caller closes the connection and wipes the key."""
        if not self.exists():
            raise StorageError(f"There is no store in {self.data_dir}", "Create one with 'clinic-assistant store init'")
        try:
            opened = open_with_passphrase(self.path, passphrase, [self.key_file], self.params, readonly=True)
        except WrongPassphrase:
            self.throttle.record_failure()
            raise
        self.throttle.reset()
        return opened

    @contextlib.contextmanager
    def reading(self, passphrase: str | bytes | bytearray) -> Iterator[OpenedFile]:
        """`open_readonly` for the length of a block; afterwards the connection is closed, the key wiped, and the
        -wal/-shm files that read-only connections leave are removed if they were not there before."""
        from app.core.storage.salvage import tidy_wal

        wal_existed = Path(f"{self.path}-wal").exists()
        opened = self.open_readonly(passphrase)
        try:
            yield opened
        finally:
            close_quietly(opened.conn)
            if not wal_existed:
                tidy_wal(self.path, opened.key, opened.params)
            wipe(opened.key)

    def inspect_damage(self, passphrase: str) -> CheckReport:
        """`check` for a store that cannot be unlocked because pages are damaged: which tables and rows they cost,
        and the rows that can still be read. Reads only."""
        from app.core.storage.salvage import read_settings, scan

        with self.reading(passphrase) as opened:
            integrity = [] if damaged_pages(opened.conn) else [str(r[0]) for r in _quick_check(opened.conn)]
            close_quietly(opened.conn)
            report, readable = scan(self.path, opened.key, opened.params)
            version, cipher = read_settings(self.path, opened.key, opened.params)
        return CheckReport(
            ok=not (report.damaged_pages or report.tables or integrity),
            schema_version=version,
            integrity_errors=integrity,
            cipher_errors=[f"HMAC verification failed for page {page}" for page in report.damaged_pages],
            foreign_key_errors=0,
            counts={t: readable[t] for t in COUNTED_TABLES if t in readable},
            cipher=cipher,
            file_bytes=self.path.stat().st_size,
            damage=report,
        )

    def salvage(
        self, out: Path, passphrase: str, *, new_passphrase: str | None = None, overwrite: bool = False
    ) -> SalvageReport:
        """Copy every row that can be read into a new encrypted store at `out` (see salvage.py). Works on a locked
        store; the store's own file is only read."""
        from app.core.storage.salvage import salvage

        self.remove_leftovers()
        return salvage(self, passphrase, out, new_passphrase=new_passphrase, overwrite=overwrite)

    # --- checks and exports ------------------------------------------------------------------------------------

    def counts(self, schema: str = "main") -> dict[str, int]:
        """Rows per table (tables an older layout lacks are left out)."""
        present = {r[0] for r in self.db.all(f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table'")}
        return {t: int(self.db.scalar(f"SELECT count(*) FROM {schema}.{t}")) for t in COUNTED_TABLES if t in present}

    def check(self) -> CheckReport:
        """Full integrity check: SQLite's structure check, SQLCipher's HMAC of every page, foreign keys."""
        self.repositories()
        conn = self.db.conn
        integrity, cipher_errors = verify_contents(
            conn, deep=True, on_damage=lambda: self._damage_error(conn, self.params)
        )
        if cipher_errors:  # a page fails its HMAC: say which records that costs (`inspect_damage`)
            raise self._damage_error(conn, self.params)
        foreign_key_errors = len(self.db.all("PRAGMA foreign_key_check"))
        settings = dict(self.db.all("SELECT key, value FROM store_settings WHERE key LIKE 'cipher.%'"))
        cipher = {k.removeprefix("cipher."): v for k, v in settings.items()}
        version = schema_version(self.db)
        return CheckReport(
            ok=not integrity and not cipher_errors and not foreign_key_errors,
            schema_version=version,
            integrity_errors=integrity,
            cipher_errors=cipher_errors,
            foreign_key_errors=foreign_key_errors,
            counts=self.counts(),
            cipher=cipher,
            file_bytes=self.path.stat().st_size,
        )

    def export_patient_text(self, patient_id: int) -> str:
        """A patient's notes as plain text, for an explicit export by the user (see export.PLAINTEXT_WARNING).
        Audited."""
        repos = self.repositories()
        text = patient_notes_text(
            repos.patients, repos.encounters, repos.notes, patient_id, self.clock(), self.os_user
        )
        repos.audit.record(AuditAction.EXPORT, "patient", patient_id)
        return text


def _quick_check(conn: Any) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = [r for r in conn.execute("PRAGMA quick_check(20)").fetchall() if r[0] != "ok"]
    return rows
