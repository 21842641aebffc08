"""`clinic-assistant check-note`: the JSON shape, the text report, and one-line errors with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli.main import main

TRANSCRIPT = (
    "[doctor] any chest pain ?\n[patient] no .\n"
    "[doctor] what do you take ?\n[patient] metformin five hundred milligrams twice a day .\n"
    "[doctor] and the knee ?\n[patient] my right knee has hurt for three days .\n"
)
NOTE = "SUBJECTIVE:\nDenies chest pain. Metformin 1000 mg twice daily.\nLeft knee pain for 3 days. Enjoys golf.\n"


def _files(tmp_path: Path, transcript: bytes | str = TRANSCRIPT, note: bytes | str = NOTE) -> tuple[str, str]:
    paths = []
    for name, content in (("transcript.txt", transcript), ("note.txt", note)):
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        paths.append(str(path))
    return paths[0], paths[1]


def test_json_shape_and_offsets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    transcript, note = _files(tmp_path)
    assert main(["check-note", "--transcript", transcript, "--note", note, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"sentences"}
    assert [s["text"] for s in data["sentences"]] == [
        "Denies chest pain.", "Metformin 1000 mg twice daily.", "Left knee pain for 3 days.", "Enjoys golf.",
    ]
    for sentence in data["sentences"]:
        assert set(sentence) == {"text", "start", "end", "support", "flags"}
        assert NOTE[sentence["start"] : sentence["end"]] == sentence["text"]
        for span in sentence["support"]:
            assert set(span) == {"start", "end"} and TRANSCRIPT[span["start"] : span["end"]].strip()
        for flag in sentence["flags"]:
            assert set(flag) == {"kind", "text", "start", "end", "reason"}
            assert NOTE[flag["start"] : flag["end"]] == flag["text"]
    reasons = [f["reason"] for s in data["sentences"] for f in s["flags"]]
    assert reasons == ["1000 mg: the consultation says 500 mg", "Left: the consultation says right"]
    assert data["sentences"][3]["support"] == []


def test_text_report_lists_flagged_and_unsupported_sentences(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    transcript, note = _files(tmp_path)
    assert main(["check-note", "--transcript", transcript, "--note", note]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "    number: 1000 mg: the consultation says 500 mg" in out
    assert "    unsupported: nothing in the consultation says this" in out
    assert not any("Denies chest pain" in line for line in out)
    assert out[-1] == "4 sentence(s): 3 supported, 1 unsupported; 2 flag(s) (laterality 1, number 1)"


def test_missing_file_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _transcript, note = _files(tmp_path)
    assert main(["check-note", "--transcript", str(tmp_path / "nope.txt"), "--note", note]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: The transcript file") and "does not exist" in err[0]


def test_empty_note_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    transcript, note = _files(tmp_path, note="  \n")
    assert main(["check-note", "--transcript", transcript, "--note", note]) == 2
    assert capsys.readouterr().err.startswith("error: The note file")


def test_text_that_is_not_utf8_is_read_with_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    transcript, note = _files(tmp_path, transcript=TRANSCRIPT.encode("utf-8") + b"caf\xe9 \xff\n")
    assert main(["check-note", "--transcript", transcript, "--note", note, "--json"]) == 0
    captured = capsys.readouterr()
    assert "warning: 2 character(s) of the transcript file" in captured.err
    assert json.loads(captured.out)["sentences"]
