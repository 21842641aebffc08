"""Every way opening or writing can fail gives a clear message and leaves the database file byte-for-byte as it was."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from app.core.errors import StorageError, WrongPassphrase
from app.core.storage import MessageRole, Store

PASSPHRASE = "correct horse battery staple"
KDF = 4000


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def closed_store(tmp_path: Path) -> Path:
    """A closed store with some data (several pages), returned as its data dir."""
    data = tmp_path / "data"
    with Store(data, kdf_iterations=KDF) as s:
        s.create(PASSPHRASE)
        r = s.repositories()
        with r.db.transaction():
            for i in range(300):
                pid = r.patients.add(f"Family{i}", "Given", mrn=f"M{i}").id
                r.messages.add(r.encounters.add(pid).id, MessageRole.USER, "x" * 200, "y" * 200)
    return data


def test_wrong_passphrase_is_clear_and_changes_nothing(closed_store: Path) -> None:
    db = closed_store / "clinic.db"
    before = sha256(db)
    waits: list[float] = []
    store = Store(closed_store, kdf_iterations=KDF, sleep=waits.append)
    for _ in range(5):
        with pytest.raises(WrongPassphrase) as info:
            store.unlock("not the passphrase at all")
        assert info.value.message.startswith("The passphrase is wrong.") and info.value.hint
    assert sha256(db) == before
    assert sorted(p.name for p in closed_store.iterdir() if p.name.startswith("clinic.db")) == [
        "clinic.db", "clinic.db.attempts.json", "clinic.db.cipher.json"
    ]
    # Two free tries, then 1 s, 2 s, 4 s…; the count survives a new Store object (a new CLI run).
    assert waits == [1.0, 2.0, 4.0]
    with pytest.raises(WrongPassphrase):
        Store(closed_store, kdf_iterations=KDF, sleep=waits.append).unlock("still wrong passphrase")
    assert waits[-1] == 8.0
    store.unlock(PASSPHRASE)
    store.close()
    assert not (closed_store / "clinic.db.attempts.json").exists()


def test_truncated_file_is_reported_as_damaged_and_untouched(closed_store: Path) -> None:
    db = closed_store / "clinic.db"
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])
    before = sha256(db)
    with pytest.raises(StorageError, match="damaged") as info:
        Store(closed_store, kdf_iterations=KDF).unlock(PASSPHRASE)
    assert "restore" in info.value.hint
    assert sha256(db) == before


def test_corrupted_data_page_is_reported_as_damaged_and_untouched(closed_store: Path) -> None:
    db = closed_store / "clinic.db"
    data = bytearray(db.read_bytes())
    data[4096 * 5 + 500 : 4096 * 5 + 600] = bytes(100)
    db.write_bytes(bytes(data))
    before = sha256(db)
    with pytest.raises(StorageError, match="damaged"):
        Store(closed_store, kdf_iterations=KDF).unlock(PASSPHRASE)
    assert sha256(db) == before


def test_corrupted_first_page_with_right_passphrase_says_damaged_not_wrong(closed_store: Path) -> None:
    db = closed_store / "clinic.db"
    data = bytearray(db.read_bytes())
    data[200:260] = bytes(60)  # after the salt: the first page's HMAC fails like a wrong key would
    db.write_bytes(bytes(data))
    before = sha256(db)
    with pytest.raises(StorageError, match="damaged") as info:
        Store(closed_store, kdf_iterations=KDF).unlock(PASSPHRASE)
    assert not isinstance(info.value, WrongPassphrase)
    with pytest.raises(WrongPassphrase):
        Store(closed_store, kdf_iterations=KDF, sleep=lambda _s: None).unlock("another wrong passphrase")
    assert sha256(db) == before


def test_tiny_or_empty_file_is_damaged(tmp_path: Path) -> None:
    (tmp_path / "clinic.db").write_bytes(b"short")
    with pytest.raises(StorageError, match="damaged"):
        Store(tmp_path, kdf_iterations=KDF).unlock(PASSPHRASE)
    assert (tmp_path / "clinic.db").read_bytes() == b"short"


def test_plain_sqlite_file_is_named_as_such(tmp_path: Path) -> None:
    db = tmp_path / "clinic.db"
    sqlite3.connect(db).execute("CREATE TABLE t(x)").connection.close()
    before = sha256(db)
    with pytest.raises(StorageError, match="unencrypted SQLite"):
        Store(tmp_path, kdf_iterations=KDF).unlock(PASSPHRASE)
    assert sha256(db) == before


def test_missing_store_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="no store") as info:
        Store(tmp_path / "nowhere", kdf_iterations=KDF).unlock(PASSPHRASE)
    assert "store init" in info.value.hint
    assert not (tmp_path / "nowhere").exists()


def test_newer_schema_version_is_refused_untouched(closed_store: Path) -> None:
    with Store.open(closed_store, PASSPHRASE, kdf_iterations=KDF) as s:
        s.repositories().db.execute("INSERT INTO schema_version VALUES (99, '2099-01-01', 'from the future')")
    db = closed_store / "clinic.db"
    before = sha256(db)
    with pytest.raises(StorageError, match="newer Clinic Assistant") as info:
        Store(closed_store, kdf_iterations=KDF).unlock(PASSPHRASE)
    assert "newer version" in info.value.hint
    assert sha256(db) == before
    assert not Path(f"{db}-wal").exists()


def test_full_disk_keeps_the_last_good_state(closed_store: Path) -> None:
    db = closed_store / "clinic.db"
    with Store.open(closed_store, PASSPHRASE, kdf_iterations=KDF) as s:
        r = s.repositories()
        r.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        before = sha256(db)
        pages = r.db.scalar("PRAGMA page_count")
        r.db.execute(f"PRAGMA max_page_count = {pages + 2}")  # what a full disk looks like to SQLite
        pid = r.patients.add("Fits", "Still").id
        with pytest.raises(StorageError, match="disk is full") as info, r.db.transaction():
            for i in range(50):
                r.messages.add(r.encounters.add(pid).id, MessageRole.USER, "z" * 4000, "z" * 4000)
                assert i < 49
        assert "intact" in info.value.hint
        assert sha256(db) == before  # the failed transaction never reached the main file
        assert r.patients.get(pid).family_name == "Fits"
        r.db.execute("PRAGMA max_page_count = 1073741823")
    with Store.open(closed_store, PASSPHRASE, kdf_iterations=KDF) as s:
        r = s.repositories()
        assert r.patients.search("fits")[0].id == pid
        assert r.encounters.for_patient(pid) == []
        assert s.check().ok
