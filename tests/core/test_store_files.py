"""Whole-file operations: backup, restore, passphrase change, and cipher settings recorded with each file."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.errors import InputError, StorageError, WrongPassphrase
from app.core.storage import MessageRole, Store
from app.core.storage.cipher import read_salt
from app.core.storage.schema import LATEST_VERSION

PASSPHRASE = "correct horse battery staple"
NEW_PASSPHRASE = "seven purple otters juggle 42"
KDF = 4000


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "data", kdf_iterations=KDF, sleep=lambda _s: None)
    s.create(PASSPHRASE)
    r = s.repositories()
    pid = r.patients.add("Backup", "Betty", mrn="B1").id
    r.messages.add(r.encounters.add(pid).id, MessageRole.USER, "q", "q")
    yield s
    s.close()


def test_backup_verifies_and_restores_into_another_folder(store: Store, tmp_path: Path) -> None:
    target = tmp_path / "backups" / "monday.db"
    target.parent.mkdir()
    info = store.backup(target)
    assert info.counts["patients"] == 1 and info.counts["messages"] == 1 and info.schema_version == LATEST_VERSION
    assert target.stat().st_mode & 0o777 == 0o600
    assert json.loads(Path(f"{target}.cipher.json").read_text())["files"]  # the settings travel with it
    assert not list(target.parent.glob("*.partial*"))
    assert store.repositories().audit.entries()[-1].action == "backup"
    with pytest.raises(StorageError, match="already exists"):
        store.backup(target)
    with pytest.raises(InputError):
        store.backup(store.path)

    other = Store(tmp_path / "elsewhere", kdf_iterations=KDF)
    restored = other.restore(target, PASSPHRASE)
    try:
        assert restored.counts == info.counts
        assert other.repositories().patients.find_by_mrn("B1") is not None
        assert other.repositories().audit.entries()[-1].action == "restore"
    finally:
        other.close()


def test_restore_with_wrong_passphrase_or_bad_file_changes_nothing(store: Store, tmp_path: Path) -> None:
    backup = tmp_path / "b.db"
    store.backup(backup)
    store.close()
    live_before, backup_before = sha256(store.path), sha256(backup)
    with pytest.raises(WrongPassphrase):
        store.restore(backup, "wrong wrong wrong wrong", replace_existing=True)
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(backup.read_bytes()[:12000])
    with pytest.raises(StorageError, match="damaged"):
        store.restore(damaged, PASSPHRASE, replace_existing=True)
    with pytest.raises(StorageError, match="already exists"):
        store.restore(backup, PASSPHRASE)
    assert (sha256(store.path), sha256(backup)) == (live_before, backup_before)
    assert not list(store.data_dir.glob("*.restoring*")) and not list(store.data_dir.glob("*.replaced-*"))


def test_restore_replaces_the_store_and_keeps_the_old_file(store: Store, tmp_path: Path) -> None:
    backup = tmp_path / "b.db"
    store.backup(backup)
    store.repositories().patients.add("After", "Backup")
    store.restore(backup, PASSPHRASE, replace_existing=True)
    assert store.is_unlocked
    assert store.repositories().patients.search("after") == []
    kept = list(store.data_dir.glob("clinic.db.replaced-*"))
    assert len([k for k in kept if not k.name.endswith(".json")]) == 1
    store.close()
    old_copy = next(k for k in kept if not k.name.endswith(".json"))
    # The replaced file is still a whole, openable store holding the newer record.
    probe = Store(tmp_path / "probe", kdf_iterations=KDF)
    try:
        probe.restore(old_copy, PASSPHRASE)
        assert probe.repositories().patients.search("after")
    finally:
        probe.close()


def test_change_passphrase_is_atomic_and_the_old_one_stops_working(store: Store) -> None:
    old_salt = read_salt(store.path)
    with pytest.raises(WrongPassphrase):
        store.rekey("not the current one!!", NEW_PASSPHRASE)
    with pytest.raises(InputError, match="too weak"):
        store.rekey(PASSPHRASE, "weak")
    store.rekey(PASSPHRASE, NEW_PASSPHRASE)
    assert store.is_unlocked and store.repositories().patients.find_by_mrn("B1") is not None
    assert store.repositories().audit.entries()[-1].action == "rekey"
    assert read_salt(store.path) != old_salt
    recorded = json.loads(store.key_file.path.read_text())["files"]
    assert list(recorded) == [read_salt(store.path).hex()]  # type: ignore[union-attr]
    assert not list(store.data_dir.glob("*.rekey*"))
    store.close()
    with pytest.raises(WrongPassphrase):
        Store(store.data_dir, kdf_iterations=KDF, sleep=lambda _s: None).unlock(PASSPHRASE)
    with Store.open(store.data_dir, NEW_PASSPHRASE, kdf_iterations=KDF) as again:
        assert again.check().ok


def test_store_created_with_other_kdf_settings_still_opens(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Store(data, kdf_iterations=5000) as s:
        s.create(PASSPHRASE)
    # Configured differently now: the recorded settings win.
    with Store.open(data, PASSPHRASE, kdf_iterations=7000) as s:
        assert s.check().cipher["kdf_iter"] == "5000"
        # A passphrase change applies the configured iterations.
        s.rekey(PASSPHRASE, NEW_PASSPHRASE)
        assert s.check().cipher["kdf_iter"] == "7000"


def test_lost_sidecar_falls_back_to_configured_then_default_settings(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Store(data, kdf_iterations=5000) as s:
        s.create(PASSPHRASE)
    (data / "clinic.db.cipher.json").unlink()
    with pytest.raises(WrongPassphrase, match="or the database file is damaged"):
        Store(data, kdf_iterations=6000, sleep=lambda _s: None).unlock(PASSPHRASE)
    with Store.open(data, PASSPHRASE, kdf_iterations=5000) as s:  # the configured settings match
        assert s.repositories().patients.count() == 0
    assert (data / "clinic.db.cipher.json").is_file()  # rewritten from what opened it


def test_file_opens_in_plain_sqlcipher_with_passphrase_and_kdf_iter(store: Store) -> None:
    """Our key derivation is SQLCipher's own: the file is not tied to this app."""
    from sqlcipher3 import dbapi2

    store.close()
    conn = dbapi2.connect(str(store.path))
    try:
        conn.execute(f"PRAGMA key = '{PASSPHRASE}'")
        conn.execute(f"PRAGMA kdf_iter = {KDF}")
        assert conn.execute("SELECT family_name FROM patients").fetchall() == [("Backup",)]
    finally:
        conn.close()
