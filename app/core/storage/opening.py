"""Proving a passphrase against an encrypted file, and checking a file before we trust it.

Nothing here writes to the file: a wrong passphrase, a damaged file or a file from a newer version is reported
with the file exactly as it was.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.errors import StorageError, WrongPassphrase
from app.core.storage.cipher import (
    CipherParams,
    KeyFile,
    candidate_params,
    check_value,
    derive_key,
    key_spec,
    passphrase_bytes,
    read_salt,
    wipe,
)
from app.core.storage.connection import load_sqlcipher, open_encrypted, storage_error

log = logging.getLogger(__name__)

PLAIN_SQLITE_HEADER = b"SQLite format 3\x00"
DAMAGED_HINT = "Restore the latest backup with 'clinic-assistant store restore'; keep the damaged file for inspection"


def damaged(what: str = "The database file") -> StorageError:
    return StorageError(f"{what} is damaged and cannot be opened. Nothing was changed", DAMAGED_HINT)


@dataclass
class OpenedFile:
    """A connection whose key is proven, and what proved it. `check` is the passphrase check value (not secret:
    see cipher.py). `key` is the derived key: whoever receives it wipes it (`cipher.wipe`) once done."""

    conn: Any
    params: CipherParams
    salt: bytes
    check: str
    key: bytearray


class _KeyRejected(Exception):
    pass


def _prove(path: Path, spec: bytearray, params: CipherParams, readonly: bool) -> Any:
    conn = open_encrypted(path, spec, params, create=False, readonly=readonly)
    dbapi2 = load_sqlcipher()
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except dbapi2.Error as exc:
        conn.close()
        name = str(getattr(exc, "sqlite_errorname", ""))
        if name.startswith("SQLITE_NOTADB"):
            raise _KeyRejected() from None
        if name.startswith("SQLITE_CORRUPT"):
            raise damaged() from None
        raise storage_error(exc, "open the database") from None
    return conn


def open_with_passphrase(
    path: Path,
    passphrase: str | bytes | bytearray,
    key_files: list[KeyFile],
    configured: CipherParams,
    *,
    readonly: bool = False,
    what: str = "The database file",
) -> OpenedFile:
    """Derive the key for each plausible set of cipher settings and try it. Raises `WrongPassphrase` when no key
    opens the file, or a "damaged" `StorageError` when the recorded check value says the passphrase was right."""
    if not path.is_file():
        raise StorageError(f"There is no store at {path}", "Create one with 'clinic-assistant store init'")
    salt = read_salt(path)
    if salt is None:
        raise damaged(what)
    if salt == PLAIN_SQLITE_HEADER:
        raise StorageError(
            f"{what} is an unencrypted SQLite database, not an encrypted Clinic Assistant store. Nothing was changed",
            "Choose the right file",
        )
    if not passphrase:
        raise WrongPassphrase("No passphrase was given", "Enter the passphrase of the store")
    secret = passphrase_bytes(passphrase)
    recorded_check_seen = False
    try:
        for params, recorded_check in candidate_params(salt, key_files, configured):
            key = derive_key(secret, salt, params)
            spec = key_spec(key)
            check = check_value(key)
            try:
                conn = _prove(path, spec, params, readonly)
            except _KeyRejected:
                wipe(key)
                if recorded_check is not None:
                    recorded_check_seen = True
                    if recorded_check == check:
                        raise damaged(what) from None
                continue
            except BaseException:
                wipe(key)
                raise
            finally:
                wipe(spec)
            return OpenedFile(conn=conn, params=params, salt=salt, check=check, key=key)
    finally:
        wipe(secret)
    if recorded_check_seen:
        raise WrongPassphrase(
            "The passphrase is wrong. Nothing was changed",
            "Check Caps Lock and the keyboard layout; after repeated wrong tries each new try waits longer",
        )
    raise WrongPassphrase(
        "The passphrase is wrong, or the database file is damaged. Nothing was changed",
        "Check Caps Lock and the keyboard layout; if you are sure of the passphrase, restore the latest backup",
    )


def open_with_key(path: Path, key: bytearray, params: CipherParams, salt: bytes) -> OpenedFile:
    """Reopen a file whose key we just derived (after create, rekey or restore) without another derivation.
    The returned `key` is a copy: the caller still wipes its own."""
    spec = key_spec(key)
    try:
        conn = _prove(path, spec, params, readonly=False)
    except _KeyRejected:
        raise damaged() from None
    finally:
        wipe(spec)
    return OpenedFile(conn=conn, params=params, salt=salt, check=check_value(key), key=bytearray(key))


def verify_contents(
    conn: Any, *, deep: bool, schema: str = "main", what: str = "The database file"
) -> tuple[list[str], list[str]]:
    """(integrity problems, cipher problems) of an open file; raises "damaged" if SQLite cannot even read it.
    `deep` runs the full integrity check and SQLCipher's per-page HMAC check, which read every page (for check,
    backup and restore); otherwise SQLite's quick check (at every unlock)."""
    dbapi2 = load_sqlcipher()
    try:
        pragma = "integrity_check" if deep else "quick_check"
        rows = conn.execute(f"PRAGMA {schema}.{pragma}(20)").fetchall()
        integrity = [str(r[0]) for r in rows if str(r[0]) != "ok"]
        cipher: list[str] = []
        if deep:
            cipher = [str(r[0]) for r in conn.execute(f"PRAGMA {schema}.cipher_integrity_check").fetchall()]
    except dbapi2.Error as exc:
        name = str(getattr(exc, "sqlite_errorname", ""))
        if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
            raise damaged(what) from None
        raise storage_error(exc, "check the database") from None
    return integrity, cipher


def close_quietly(conn: Any) -> None:
    with contextlib.suppress(Exception):
        conn.close()
