"""The clinic server's API key lives in the encrypted store: migration 4 adds its table, the repository audits each
change without the value, saving settings never writes the key, and a settings file that still holds one is
honoured until the store is unlocked, which moves the key in and rewrites the file without it."""

from __future__ import annotations

import logging
import sqlite3
import tomllib
from pathlib import Path

import pytest

from app.core.config import Settings, load_settings, save_settings
from app.core.errors import InputError
from app.core.services.server_key import key_after_unlock, store_key, with_key
from app.core.storage import Store
from app.core.storage.connection import Database
from app.core.storage.schema import migrate, schema_version
from app.core.storage.secrets import SERVER_API_KEY

PASSPHRASE = "correct horse battery staple"
KEY = "room-key-5d1c9a"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    made = Store(tmp_path / "data", kdf_iterations=4000)
    made.create(PASSPHRASE)
    return made


def test_migration_4_adds_the_secrets_table_to_a_version_3_store() -> None:
    db = Database()
    db.attach(sqlite3.connect(":memory:", isolation_level=None), sqlite3.Error)
    migrate(db, target=3)
    db.execute("INSERT INTO patients(id, family_name, created_at, updated_at) VALUES (1, 'A', 't', 't')")
    assert migrate(db) == [4]
    assert schema_version(db) == 4
    assert [r[1] for r in db.all("PRAGMA table_info(secrets)")] == ["name", "value", "updated_at"]
    assert db.scalar("SELECT count(*) FROM patients") == 1


def test_the_repository_keeps_the_key_and_audits_changes_without_it(store: Store) -> None:
    secrets = store.repositories().secrets
    assert secrets.get(SERVER_API_KEY) is None
    assert secrets.set(SERVER_API_KEY, KEY) is True
    assert secrets.set(SERVER_API_KEY, KEY) is False  # the same key again: nothing written, nothing audited
    assert secrets.set(SERVER_API_KEY, "another-key") is True
    assert secrets.get(SERVER_API_KEY) == "another-key"
    assert secrets.clear(SERVER_API_KEY) is True and secrets.clear(SERVER_API_KEY) is False
    assert secrets.get(SERVER_API_KEY) is None
    for bad in ("", " padded ", "two\nlines", "x" * 501):
        with pytest.raises(InputError):
            secrets.set(SERVER_API_KEY, bad)
    entries = [e for e in store.repositories().audit.entries() if e.record_type == SERVER_API_KEY]
    assert [e.action for e in entries] == ["create", "update", "clear"]
    rows = store.db.all("SELECT * FROM audit_log")
    assert not any(KEY in str(row) or "another-key" in str(row) for row in rows)
    store.lock()
    with Store.open(store.data_dir, PASSPHRASE, kdf_iterations=4000) as again:  # encrypted with the rest
        assert again.repositories().secrets.get(SERVER_API_KEY) is None


def test_saving_settings_never_writes_the_key(tmp_path: Path) -> None:
    settings = Settings()
    settings.llm.server_api_key = KEY
    settings.llm.server_url = "https://llm.clinic.lan:8080/v1"
    path = save_settings(settings, tmp_path / "settings.toml")
    text = path.read_text(encoding="utf-8")
    assert KEY not in text and "server_api_key" not in text
    assert tomllib.loads(text)["llm"]["server_url"] == "https://llm.clinic.lan:8080/v1"
    assert load_settings(path).settings.llm.server_api_key == ""
    assert KEY not in repr(settings) and KEY not in repr(settings.llm)  # nor in a log line or a traceback


def test_a_settings_file_with_a_key_is_honoured_then_moved_into_the_store(
    tmp_path: Path, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(
        f'[llm]\nbackend = "server"\nserver_api_key = "{KEY}"\ntemperature = 0.1\n\n[ui]\ntheme = "dark"\n',
        encoding="utf-8",
    )
    loaded = load_settings(path).settings
    assert loaded.llm.server_api_key == KEY  # honoured for this run, before the store is unlocked
    with caplog.at_level(logging.INFO):
        stored = key_after_unlock(store, path)
    assert stored.key == KEY and stored.moved_from_file
    assert store.repositories().secrets.get(SERVER_API_KEY) == KEY
    rewritten = tomllib.loads(path.read_text(encoding="utf-8"))
    assert rewritten == {"llm": {"backend": "server", "temperature": 0.1}, "ui": {"theme": "dark"}}  # the rest kept
    assert "moved the clinic server's API key from the settings file into the encrypted store" in caplog.text
    assert KEY not in caplog.text
    again = key_after_unlock(store, path)  # the next unlock: nothing left to move
    assert again.key == KEY and not again.moved_from_file
    assert with_key(loaded.model_copy(update={"llm": loaded.llm.model_copy(update={"server_api_key": ""})}),
                    again.key).llm.server_api_key == KEY


def test_the_environment_wins_and_a_cleared_key_is_gone(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert store_key(store, KEY) is True
    settings = Settings()
    assert with_key(settings, KEY).llm.server_api_key == KEY
    same = with_key(settings, "")
    assert same is settings  # nothing to change: the engines are not rebuilt
    monkeypatch.setenv("clinic_llm__server_api_key", "from-the-environment")  # read case-insensitively
    assert with_key(settings, KEY).llm.server_api_key == "from-the-environment"
    assert store_key(store, "") is True and store_key(store, "") is False
    assert key_after_unlock(store, tmp_path / "no-settings.toml").key == ""
