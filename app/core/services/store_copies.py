"""Backing up and restoring the store from the window: the storage layer's verified backup and restore
(storage/maintenance.py, the same as `store backup` / `store restore`), with the checks a doctor needs said first —
enough free space, and a backup that opens with the passphrase given and is whole — before anything is replaced.

Each operation is a generator of `CopyStep`s, said while it runs; `stop` is checked only before a file is written
or replaced, never half-way (a backup or a restore cannot be stopped in the middle).
"""

from __future__ import annotations

import shutil
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import CancelToken, StorageError, WrongPassphrase
from app.core.storage.cipher import KeyFile, wipe
from app.core.storage.maintenance import _inspect_backup
from app.core.storage.opening import close_quietly, foreign_file_kind, open_with_passphrase
from app.core.storage.records import BackupInfo
from app.core.storage.store import Store

MiB = 1024 * 1024
# Beside the copy itself, SQLite's journal and the directory entries: a tenth more, and at least a few MiB.
SPACE_MARGIN = 0.1
SPACE_FLOOR = 8 * MiB


@dataclass(frozen=True)
class CopyStep:
    message: str  # what is happening now, in words for the doctor (no patient data)
    can_stop: bool = True  # False once files are being written: the work then runs to its end


@dataclass(frozen=True)
class BackupCheck:
    """A backup proven with its passphrase and checked page by page, and what the store holds now."""

    backup: BackupInfo
    current: dict[str, int]  # the store's own counts (what the restore replaces)


def _megabytes(size: int) -> str:
    return f"{max(size / MiB, 0.1):.1f} MB"


def require_space(folder: Path, needed: int, what: str) -> None:
    """A clear "the disk is full" before a copy starts, rather than a failure half-way."""
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return  # a folder that cannot be asked about is reported by the copy itself
    wanted = int(needed * (1 + SPACE_MARGIN)) + SPACE_FLOOR
    if free < wanted:
        raise StorageError(
            f"There is not enough free space for {what}: it needs about {_megabytes(wanted)}, and {folder} has "
            f"{_megabytes(free)} free. Nothing was written",
            "Free some space, or choose another disk (a USB drive, say)",
        )


def back_up(store: Store, dest: Path, stop: CancelToken, *, overwrite: bool) -> Generator[CopyStep, None, BackupInfo]:
    """An encrypted, verified backup of the unlocked store at `dest` (and its settings in `dest.cipher.json`).
    Yields steps; returns the backup's summary."""
    yield CopyStep("Checking the free space…")
    store.repositories()  # locked: StoreLocked, before anything is looked at
    if dest.parent.is_dir():
        require_space(dest.parent, store.path.stat().st_size, "the backup")
    stop.raise_if_cancelled()
    yield CopyStep("Writing the backup and checking every page of it…", can_stop=False)
    return store.backup(dest, overwrite=overwrite)


def check_backup(store: Store, src: Path, passphrase: str) -> BackupCheck:
    """Prove the passphrase on the backup and check all of it (read-only: nothing is changed, wherever it fails).
    A wrong passphrase counts as a failed try, as when unlocking."""
    if not src.is_file():
        raise StorageError(f"There is no backup file at {src}", "Choose the backup file again")
    kind = foreign_file_kind(src)
    if kind is not None:
        raise StorageError(
            f"{src.name} is {kind}, not a Clinic Assistant backup. Nothing was changed",
            "Choose a backup made with Back up the store (its .cipher.json file sits beside it)",
        )
    current = store.counts() if store.is_unlocked else {}
    try:
        opened = open_with_passphrase(
            src, passphrase, [KeyFile(src), store.key_file], store.params, readonly=True, what="The backup file"
        )
    except WrongPassphrase as exc:
        store.throttle.record_failure()
        raise WrongPassphrase(
            "This passphrase does not open the backup, or the backup is damaged. Nothing was changed",
            "Type the passphrase the store had when the backup was made (check Caps Lock)",
        ) from exc
    try:
        version, counts = _inspect_backup(opened.conn)
    finally:
        close_quietly(opened.conn)
        wipe(opened.key)
    return BackupCheck(BackupInfo(str(src), src.stat().st_size, version, counts), current)


def restore(store: Store, src: Path, passphrase: str, stop: CancelToken) -> Generator[CopyStep, None, BackupInfo]:
    """Replace the store's records with the backup's (checked again, then swapped in atomically; the current file is
    kept beside it as clinic.db.replaced-<time>). The backup's passphrase becomes the store's."""
    yield CopyStep("Checking the free space…")
    store.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    require_space(store.data_dir, src.stat().st_size, "the restored records")
    stop.raise_if_cancelled()
    yield CopyStep("Checking the backup again and replacing the records…", can_stop=False)
    return store.restore(src, passphrase, replace_existing=True)
