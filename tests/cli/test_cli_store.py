"""`clinic-assistant store …` end to end through `main()`, passphrases on stdin or from a (faked) prompt."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

import app.cli.main as cli_main
from app.core.storage import MessageRole, NoteKind, Store

PASSPHRASE = "correct horse battery staple"
NEW_PASSPHRASE = "seven purple otters juggle 42"
KDF = 64_000  # the lowest the settings allow

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> Run:
    # Only this command: the test must not depend on other commands' modules being importable.
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("app.cli.cmd_store",))
    monkeypatch.setenv("CLINIC_STORAGE__KDF_ITERATIONS", str(KDF))

    def invoke(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = cli_main.main(["--data-dir", str(tmp_path / "data"), *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_init_check_backup_passwd_restore_audit(run: Run, tmp_path: Path) -> None:
    db = tmp_path / "data" / "clinic.db"
    code, out, err = run("store", "init", "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert code == 0 and "Created an encrypted store" in out and db.is_file()
    code, _, err = run("store", "init", "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert code == 2 and "already exists" in err

    code, out, _ = run("store", "check", "--json", "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["cipher"]["kdf_iter"] == str(KDF)

    backup = tmp_path / "backup.db"
    code, out, err = run("store", "backup", str(backup), "--json", "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert code == 0 and json.loads(out)["path"] == str(backup) and backup.is_file()

    code, out, _ = run("store", "passwd", "--passphrase-stdin", stdin=f"{PASSPHRASE}\n{NEW_PASSPHRASE}\n")
    assert code == 0 and "Passphrase changed" in out
    code, _, err = run("store", "check", "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert code == 2 and "passphrase is wrong" in err
    code, out, _ = run("store", "check", "--passphrase-stdin", stdin=NEW_PASSPHRASE + "\n")
    assert code == 0 and out.startswith("OK:")

    code, _, err = run("store", "restore", str(backup), "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert code == 2 and "--force" in err
    code, out, _ = run("store", "restore", str(backup), "--force", "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert code == 0 and out.startswith("Restored")
    assert list((tmp_path / "data").glob("clinic.db.replaced-*"))

    code, out, _ = run("store", "audit", "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and rows[0]["action"] == "create_store" and rows[-1]["action"] == "unlock"
    # The restored log is the backup's (its own "backup" entry came after the copy), plus the restore.
    assert "restore" in {r["action"] for r in rows} and all(r["os_user"] for r in rows)
    out_file = tmp_path / "audit.json"
    code, _, err = run("store", "audit", "--format", "json", "-o", str(out_file), "--since", "2000-01-01",
                       "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert code == 0 and json.loads(out_file.read_text())[0]["action"] == "create_store"


def test_wrong_passphrase_exits_2_and_leaves_the_file(run: Run, tmp_path: Path) -> None:
    run("store", "init", "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    db = tmp_path / "data" / "clinic.db"
    before = sha256(db)
    code, out, err = run("store", "check", "--passphrase-stdin", stdin="not my passphrase\n")
    assert code == 2 and out == "" and err.startswith("error: The passphrase is wrong")
    assert len(err.strip().splitlines()) == 1
    assert sha256(db) == before


def test_export_needs_confirmation_and_writes_a_private_file(run: Run, tmp_path: Path) -> None:
    run("store", "init", "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    with Store.open(tmp_path / "data", PASSPHRASE, kdf_iterations=KDF) as store:
        r = store.repositories()
        pid = r.patients.add("Vandersloot", "Imke", date_of_birth=date(1980, 4, 4), mrn="V-77").id
        eid = r.encounters.add(pid, reason="knee").id
        r.messages.add(eid, MessageRole.USER, "q", "q")
        r.notes.accept(r.notes.create(eid, NoteKind.SOAP, "A: sprain").id)
    out_file = tmp_path / "notes.txt"
    code, _, err = run("store", "export", "--mrn", "V-77", "-o", str(out_file), "--passphrase-stdin",
                       stdin=PASSPHRASE + "\n")
    assert code == 2 and "NOT encrypted" in err and "--yes" in err and not out_file.exists()
    code, out, err = run("store", "export", "--mrn", "v77", "-o", str(out_file), "--yes", "--passphrase-stdin",
                         stdin=PASSPHRASE + "\n")
    assert code == 0 and "WARNING" in err and str(out_file) in out
    text = out_file.read_text()
    assert "Vandersloot, Imke" in text and "A: sprain" in text and "(version 1, accepted)" in text
    assert out_file.stat().st_mode & 0o777 == 0o600
    code, _, err = run("store", "export", "--patient-id", str(pid), "-o", str(out_file), "--yes",
                       "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert code == 2 and "already exists" in err


def test_prompted_passphrase_must_be_typed_twice_on_init(
    run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    answers = iter([PASSPHRASE, PASSPHRASE + "typo"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    code, _, err = run("store", "init")
    assert code == 2 and "differ" in err and not (tmp_path / "data" / "clinic.db").exists()
    answers = iter([PASSPHRASE, PASSPHRASE])
    code, out, _ = run("store", "init")
    assert code == 0 and "Created" in out


def test_weak_passphrase_and_missing_store_are_clear(run: Run) -> None:
    code, _, err = run("store", "init", "--passphrase-stdin", stdin="weak\n")
    assert code == 2 and "too weak" in err
    code, _, err = run("store", "check", "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert code == 2 and "store init" in err
    code, _, err = run("store", "init", "--passphrase-stdin", stdin="")
    assert code == 2 and "stdin" in err


def test_new_passphrases_are_checked_against_the_clinics_names(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`init` and `passwd` use the window's check: zxcvbn, with the doctor's and the patients' names worth nothing."""
    monkeypatch.setenv("CLINIC_UI__DOCTOR_NAME", "Dr Marguerite Quill")
    code, _, err = run("store", "init", "--passphrase-stdin", stdin="Marguerite Quill 1971\n")
    assert code == 2 and "too weak" in err and "a name or a word tied to this clinic" in err
    assert "Marguerite" not in err  # the passphrase is never repeated back
    code, _, _ = run("store", "init", "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert code == 0
    with Store(tmp_path / "data", kdf_iterations=KDF) as store:
        store.unlock(PASSPHRASE)
        store.repositories().patients.add("Thistlewood", "Oswin")
    for weak in ("Summer2024!!", "Oswin Thistlewood 1958"):
        code, _, err = run("store", "passwd", "--passphrase-stdin", stdin=f"{PASSPHRASE}\n{weak}\n")
        assert code == 2 and "too weak" in err, weak
    code, out, _ = run("store", "passwd", "--passphrase-stdin", stdin=f"{PASSPHRASE}\n{NEW_PASSPHRASE}\n")
    assert code == 0 and "Passphrase changed" in out
