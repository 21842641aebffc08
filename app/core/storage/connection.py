"""The database connection: opening an encrypted file, the pragmas that keep plaintext off the disk, transactions,
and turning SQLite failures into `StorageError`s a doctor can act on.

`Database` also wraps a plain `sqlite3` connection (the benchmark compares the same repositories on both).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from app.core.errors import EngineUnavailable, StorageError
from app.core.storage.cipher import CipherParams

log = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 5.0


class StoreLocked(StorageError):
    def __init__(self) -> None:
        super().__init__("The store is locked", "Enter the passphrase to unlock it")


def load_sqlcipher() -> ModuleType:
    try:
        from sqlcipher3 import dbapi2
    except (ImportError, OSError) as exc:
        raise EngineUnavailable(
            f"The encryption library SQLCipher cannot be loaded ({type(exc).__name__})",
            "Reinstall Clinic Assistant: the sqlcipher3 package is required for the encrypted store",
        ) from None
    return dbapi2


def storage_error(exc: BaseException, doing: str) -> StorageError:
    """A clear message for a SQLite failure. Only SQLite's error *name* is used: its message text can quote data."""
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    if isinstance(exc, OSError):
        return StorageError(f"Could not {doing}: {exc.strerror or type(exc).__name__}", "Check the data folder")
    if name.startswith("SQLITE_FULL"):
        return StorageError(
            f"The disk is full: could not {doing}",
            "Free some disk space and try again; what was saved before is intact",
        )
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return StorageError(
            f"The database file is damaged: could not {doing}",
            "Restore the latest backup with 'clinic-assistant store restore'; keep the damaged file for inspection",
        )
    if name.startswith(("SQLITE_READONLY", "SQLITE_PERM", "SQLITE_CANTOPEN", "SQLITE_AUTH")):
        return StorageError(
            f"The database cannot be written or opened: could not {doing} ({name})",
            "Check that the data folder is on a writable disk and that you may write to it",
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return StorageError(
            f"The store is busy in another Clinic Assistant window: could not {doing}",
            "Close the other window and retry",
        )
    if name.startswith("SQLITE_IOERR"):
        return StorageError(f"The disk reported an error: could not {doing} ({name})", "Check the disk and try again")
    if name.startswith("SQLITE_CONSTRAINT"):
        return StorageError(f"Could not {doing}: it conflicts with a record already in the store", "")
    return StorageError(f"Could not {doing} ({name or type(exc).__name__})", "Run 'clinic-assistant store check'")


def open_encrypted(path: Path, spec: bytearray, params: CipherParams, *, create: bool, readonly: bool = False) -> Any:
    """Open (or create) `path` with the raw key `spec`. Reads nothing yet: the first query proves the key."""
    dbapi2 = load_sqlcipher()
    # mode=rw: never create a file by accident when opening (a typo in the data folder must not make a new store).
    mode = "ro" if readonly else "rwc" if create else "rw"
    uri = f"{path.resolve().as_uri()}?mode={mode}"
    try:
        conn = dbapi2.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_S)
    except dbapi2.Error as exc:
        raise storage_error(exc, "open the database") from None
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")  # SQLCipher would otherwise log to stderr
        conn.set_key(spec)
        for pragma in params.pragmas():
            conn.execute(pragma)
    except dbapi2.Error as exc:
        conn.close()
        raise storage_error(exc, "open the database") from None
    return conn


def configure_for_writing(conn: Any) -> None:
    """Pragmas every session needs. Run only after the key is proven and the schema version accepted, because
    switching to WAL writes the file header."""
    # Temporary tables, sorts and VACUUM copies stay in memory: a temp file would be unencrypted.
    conn.execute("PRAGMA temp_store = MEMORY")
    # WAL frames are encrypted by SQLCipher like pages; the -shm index holds page numbers, not content.
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise StorageError("The database could not be switched to write-ahead logging", "Check the data folder")
    # FULL: a commit the app reported survives a power cut, not only a crash. A clinical record is worth ~1 ms.
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    # Freed pages are zeroed: a deleted note does not linger even for someone who later learns the key.
    conn.execute("PRAGMA secure_delete = ON")


def _translated(exc: BaseException, doing: str) -> BaseException:
    """SQLite's failures become `StorageError`s; misuse of the connection (another thread, a closed connection:
    no SQLite error code) is a bug and stays what it is."""
    if not getattr(exc, "sqlite_errorname", None):
        return exc
    return storage_error(exc, doing)


class Database:
    """Owns one DB-API connection at a time (none while the store is locked) and its transactions.

    Used by exactly one thread: sqlite3/sqlcipher3 connections refuse calls from other threads, and `StoreWorker`
    is how other threads get work done here.
    """

    def __init__(self, errors: type[BaseException] | tuple[type[BaseException], ...] = ()) -> None:
        self._conn: Any = None
        self._errors = errors
        self._depth = 0

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    def attach(self, conn: Any, errors: type[BaseException] | tuple[type[BaseException], ...]) -> None:
        self._conn = conn
        self._errors = errors
        self._depth = 0

    def detach(self) -> Any:
        conn, self._conn = self._conn, None
        self._depth = 0
        return conn

    @property
    def conn(self) -> Any:
        if self._conn is None:
            raise StoreLocked()
        return self._conn

    def execute(self, sql: str, params: Sequence[Any] = (), doing: str = "read or write the store") -> Any:
        conn = self.conn
        try:
            try:
                return conn.execute(sql, params)
            except UnicodeEncodeError:
                return conn.execute(sql, _encodable(params))
        except self._errors as exc:
            raise _translated(exc, doing) from None

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]], doing: str = "write to the store") -> Any:
        conn = self.conn
        try:
            try:
                return conn.executemany(sql, rows)
            except UnicodeEncodeError:
                return conn.executemany(sql, [_encodable(row) for row in rows])
        except self._errors as exc:
            raise _translated(exc, doing) from None

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self.execute(sql, params, "read the store").fetchone()
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self.execute(sql, params, "read the store").fetchall()
        return rows

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.one(sql, params)
        return row[0] if row else None

    @contextmanager
    def transaction(self, doing: str = "save the change") -> Iterator[None]:
        """All-or-nothing. Nested blocks join the outermost one. IMMEDIATE takes the write lock up front, so two
        writers fail fast with BUSY instead of deadlocking halfway."""
        conn = self.conn
        if self._depth == 0:
            self.execute("BEGIN IMMEDIATE", (), doing)
        self._depth += 1
        try:
            yield
        except BaseException:
            self._depth -= 1
            if self._depth == 0 and conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except self._errors:  # after SQLITE_FULL SQLite may have rolled back already
                    log.warning("rollback after a failed transaction also failed")
            raise
        self._depth -= 1
        if self._depth == 0:
            try:
                conn.execute("COMMIT")
            except self._errors as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise _translated(exc, doing) from None


def _encodable(params: Sequence[Any]) -> list[Any]:
    """Text holding lone surrogates (bytes that were not UTF-8, pasted or read from a file) cannot be encoded for
    SQLite: those characters become U+FFFD, so a note or transcript is saved rather than lost with an error."""
    return [
        "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in value) if isinstance(value, str) else value
        for value in params
    ]
