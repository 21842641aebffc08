"""`clinic-assistant store check|salvage|restore` on damaged stores and on files that are not backups, and partial
files left by a killed backup, end to end through `main()` with real SQLCipher."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

import app.cli.main as cli_main
from tests.core.test_store_salvage import (
    NEW_PASSPHRASE,
    PASSPHRASE,
    damage_a_page_with_records,
    fill_store,
    kill_during_backup,
)

Run = Callable[..., tuple[int, str, str]]
PATIENT_TEXT = ("Vandersloot", "Imke", "MRN-0")  # what the store holds: never in any output


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Run:
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("app.cli.cmd_store",))
    monkeypatch.setenv("CLINIC_STORAGE__KDF_ITERATIONS", "64000")

    def invoke(*argv: str, stdin: str = PASSPHRASE + "\n") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = cli_main.main(["--data-dir", str(tmp_path / "data"), *argv])
        out, err = capsys.readouterr()
        for text in PATIENT_TEXT:
            assert text not in out + err
        return code, out, err

    return invoke


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def damaged(tmp_path: Path) -> tuple[Path, int]:
    """A filled store with one damaged page that holds several records; (data dir, page)."""
    data = tmp_path / "data"
    fill_store(data, patients=40)
    return data, damage_a_page_with_records(data, tmp_path / "scratch")


def test_check_reports_the_damaged_table_and_rows_and_exits_1(run: Run, damaged: tuple[Path, int]) -> None:
    data, page = damaged
    before = sha256(data / "clinic.db")
    code, out, err = run("store", "check", "--passphrase-stdin")
    assert code == 1 and "error" not in err
    lines = out.splitlines()
    assert lines[0].startswith(f"DAMAGED: {data / 'clinic.db'}") and "1 of its" in lines[0]
    assert f"problem: HMAC verification failed for page {page}" in lines
    (damage,) = [line for line in lines if line.startswith("damaged: ")]
    assert "records cannot be read (ids " in damage
    assert any("store salvage OUT" in line for line in lines)

    code, out, _ = run("store", "check", "--json", "--passphrase-stdin")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False and report["damage"]["damaged_pages"] == [page]
    (table,) = report["damage"]["tables"]
    assert table["lost_exact"] and table["rows_lost"] > 1 and f"damaged: {table['table']}: " in damage
    assert report["counts"][table["table"]] == table["rows_read"]
    assert sha256(data / "clinic.db") == before
    assert sorted(p.name for p in data.iterdir() if p.name.startswith("clinic")) == [
        "clinic.db", "clinic.db.cipher.json"
    ]


def test_commands_that_unlock_say_the_store_is_damaged_and_name_salvage(
    run: Run, damaged: tuple[Path, int], tmp_path: Path
) -> None:
    data, _page = damaged
    code, out, err = run("store", "backup", str(tmp_path / "b.db"), "--passphrase-stdin")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert err.startswith("error: The store is damaged: 1 of its ") and "store salvage OUT" in err
    assert "passphrase is wrong" not in err and not (data / "clinic.db.attempts.json").exists()
    assert not list(tmp_path.glob("b.db*"))


def test_salvage_copies_every_readable_record_and_the_copy_restores_and_checks(
    run: Run, damaged: tuple[Path, int], tmp_path: Path
) -> None:
    data, _page = damaged
    before = sha256(data / "clinic.db")
    _, out, _ = run("store", "check", "--json", "--passphrase-stdin")
    (table,) = json.loads(out)["damage"]["tables"]
    readable = json.loads(out)["counts"]

    target = tmp_path / "salvaged.db"
    code, out, err = run("store", "salvage", str(target), "--passphrase-stdin")
    assert code == 0, err
    assert out.startswith(f"Salvaged to {target} (")
    assert f"Could not be read: {table['table']} {table['rows_lost']}" in out
    assert "keep it" in err and f"store restore {target} --force" in err
    assert target.stat().st_mode & 0o777 == 0o600 and Path(f"{target}.cipher.json").is_file()
    assert not list(tmp_path.glob("*.partial*"))
    assert sha256(data / "clinic.db") == before

    code, out, _ = run("store", "salvage", str(target), "--json", "--passphrase-stdin")
    assert code == 2  # it exists
    code, out, _ = run("store", "salvage", str(target), "--json", "--force", "--passphrase-stdin")
    report = json.loads(out)
    assert code == 0 and report["lost"][table["table"]] == table["rows_lost"] and report["lost_exact"]
    assert report["damaged_pages"] == 1 and report["counts"][table["table"]] == table["rows_read"]

    code, out, _ = run("store", "restore", str(target), "--force", "--passphrase-stdin")
    assert code == 0 and out.startswith("Restored")
    assert len(list(data.glob("clinic.db.replaced-*"))) == 2  # the damaged file, and its settings, kept aside
    code, out, _ = run("store", "check", "--json", "--passphrase-stdin")
    restored = json.loads(out)
    assert code == 0 and restored["ok"] and restored["damage"] is None
    for name, count in readable.items():
        if name != "audit_log":  # the salvage, the restore and the unlocks add entries
            assert restored["counts"][name] == count, name


def test_salvage_can_give_the_copy_a_new_passphrase(run: Run, damaged: tuple[Path, int], tmp_path: Path) -> None:
    target = tmp_path / "salvaged.db"
    code, _, err = run("store", "salvage", str(target), "--new-passphrase", "--passphrase-stdin",
                       stdin=f"{PASSPHRASE}\nweak\n")
    assert code == 2 and "too weak" in err and not target.exists()
    code, _, err = run("store", "salvage", str(target), "--new-passphrase", "--passphrase-stdin",
                       stdin=f"{PASSPHRASE}\n{NEW_PASSPHRASE}\n")
    assert code == 0, err
    code, _, err = run("store", "restore", str(target), "--force", "--passphrase-stdin")
    assert code == 2 and "passphrase is wrong" in err
    code, out, _ = run("store", "restore", str(target), "--force", "--passphrase-stdin", stdin=NEW_PASSPHRASE + "\n")
    assert code == 0 and out.startswith("Restored")


def test_salvage_refuses_bad_targets_and_wrong_passphrases(
    run: Run, damaged: tuple[Path, int], tmp_path: Path
) -> None:
    data, _page = damaged
    code, _, err = run("store", "salvage", str(data / "clinic.db.copy"), "--passphrase-stdin")
    assert code == 2 and "own files" in err
    code, _, err = run("store", "salvage", str(tmp_path / "nowhere" / "s.db"), "--passphrase-stdin")
    assert code == 2 and "does not exist" in err
    code, _, err = run("store", "salvage", str(tmp_path / "s.db"), "--passphrase-stdin", stdin="not the passphrase\n")
    assert code == 2 and "\nerror: The passphrase is wrong" in err and not (tmp_path / "s.db").exists()


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda p: sqlite3.connect(p).execute("CREATE TABLE t(x)").connection.commit(), "unencrypted SQLite database"),
        (lambda p: p.write_bytes(os.urandom(9_999)), "not a database file"),
        (lambda p: p.write_bytes(b""), "is empty"),
        (lambda p: p.write_text("just some notes\n"), "a text file"),
    ],
    ids=["plain-sqlite", "random-bytes", "empty", "text"],
)
def test_restore_of_a_file_that_is_not_a_backup_says_what_it_is_and_counts_no_try(
    run: Run, tmp_path: Path, make: Callable[[Path], object], said: str
) -> None:
    run("store", "init", "--passphrase-stdin")
    data = tmp_path / "data"
    before = sha256(data / "clinic.db")
    bogus = tmp_path / "bogus.db"
    make(bogus)
    for _ in range(4):  # beyond the free tries: a counted try would wait
        code, out, err = run("store", "restore", str(bogus), "--force", "--passphrase-stdin")
        (error,) = [line for line in err.splitlines() if line.startswith("error:")]  # besides a progress line
        assert code == 2 and out == "" and error.startswith("error: bogus.db is ") and said in error
        assert "not a Clinic Assistant backup" in error and "passphrase" not in error.lower()
    assert not (data / "clinic.db.attempts.json").exists()
    assert sha256(data / "clinic.db") == before


def test_a_killed_backup_leaves_owner_only_files_that_the_next_store_command_removes(
    run: Run, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    fill_store(data, patients=20)
    usb = tmp_path / "usb"
    usb.mkdir()
    kill_during_backup(data, usb / "friday.db")
    left = sorted(usb.iterdir())
    assert [p.name for p in left] == ["friday.db.partial", "friday.db.partial-journal"]
    assert {p.stat().st_mode & 0o777 for p in left} == {0o600}
    code, out, _ = run("store", "check", "--passphrase-stdin")
    assert code == 0 and out.startswith("OK:")
    assert list(usb.iterdir()) == [] and not (data / "clinic.db.partials.json").exists()
