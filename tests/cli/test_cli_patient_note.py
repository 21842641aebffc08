"""`clinic-assistant patient add|summary` and `note add` end to end through `main()`, passphrases on stdin."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

import app.cli.main as cli_main

PASSPHRASE = "correct horse battery staple"
KDF = 64_000  # the lowest the settings allow

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Run:
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("app.cli.cmd_store", "app.cli.cmd_patient", "app.cli.cmd_note"))
    monkeypatch.setenv("CLINIC_STORAGE__KDF_ITERATIONS", str(KDF))

    def invoke(*argv: str, stdin: str = PASSPHRASE + "\n") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = cli_main.main(["--data-dir", str(tmp_path / "data"), *argv])
        out, err = capsys.readouterr()
        return code, out, err

    assert invoke("store", "init", "--passphrase-stdin")[0] == 0
    return invoke


def _add_note(run: Run, tmp_path: Path, day: str, text: str, *extra: str) -> dict[str, object]:
    path = tmp_path / f"note-{day}.txt"
    path.write_text(text, encoding="utf-8")
    code, out, err = run("note", "add", "--mrn", "MRN-7", "--reason", "Review", "--date", day, "--text", str(path),
                         "--accept", "--json", "--passphrase-stdin", *extra)
    assert code == 0, err
    result: dict[str, object] = json.loads(out)
    return result


def test_patient_notes_and_summary(run: Run, tmp_path: Path) -> None:
    code, out, err = run("patient", "add", "--name", "Nakamura, Emi", "--dob", "1961-04-23", "--mrn", "MRN-7",
                         "--json", "--passphrase-stdin")
    assert code == 0, err
    patient = json.loads(out)
    assert patient["family_name"] == "Nakamura" and patient["given_names"] == "Emi"
    assert patient["age"] == date.today().year - 1961 - (1 if (date.today().month, date.today().day) < (4, 23) else 0)

    code, out, _ = run("patient", "summary", "--mrn", "MRN-7", "--passphrase-stdin")
    assert code == 0 and "No accepted notes yet" in out  # said plainly

    first = _add_note(run, tmp_path, "2025-01-10", "ASSESSMENT AND PLAN\nHypertension. BP 150/95.\n"
                                                   "Start lisinopril 10 mg once daily.\nFollow up in 2 weeks.")
    assert first["accepted"] is True and first["extraction"]["status"] == "done"  # type: ignore[index]
    # from stdin, after the passphrase line, and not accepted: an open draft
    code, out, err = run("note", "add", "--mrn", "MRN-7", "--reason", "Phone call", "--date", "2025-01-20", "-",
                         "--json", "--passphrase-stdin",
                         stdin=PASSPHRASE + "\nPLAN\nStop lisinopril.\n")
    assert code == 0, err
    draft = json.loads(out)
    assert draft["accepted"] is False and draft["extraction"] is None
    _add_note(run, tmp_path, "2025-02-10", "ASSESSMENT AND PLAN\nHypertension. BP 132/84.\n"
                                           "Increase lisinopril to 20 mg once daily.")

    code, out, err = run("patient", "summary", "--mrn", "MRN-7", "--json", "--passphrase-stdin")
    assert code == 0, err
    summary = json.loads(out)
    assert {"problems", "medications", "allergies", "vitals", "results", "last_plan", "follow_ups",
            "open_drafts"} <= set(summary)
    [medication] = summary["medications"]
    assert (medication["name"], medication["dose"], medication["frequency"], medication["status"],
            medication["since"]) == ("lisinopril", "20 mg", "once daily", "active", "2025-01-10")
    assert set(medication["source"]) >= {"encounter_id", "note_id", "sentence"}
    assert medication["source"]["sentence"] == "Increase lisinopril to 20 mg once daily."
    assert [h["change"] for h in medication["history"]] == ["started", "dose changed"]
    assert [d["note_id"] for d in summary["open_drafts"]] == [draft["note_id"]]
    [bp] = summary["vitals"]
    assert bp["latest"]["value"] == "132/84" and [p["value"] for p in bp["previous"]] == ["150/95"]
    assert summary["patient"]["mrn"] == "MRN-7"

    code, out, _ = run("patient", "summary", "--mrn", "MRN-7", "--refresh", "--passphrase-stdin")
    assert code == 0 and "lisinopril 20 mg, once daily" in out and "Increase lisinopril" in out


def test_bad_input_is_a_clear_error(run: Run, tmp_path: Path) -> None:
    code, _, err = run("patient", "add", "--name", "Kim, Ji", "--dob", "1990-13-01", "--mrn", "X", "--passphrase-stdin")
    assert code == 2 and "--dob is not a date" in err
    code, _, err = run("patient", "summary", "--mrn", "nobody", "--passphrase-stdin")
    assert code == 2 and "No patient has that MRN" in err
    code, _, err = run("note", "add", "--mrn", "X", "--reason", "R", "--date", "2025-01-01", "--passphrase-stdin")
    assert code == 2 and "Give the note once" in err
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    code, _, err = run("note", "add", "--mrn", "X", "--reason", "R", "--date", "2025-01-01", "--text", str(empty),
                       "--passphrase-stdin")
    assert code == 2 and "The note is empty" in err
    code, _, err = run("patient", "summary", "--mrn", "X", "--passphrase-stdin", stdin="wrong passphrase entirely\n")
    assert code == 2 and "passphrase" in err.lower()
