"""`demo` runs the whole pipeline on the shipped sample; `self-check` reports every engine OK."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import wave
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


def _cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        # A fixed seed: with a random one SmolLM2 now and then rambled past max_tokens, and the demo rightly
        # refused the cut-off note (seen once in about ten runs).
        env={**os.environ, "CLINIC_LLM__SEED": "7", "CLINIC_LLM__TEMPERATURE": "0"},
        timeout=900,
    )


def test_demo_on_the_shipped_sample(tmp_path: Path) -> None:
    wav = tmp_path / "note.wav"
    proc = _cli("demo", "--json", "--model", "smollm2-135m-instruct", "-o", str(wav), data_dir=tmp_path / "data")
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert "metformin" in out["transcript"].lower() or "pneumonia" in out["transcript"].lower()
    for identifier in ("447291", "4409", "Larkfield"):
        assert identifier not in out["redacted"], f"{identifier} reached the model"
    assert "[MRN_1]" in out["redacted"]
    assert out["note"].startswith("SUBJECTIVE")
    assert {s["record"] for s in out["saved"]} >= {"encounter", "transcript", "redaction_map", "note"}
    with wave.open(str(wav)) as w:
        assert w.getnframes() > w.getframerate()  # more than a second of speech
    if os.name == "posix":
        assert stat.S_IMODE(wav.stat().st_mode) == 0o600  # a patient's note, spoken: owner-only
    assert out["timeline"]["speech_end_to_transcript_s"] is not None
    assert (tmp_path / "data" / "demo" / "clinic.db").is_file()
    # Running it again reuses the demo store and its patient.
    again = _cli("demo", "--json", "--no-speech", "--model", "smollm2-135m-instruct", data_dir=tmp_path / "data")
    assert again.returncode == 0, again.stderr[-2000:]


def test_demo_with_an_unreadable_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00not audio at all")
    proc = _cli("demo", str(bad), "--no-speech", data_dir=tmp_path / "data")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error:")


def test_self_check_reports_every_engine(tmp_path: Path) -> None:
    proc = _cli("self-check", "--json", data_dir=tmp_path / "data")
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    results = {r["engine"]: r for r in json.loads(proc.stdout)}
    for engine in ("speech recognition", "redaction", "language model", "read-aloud", "encrypted store"):
        assert results[engine]["status"] == "ok", results[engine]
    assert results["audio devices"]["status"] in {"ok", "warning"}
    assert not (tmp_path / "data" / "clinic.db").exists(), "self-check must not create the user's store"
