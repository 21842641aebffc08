"""`clinic-assistant speak`: WAV export with the real voice, voice listing, the spoken form, and clear errors."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from app.cli.main import main

REPO = Path(__file__).resolve().parents[2]


def test_spoken_text_shows_what_the_voice_will_say(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["speak", "--spoken-text", "Give 0.5 mg b.i.d. BP 140/90 mmHg, Dr. Lee."]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Give zero point five milligrams twice daily.",
        "blood pressure one hundred forty over ninety millimeters of mercury, Doctor Lee.",
    ]
    assert main(["speak", "--spoken-text", "--json", "Seen [PATIENT_1] on 2024-03-12."]) == 0
    spoken = json.loads(capsys.readouterr().out)
    assert spoken == {"sentences": ["Seen the patient on March twelfth, twenty twenty four."]}


def test_text_from_standard_input(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("Take 5-10 mg q4h.\n"))
    assert main(["speak", "--spoken-text", "-"]) == 0
    assert capsys.readouterr().out.strip() == "Take five to ten milligrams every four hours."


def test_list_voices(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["speak", "--list-voices", "--json"]) == 0
    voices = {v["name"]: v for v in json.loads(capsys.readouterr().out)}
    joe = voices["en_US-joe-medium"]
    assert joe["selected"] and joe["usable"] and joe["sample_rate"] == 22050
    assert main(["speak", "--list-voices"]) == 0
    assert "* en_US-joe-medium" in capsys.readouterr().out
    assert main(["--models-dir", str(tmp_path), "speak", "--list-voices"]) == 0
    assert "none" in capsys.readouterr().err


@pytest.mark.integration
def test_export_a_wav_file_with_the_real_voice(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "answer.wav"
    assert main(["speak", "Give 0.5 mg IV now. Recheck BP 140/90 in 2 weeks.", "-o", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["output"] == str(out) and result["sentences"] == 2 and result["voice"] == "en_US-joe-medium"
    with wave.open(str(out)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 22050)
        seconds = wav.getnframes() / wav.getframerate()
    assert seconds == pytest.approx(result["duration_s"], abs=0.01)
    assert 3.0 < seconds < 12.0  # ~17 spoken words
    assert main(["speak", "Short one.", "-o", str(tmp_path / "b.wav"), "--voice", "en_US-joe-medium"]) == 0
    assert "b.wav" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["speak", "   ", "-o", "x.wav"], "No text to speak"),
        (["speak"], "No text to speak"),
        (["speak", "Hello.", "-o", "x.mp3"], "does not end in .wav"),
        (["speak", "Hello.", "-o", "no/such/dir/x.wav"], "does not exist"),
        (["speak", "Hello.", "--voice", "nobody", "-o", "x.wav"], "No voice named 'nobody'"),
        (["speak", "Hello.", "--speed", "5", "-o", "x.wav"], "out of range"),
    ],
)
def test_bad_input_is_one_clear_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err


def test_playing_without_a_sound_device_is_a_clear_error() -> None:
    # The real sounddevice/PortAudio stack, with no sound server reachable (as on this machine).
    env = {**os.environ, "PULSE_SERVER": "unix:/nonexistent/clinic-assistant-test"}
    proc = subprocess.run(
        [sys.executable, "-m", "app", "speak", "Give 0.5 mg now."],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "error: No audio output device is available." in proc.stderr
    assert "speak TEXT -o OUT.wav" in proc.stderr
    assert proc.stdout == ""
