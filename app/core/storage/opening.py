"""Proving a passphrase against an encrypted file, and checking a file before we trust it.

Nothing here writes to the file: a wrong passphrase, a damaged file or a file from a newer version is reported
with the file exactly as it was.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable
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


SALVAGE_HINT = (
    "Copy every record that can still be read into a new store with 'clinic-assistant store salvage OUT' (the window "
    "offers Salvage...), then use that copy with 'clinic-assistant store restore OUT --force'. Keep the damaged "
    "file; 'clinic-assistant store check' lists the records affected"
)
# Files that are plainly something else, by their first bytes (an encrypted store starts with 16 random bytes).
_FOREIGN_MAGIC = (
    (PLAIN_SQLITE_HEADER, "an unencrypted SQLite database (another application's file, or an export)"),
    (b"PK\x03\x04", "a ZIP archive (another application's file)"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
)
_SMALLEST_PAGE = 512


def damaged(what: str = "The database file") -> StorageError:
    return StorageError(f"{what} is damaged and cannot be opened. Nothing was changed", DAMAGED_HINT)


class StoreDamaged(StorageError):
    """The passphrase is right and the store opens, but some of its pages fail their check: the records on them
    cannot be read. Everything else can still be salvaged (`Store.salvage`)."""

    kind = "damaged"

    def __init__(self, damaged_pages: int, page_count: int) -> None:
        what = (
            f"{damaged_pages} of its {page_count} pages cannot be read"
            if damaged_pages
            else "its structure check failed"
        )
        super().__init__(f"The store is damaged: {what}. Nothing was changed", SALVAGE_HINT)
        self.damaged_pages = damaged_pages
        self.page_count = page_count


def foreign_file_kind(path: Path) -> str | None:
    """What a file that cannot be an encrypted store is ("empty", "a text file", "a ZIP archive..."), told from its
    size and first bytes without any key; None when it could be one (a whole number of pages of random-looking
    bytes)."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return None
    if size == 0:
        return "empty"
    if head.startswith(PLAIN_SQLITE_HEADER):
        return _FOREIGN_MAGIC[0][1]
    if _looks_like_text(head):  # 4 KiB of random salt and ciphertext never decode as text
        return "a text file"
    if size >= _SMALLEST_PAGE and size % _SMALLEST_PAGE == 0:
        # A whole number of pages: only a passphrase can tell. (A short signature is no proof here: one backup in
        # 65,536 starts with the two bytes of gzip's, say, by chance of its random salt.)
        return None
    for magic, kind in _FOREIGN_MAGIC:
        if head.startswith(magic):
            return kind
    return "not a database file (its size is not a whole number of database pages)"


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return len(head) > 3 and exc.start >= len(head) - 3  # only a character cut at the end of what was read
    return True


def damaged_pages(conn: Any) -> list[int]:
    """Page numbers that fail SQLCipher's HMAC check (it reads the file itself, so it works on a connection that has
    already met a damaged page)."""
    dbapi2 = load_sqlcipher()
    try:
        rows = conn.execute("PRAGMA cipher_integrity_check").fetchall()
    except dbapi2.Error as exc:
        raise storage_error(exc, "check the database") from None
    pages = [int(m.group(1)) for (text,) in rows if (m := re.search(r"page (\d+)", str(text)))]
    return sorted(set(pages))


def is_damaged(conn: Any) -> bool:
    """SQLite's quick structure check (it reads every page of every table and index) finds a problem, or runs into a
    page that fails its HMAC."""
    dbapi2 = load_sqlcipher()
    try:
        rows = conn.execute("PRAGMA quick_check(1)").fetchall()
    except dbapi2.Error as exc:
        if str(getattr(exc, "sqlite_errorname", "")).startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
            return True
        raise storage_error(exc, "check the database") from None
    return any(str(r[0]) != "ok" for r in rows)


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
    conn: Any,
    *,
    deep: bool,
    schema: str = "main",
    what: str = "The database file",
    on_damage: Callable[[], StorageError] | None = None,
) -> tuple[list[str], list[str]]:
    """(integrity problems, cipher problems) of an open file; raises "damaged" (or what `on_damage` returns) if
    SQLite cannot even read it. `deep` runs the full integrity check and SQLCipher's per-page HMAC check, which read
    every page (for check, backup and restore); otherwise SQLite's quick check."""
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
            raise (on_damage() if on_damage else damaged(what)) from None
        raise storage_error(exc, "check the database") from None
    return integrity, cipher


def close_quietly(conn: Any) -> None:
    with contextlib.suppress(Exception):
        conn.close()
