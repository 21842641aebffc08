"""`clinic-assistant transcribe`: one JSON object per good file, a clear error per bad file, non-zero exit at the
end."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from app.cli.main import main
from app.core.audio.synthetic import silence, speak, write_audio

pytestmark = pytest.mark.integration

TINY = ["--model", "whisper-tiny.en"]


@pytest.fixture(scope="module")
def dose_audio(models_dir: Path) -> np.ndarray:
    spoken = speak("Blood pressure is one forty over ninety.", models_dir / "piper" / "en_US-joe-medium.onnx")
    return np.concatenate([silence(0.4), spoken, silence(0.4)])


def test_json_per_file_and_bad_files_reported_without_stopping(
    dose_audio: np.ndarray, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    speech = write_audio(tmp_path / "bp.m4a", dose_audio, 44100, 2)
    quiet = write_audio(tmp_path / "quiet.ogg", silence(10.0), 48000, 1)
    junk = tmp_path / "junk.wav"
    junk.write_text("not audio at all " * 10)
    missing = tmp_path / "missing.flac"
    code = main(["transcribe", str(junk), str(speech), str(missing), str(quiet), *TINY, "--json"])
    out, err = capsys.readouterr()
    assert code != 0
    objects = [json.loads(line) for line in out.splitlines()]
    assert [o["file"] for o in objects] == [str(speech), str(quiet)]
    first, second = objects
    assert set(first) == {"file", "text", "language", "duration_s", "segments"}
    assert first["text"] == "Blood pressure is 140/90."
    assert first["language"] == "en" and first["duration_s"] == pytest.approx(dose_audio.size / 16000, abs=0.05)
    assert first["segments"] and set(first["segments"][0]) == {"start", "end", "text"}
    assert first["segments"][0]["text"] == "Blood pressure is 140 over 90."
    assert second["text"] == "" and second["segments"] == [] and second["duration_s"] == pytest.approx(10.0, abs=0.1)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 2 and str(junk) in errors[0] and str(missing) in errors[1]
    assert "Traceback" not in err


def test_plain_text_and_raw(dose_audio: np.ndarray, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    speech = write_audio(tmp_path / "bp.wav", dose_audio)
    assert main(["transcribe", str(speech), *TINY]) == 0
    assert capsys.readouterr().out == "Blood pressure is 140/90.\n"
    assert main(["transcribe", str(speech), *TINY, "--raw"]) == 0
    assert capsys.readouterr().out == "Blood pressure is 140 over 90.\n"


def test_a_language_the_model_cannot_do_is_a_clear_error(
    dose_audio: np.ndarray, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    speech = write_audio(tmp_path / "bp.wav", dose_audio)
    assert main(["transcribe", str(speech), *TINY, "--language", "fr"]) == 2
    err = capsys.readouterr().err
    assert "English only" in err and "whisper-base" in err


def test_an_unknown_model_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["transcribe", str(tmp_path / "x.wav"), "--model", "whisper-huge"]) == 2
    assert "error:" in capsys.readouterr().err


class _Terminal(io.StringIO):
    """stderr as a terminal: where `transcribe` shows its progress line."""

    def isatty(self) -> bool:
        return True


def test_a_long_file_shows_how_far_it_is_on_a_terminal(
    fixture_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.core.audio.decode import decode_file

    clips = [decode_file(fixture_data / "speech" / f"coqui_LJ001-000{i}.wav").samples for i in (1, 2, 3)]
    parts = [np.concatenate([clip, silence(1.0)]) for clip in clips]
    recording = write_audio(tmp_path / "visit.wav", np.concatenate(parts))
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["transcribe", str(recording), *TINY]) == 0
    assert "printing" in capsys.readouterr().out.lower()  # LJ001-0001 is about printing
    shown = re.findall(r"transcribing visit\.wav: (\d+):(\d\d) of (\d+):(\d\d) \((\d+) %\)", terminal.getvalue())
    assert len(shown) >= 3  # one line per recognised utterance, overwritten in place
    done = [int(m) * 60 + int(s) for m, s, *_ in shown]
    total = round(sum(p.size for p in parts) / 16000)
    assert done == sorted(done) and done[-1] <= total
    assert {(m, s) for _d, _ds, m, s, _p in shown} == {(str(total // 60), f"{total % 60:02d}")}
