"""A real full disk and a real read-only disk (small tmpfs mounts; skipped where mounting is not allowed): a clear
message, the committed data intact, the database file unchanged by the failed operation."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.errors import StorageError
from app.core.storage import MessageRole, Store

pytestmark = pytest.mark.integration

PASSPHRASE = "correct horse battery staple"
KDF = 4000


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)], capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True, check=False)


def _fill(folder: Path) -> Path:
    """Take every free byte of the disk (unbuffered, so the last partial write fails here, not at close)."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as fh:
        for chunk in (65536, 4096, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    fh.write(b"\0" * chunk)
    return filler


def test_full_disk_is_reported_and_nothing_committed_is_lost(small_disk: Path) -> None:
    data = small_disk / "data"
    store = Store(data, kdf_iterations=KDF)
    store.create(PASSPHRASE)
    r = store.repositories()
    pid = r.patients.add("Before", "Full").id
    r.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = sha256(store.path)
    filler = _fill(small_disk)
    with pytest.raises(StorageError, match="disk is full") as info, r.db.transaction():
        eid = r.encounters.add(pid).id
        for _ in range(200):
            r.messages.add(eid, MessageRole.USER, "q" * 20000, "q" * 20000)
    assert "Free some disk space" in info.value.hint
    assert sha256(store.path) == before
    assert r.encounters.for_patient(pid) == []  # the failed transaction left nothing behind
    filler.unlink()
    r.encounters.add(pid)  # space again: the same session carries on
    store.close()
    with Store.open(data, PASSPHRASE, kdf_iterations=KDF) as again:
        assert again.check().ok
        assert len(again.repositories().encounters.for_patient(pid)) == 1


def test_read_only_disk_is_reported_and_the_file_untouched(small_disk: Path) -> None:
    data = small_disk / "data"
    with Store(data, kdf_iterations=KDF) as store:
        store.create(PASSPHRASE)
        store.repositories().patients.add("Read", "Only")
    before = sha256(data / "clinic.db")
    remount = subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], capture_output=True, check=False)
    if remount.returncode != 0:
        pytest.skip("cannot remount read-only here")
    with pytest.raises(OSError) as probe:
        (small_disk / "probe").write_text("x")
    assert probe.value.errno == errno.EROFS
    store = Store(data, kdf_iterations=KDF)
    with pytest.raises(StorageError, match="cannot be written or opened") as info:
        store.unlock(PASSPHRASE)
    assert "writable disk" in info.value.hint
    assert not store.is_unlocked
    assert sha256(data / "clinic.db") == before
