"""Operations on whole files: encrypted backup, verified restore, and passphrase change.

All three are built on `sqlcipher_export` into a new file, which is verified (full integrity check, SQLCipher's
per-page HMAC check, row counts), flushed to disk and only then renamed into place. A crash at any moment leaves
either the old file or the new one, never a mixture. Why not `PRAGMA rekey`: it rewrites pages in place, cannot
change the salt or the iteration count, and is unsafe in WAL mode with some SQLCipher builds.
"""

from __future__ import annotations

import contextlib
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from app.core.errors import InputError, StorageError, WrongPassphrase
from app.core.storage.audit import AuditAction
from app.core.storage.cipher import (
    CipherParams,
    KeyFile,
    KeyRecord,
    check_value,
    derive_key,
    fsync_dir,
    key_spec,
    new_salt,
    passphrase_bytes,
    read_salt,
    wipe,
)
from app.core.storage.connection import Database, load_sqlcipher, storage_error
from app.core.storage.files import copy_private, create_private, remove_db_files
from app.core.storage.opening import (
    close_quietly,
    damaged,
    foreign_file_kind,
    open_with_key,
    open_with_passphrase,
    verify_contents,
)
from app.core.storage.passphrase import require_strong
from app.core.storage.records import BackupInfo
from app.core.storage.schema import ensure_not_newer, schema_version
from app.core.storage.store import COUNTED_TABLES, Store

log = logging.getLogger(__name__)

def _in_use() -> StorageError:
    return StorageError("The store is open in another Clinic Assistant window or process", "Close it there, then retry")


def _attach(store: Store, path: Path, alias: str, spec: bytearray | None, params: CipherParams | None) -> None:
    # Without KEY the attached file shares the main file's key and salt (SQLCipher's documented behaviour).
    if spec is None:
        store.db.execute(f"ATTACH DATABASE ? AS {alias}", (str(path),), "open the copy")
        return
    # Binding makes an immutable copy of the key literal; it is dropped when the statement is finalised.
    store.db.execute(f"ATTACH DATABASE ? AS {alias} KEY ?", (str(path), bytes(spec)), "open the copy")
    for pragma in (params or store.params).pragmas(alias):
        store.db.execute(pragma)


def _detach(store: Store, alias: str) -> None:
    with contextlib.suppress(StorageError):
        store.db.execute(f"DETACH DATABASE {alias}")


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def write_verified_copy(
    store: Store, dest: Path, spec: bytearray | None = None, verify_spec: bytearray | None = None
) -> dict[str, int]:
    """Export the open store to `dest` (new file), verify it, flush it. Returns its row counts."""
    try:
        create_private(dest)  # owner-only before SQLite writes a byte, and so is the -journal SQLite makes beside it
    except OSError as exc:
        raise storage_error(exc, "write the copy") from None
    _attach(store, dest, "export_target", spec, store.params)
    try:
        store.db.execute("SELECT sqlcipher_export('export_target')", (), "write the copy")
    finally:
        _detach(store, "export_target")
    _attach(store, dest, "verify_copy", verify_spec, store.params)
    try:
        integrity, cipher = verify_contents(store.db.conn, deep=True, schema="verify_copy", what="The new copy")
        copied = store.counts("verify_copy")
        if integrity or cipher or copied != store.counts("main"):
            raise StorageError("The new copy did not verify, so it was not used", "Check the disk and try again")
    finally:
        _detach(store, "verify_copy")
    try:
        os.chmod(dest, 0o600)
        _fsync_file(dest)
    except OSError as exc:
        raise storage_error(exc, "write the copy") from None
    return copied


def export_copy(store: Store, target: Path, doing: str = "write the copy") -> dict[str, int]:
    """An encrypted copy with the same key and settings at `target` (written aside, verified, renamed into place),
    with its cipher settings in `target.cipher.json`. Returns its row counts."""
    partial = target.with_name(target.name + ".partial")
    try:
        with store.partials.writing(partial):  # listed, so that a killed process's leftover is removed later
            counts = write_verified_copy(store, partial)
            os.replace(partial, target)
            fsync_dir(target.parent)
    except OSError as exc:
        raise storage_error(exc, doing) from None
    if store.salt is not None and (record := store.key_file.lookup(store.salt)) is not None:
        KeyFile(target).remember(store.salt, record, keep_only=True)
    return counts


def backup(store: Store, dest: Path, *, overwrite: bool = False) -> BackupInfo:
    """An encrypted backup (same passphrase, same cipher settings) at `dest`, plus `dest.cipher.json` with those
    settings. Keep both together; without the sidecar, restore tries the configured and default settings."""
    store.repositories()
    dest = Path(dest).expanduser().resolve()
    own_file = dest.parent == store.path.parent.resolve() and dest.name.startswith(store.path.name)
    if dest == store.path.resolve() or own_file:
        raise InputError("A backup cannot go over the store's own files", "Choose a file outside the data folder")
    if dest.exists() and not overwrite:
        raise StorageError(f"{dest} already exists", "Choose another file name, or pass --force to replace it")
    if not dest.parent.is_dir():
        raise StorageError(f"The folder {dest.parent} does not exist", "Create it or choose another folder")
    counts = export_copy(store, dest, "write the backup")
    store.repositories().audit.record(AuditAction.BACKUP, "store")
    log.info("backup written (%d bytes)", dest.stat().st_size)
    return BackupInfo(str(dest), dest.stat().st_size, schema_version(store.db), counts)


def _inspect_backup(conn: object) -> tuple[int, dict[str, int]]:
    db = Database()
    db.attach(conn, load_sqlcipher().Error)
    integrity, cipher = verify_contents(conn, deep=True, what="The backup file")
    if integrity or cipher:
        raise damaged("The backup file")
    version = schema_version(db)
    ensure_not_newer(version)
    if version == 0:
        raise StorageError("This encrypted file is not a Clinic Assistant backup. Nothing was changed", "")
    present = {r[0] for r in db.all("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return version, {t: int(db.scalar(f"SELECT count(*) FROM {t}")) for t in COUNTED_TABLES if t in present}


def restore(store: Store, src: Path, passphrase: str, *, replace_existing: bool = False) -> BackupInfo:
    """Replace the store with a verified backup; the backup's passphrase becomes the store's. The replaced file is
    kept (encrypted) beside it as `clinic.db.replaced-<time>`."""
    src = Path(src).expanduser()
    if not src.is_file():
        raise StorageError(f"There is no backup file at {src}", "Check the path")
    kind = foreign_file_kind(src)
    if kind is not None:  # said without trying the passphrase, so it is no wrong try either
        hint = (
            "That is the settings file that goes with a backup: choose the backup file beside it"
            if src.name.endswith(".cipher.json")
            else "Choose a backup written by 'clinic-assistant store backup' (its .cipher.json file sits beside it)"
        )
        raise StorageError(f"{src.name} is {kind}, not a Clinic Assistant backup. Nothing was changed", hint)
    if store.exists() and not replace_existing:
        raise StorageError(
            f"A store already exists in {store.data_dir}",
            "Pass --force to replace it; the current file is then kept beside it as clinic.db.replaced-<time>",
        )
    try:
        opened = open_with_passphrase(
            src, passphrase, [KeyFile(src), store.key_file], store.params, readonly=True, what="The backup file"
        )
    except WrongPassphrase:
        store.throttle.record_failure()
        raise
    restoring = store.path.with_name(store.path.name + ".restoring")
    try:
        try:
            version, counts = _inspect_backup(opened.conn)
        finally:
            close_quietly(opened.conn)
        store.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        copy_private(src, restoring)
        store.key_file.remember(opened.salt, KeyRecord(opened.params, opened.check))
        store.lock()
        if store.exists():
            _keep_replaced(store)
        os.replace(restoring, store.path)
        fsync_dir(store.data_dir)
        store.attach_opened(open_with_key(store.path, opened.key, opened.params, opened.salt))
        store.key_file.forget_all_but(opened.salt)
    except OSError as exc:
        raise storage_error(exc, "restore the backup") from None
    finally:
        wipe(opened.key)
        remove_db_files(restoring)
    store.throttle.reset()
    store.repositories().audit.record(AuditAction.RESTORE, "store")
    log.info("restored a backup (layout version %d)", version)
    return BackupInfo(str(src), src.stat().st_size, version, counts)


def _keep_replaced(store: Store) -> None:
    if Path(f"{store.path}-wal").exists():
        raise _in_use()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    replaced = store.path.with_name(f"{store.path.name}.replaced-{stamp}")
    try:
        os.link(store.path, replaced)  # instant, and the live name is then swapped atomically by os.replace
    except OSError:
        copy_private(store.path, replaced)
    old_salt = read_salt(replaced)
    if old_salt is not None and (record := store.key_file.lookup(old_salt)) is not None:
        KeyFile(replaced).remember(old_salt, record, keep_only=True)


def change_passphrase(store: Store, current: str, new: str) -> None:
    """Rekey: prove `current`, write a copy under a key derived from `new` (fresh salt, the configured
    iterations), verify it, and swap it in atomically."""
    store.repositories()
    if current == new:
        raise InputError("The new passphrase is the same as the current one", "Choose a different passphrase")
    require_strong(new)
    try:
        proof = open_with_passphrase(store.path, current, [store.key_file], store.params, readonly=True)
    except WrongPassphrase:
        store.throttle.record_failure()
        raise
    wipe(proof.key)
    close_quietly(proof.conn)
    salt = new_salt()
    secret = passphrase_bytes(new)
    key = derive_key(secret, salt, store.params)
    wipe(secret)
    rekeyed = store.path.with_name(store.path.name + ".rekey")
    new_spec, verify_spec = key_spec(key, salt), key_spec(key)
    try:
        write_verified_copy(store, rekeyed, new_spec, verify_spec)
        store.key_file.remember(salt, KeyRecord(store.params, check_value(key)))
        store.detach_connection()
        try:
            if Path(f"{store.path}-wal").exists():
                raise _in_use()
            os.replace(rekeyed, store.path)
            fsync_dir(store.data_dir)
        except (OSError, StorageError):
            raise StorageError(
                "The passphrase was not changed and the store is now locked", "Unlock it with the current passphrase"
            ) from None
        store.attach_opened(open_with_key(store.path, key, store.params, salt))
        store.key_file.forget_all_but(salt)
    finally:
        for buffer in (new_spec, verify_spec, key):
            wipe(buffer)
        remove_db_files(rekeyed)
    store.repositories().audit.record(AuditAction.REKEY, "store")
    log.info("passphrase changed (kdf_iter %d)", store.params.kdf_iter)
