"""`clinic-assistant redact`: --text, --jsonl (exact output format, bad lines reported by number, exit code),
--eval, and clear errors. Runs the real engine on the embedded spaCy model."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from app.cli.main import main


def test_text_plain_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    text = "Mr. John Smith, MRN 00482913, call 617-555-0199."
    assert main(["redact", "--text", text]) == 0
    assert capsys.readouterr().out.strip() == "Mr. [PATIENT_1], MRN [MRN_1], call [PHONE_1]."
    assert main(["redact", "--text", text, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["redacted_text"] == "Mr. [PATIENT_1], MRN [MRN_1], call [PHONE_1]."
    for s in out["spans"]:
        assert set(s) == {"start", "end", "kind", "text"}
        assert text[s["start"] : s["end"]] == s["text"]


def test_text_from_standard_input(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("Seen by Dr. Alice Wong on 03/04/2022.\n"))
    assert main(["redact", "--text", "-"]) == 0
    assert capsys.readouterr().out.strip() == "Seen by Dr. [CLINICIAN_1] on [DATE_1]."


def test_empty_text_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["redact", "--text", "   "]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: There is no text to redact")


def test_jsonl_good_and_bad_lines(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(
        b'{"id": "a", "text": "Call Jane Doe at 555-123-4567"}\n'
        b"not json at all\n"
        b"\n"
        b'{"id": "b"}\n'
        b"\xff\xfe\x00binary\n"
        b'{"id": 7, "text": ""}\n'
        b"[1, 2]\n"
        b'{"id": "d", "text": "Metformin 500 mg twice daily."}\n'
    )
    assert main(["redact", "--jsonl", str(path)]) == 2
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert [r["id"] for r in rows] == ["a", 7, "d"]
    assert rows[0]["redacted_text"] == "Call [PATIENT_1] at [PHONE_1]"
    assert rows[0]["spans"] == [
        {"start": 5, "end": 13, "kind": "NAME", "text": "Jane Doe"},
        {"start": 17, "end": 29, "kind": "PHONE", "text": "555-123-4567"},
    ]
    assert rows[1] == {"id": 7, "redacted_text": "", "spans": []}
    assert rows[2]["redacted_text"] == "Metformin 500 mg twice daily."
    for number in (2, 4, 5, 7):
        assert f"line {number}:" in captured.err
    assert "line 3:" not in captured.err  # blank lines are not errors
    assert "Jane" not in captured.err  # messages never quote patient text


def test_missing_file_and_exclusive_options(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["redact", "--jsonl", str(tmp_path / "nope.jsonl")]) == 2
    assert "Cannot read" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["redact", "--text", "x", "--eval", str(tmp_path / "g.jsonl")])
    assert exc.value.code == 2


def test_eval_on_a_small_gold_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = "Dr. Alice Morris saw the patient on May 3, 2022 (MRN: 00482913)."
    phi = []
    for value, kind in (("Alice Morris", "NAME"), ("May 3, 2022", "DATE"), ("00482913", "MRN")):
        start = text.index(value)
        phi.append({"start": start, "end": start + len(value), "type": kind, "text": value})
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        json.dumps({"id": "g1", "text": text, "phi": phi})
        + "\n"
        + json.dumps({"id": "g2", "text": "Aspirin 81 mg daily.", "phi": []})
        + "\n"
    )
    assert main(["redact", "--eval", str(gold), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["overall"]["span_recall"] == 1.0
    assert report["overall"]["span_precision"] == 1.0
    assert report["records_without_identifiers"]["false_positive_rate"] == 0.0
    assert main(["redact", "--eval", str(gold)]) == 0
    assert "OVERALL" in capsys.readouterr().out
