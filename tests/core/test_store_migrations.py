"""Each numbered migration, from the version before it, with data; and the store migrating a file on unlock."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from app.core.storage import Store
from app.core.storage.cipher import KeyFile, KeyRecord, derive_key, key_spec, new_salt, passphrase_bytes
from app.core.storage.connection import Database, configure_for_writing, open_encrypted
from app.core.storage.schema import LATEST_VERSION, MIGRATIONS, migrate, schema_version

PASSPHRASE = "correct horse battery staple"
KDF = 4000
TESTED_MIGRATIONS = {1, 2, 3, 4}  # 3: tests/core/test_summary_store.py; 4: tests/core/test_server_key.py

_V1_ROWS = [
    "INSERT INTO patients(id, family_name, given_names, date_of_birth, mrn, sex, created_at, updated_at) "
    "VALUES (1, 'Łukasiewicz', 'Zoë', '1944-06-06', 'mr-01', 'F', '2024-01-01T00:00:00+00:00', "
    "'2024-01-01T00:00:00+00:00')",
    "INSERT INTO patients(id, family_name, given_names, created_at, updated_at) "
    "VALUES (2, 'Nomrn', 'Pat', '2024-01-01T00:00:00+00:00', '2024-01-01T00:00:00+00:00')",
    "INSERT INTO encounters(id, patient_id, started_at, created_at, updated_at) "
    "VALUES (1, 1, '2024-02-01T09:00:00+00:00', '2024-02-01T09:00:00+00:00', '2024-02-01T09:00:00+00:00')",
]


def plain_db() -> Database:
    db = Database()
    db.attach(sqlite3.connect(":memory:", isolation_level=None), sqlite3.Error)
    return db


def test_every_migration_has_a_test_from_its_previous_version() -> None:
    assert {m.version for m in MIGRATIONS} == TESTED_MIGRATIONS
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST_VERSION + 1))


def test_migration_1_from_an_empty_file() -> None:
    db = plain_db()
    assert schema_version(db) == 0
    assert migrate(db, target=1) == [1]
    tables = {r[0] for r in db.all("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"patients", "encounters", "transcripts", "messages", "notes", "note_versions", "redaction_maps",
            "audit_log", "schema_version", "store_settings"} <= tables
    assert schema_version(db) == 1
    assert migrate(db, target=1) == []  # idempotent


def test_migration_2_backfills_search_keys_from_version_1_data() -> None:
    db = plain_db()
    migrate(db, target=1)
    for sql in _V1_ROWS:
        db.execute(sql)
    assert migrate(db, target=2) == [2]
    rows = dict(db.all("SELECT id, search_name FROM patients"))
    assert rows[1] == " lukasiewicz zoe " and rows[2] == " nomrn pat "
    assert dict(db.all("SELECT id, search_mrn FROM patients")) == {1: "mr01", 2: None}
    assert db.scalar("SELECT count(*) FROM encounters") == 1  # untouched data survives
    assert schema_version(db) == 2


def _make_version_1_store(data: Path) -> None:
    """A store exactly as version 1 of the app wrote it."""
    data.mkdir(parents=True)
    path = data / "clinic.db"
    store = Store(data, kdf_iterations=KDF)
    salt = new_salt()
    key = derive_key(passphrase_bytes(PASSPHRASE), salt, store.params)
    conn = open_encrypted(path, key_spec(key, salt), store.params, create=True)
    from sqlcipher3 import dbapi2

    db = Database()
    db.attach(conn, dbapi2.Error)
    configure_for_writing(conn)
    migrate(db, target=1)
    for sql in _V1_ROWS:
        db.execute(sql)
    conn.close()
    KeyFile(path).remember(salt, KeyRecord(store.params, None))


def test_unlock_migrates_an_old_store_and_keeps_a_copy_first(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _make_version_1_store(data)
    with Store.open(data, PASSPHRASE, kdf_iterations=KDF) as store:
        r = store.repositories()
        assert store.check().schema_version == LATEST_VERSION
        assert [p.id for p in r.patients.search("lukasiewicz")] == [1]
        assert r.patients.find_by_mrn("MR 01") is not None
        assert any(e.action == "migrate" for e in r.audit.entries())
    copies = [p for p in data.glob(f"clinic.db.before-v{LATEST_VERSION}-from-v1*") if not p.name.endswith(".json")]
    assert len(copies) == 1 and Path(f"{copies[0]}.cipher.json").is_file()
    # The copy is the untouched version-1 file, encrypted with the same passphrase.
    from sqlcipher3 import dbapi2

    conn = dbapi2.connect(str(copies[0]))
    try:
        conn.execute(f"PRAGMA key = '{PASSPHRASE}'")
        conn.execute(f"PRAGMA kdf_iter = {KDF}")
        assert conn.execute("SELECT max(version) FROM schema_version").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM patients").fetchone() == (2,)
    finally:
        conn.close()
