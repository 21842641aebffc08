"""Playback through the real sounddevice/PortAudio stack to a real (virtual) device: a private PulseAudio server with
a null sink, whose monitor we record. Covers what the fake stream cannot: the audio callback, CallbackStop at the end,
the finished callback, and abort on Stop. Each test runs the app in a subprocess, because PortAudio lists devices
once per process.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SINK = "clinic_test_speaker"


@pytest.fixture(scope="module")
def pulse_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The PULSE_SERVER address of a private server (never the user's own sound server)."""
    if not (shutil.which("pulseaudio") and shutil.which("parecord")):
        pytest.skip("needs pulseaudio and pulseaudio-utils (Debian) for a virtual sound device")
    runtime = tmp_path_factory.mktemp("pulse")
    socket_path = runtime / "native"
    env = {**os.environ, "PULSE_RUNTIME_PATH": str(runtime), "HOME": str(runtime)}
    # -D returns once the daemon is ready (it reports its start-up through a pipe): no polling needed.
    subprocess.run(
        ["pulseaudio", "-D", "-n", "--exit-idle-time=-1", "--use-pid-file=yes",
         f"--load=module-native-protocol-unix socket={socket_path}",
         f"--load=module-null-sink sink_name={SINK}", "--load=module-always-sink"],
        env=env, check=True, capture_output=True, timeout=30,
    )
    pid = int((runtime / "pid").read_text().strip())
    try:
        yield f"unix:{socket_path}"
    finally:
        os.kill(pid, signal.SIGTERM)


def _env(pulse_server: str) -> dict[str, str]:
    # Built per test: os.environ then holds this test's isolated config and data dirs (tests/conftest.py).
    return {**os.environ, "PULSE_SERVER": pulse_server}


def _record(env: dict[str, str], path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["parecord", f"--device={SINK}.monitor", "--file-format=wav", "--channels=1", str(path)], env=env
    )


def _rms(path: Path) -> float:
    with wave.open(str(path)) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(samples**2))) if len(samples) else 0.0


def test_speak_plays_to_the_default_device(pulse_server: str, tmp_path: Path) -> None:
    recording = tmp_path / "heard.wav"
    recorder = _record(_env(pulse_server), recording)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "app", "speak", "Give 0.5 mg now. Recheck in 2 weeks.", "--json"],
            capture_output=True, text=True, cwd=REPO, env=_env(pulse_server), timeout=120,
        )
    finally:
        recorder.terminate()
        recorder.wait(10)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["played"] and result["sentences"] == 2 and result["duration_s"] > 2
    assert _rms(recording) > 100  # the speech really reached the device


STOP_SCRIPT = """
import json, threading, time
from pathlib import Path
from app.core.tts.piper_engine import PiperSpeaker
from app.core.tts.playback import Player
from app.core.tts.read_aloud import ReadAloud
from app.core.tts.voices import resolve_voice

speaker = PiperSpeaker(resolve_voice("en_US-joe-medium", Path("models")))
second_sentence = threading.Event()
session = ReadAloud(speaker, Player(speaker.sample_rate),
                    on_chunk=lambda chunk: chunk.sentence_index >= 1 and second_sentence.set())
results = []
worker = threading.Thread(target=lambda: results.append(session.run(
    ["The first sentence is being read now. This second one must never be heard in full. " * 4])))
worker.start()
assert second_sentence.wait(60)
stop_at = time.perf_counter()
session.stop()
silenced_after = time.perf_counter() - stop_at
worker.join(30)
print(json.dumps({"stopped": results[0].stopped, "silenced_after_s": silenced_after,
                  "returned_after_s": time.perf_counter() - stop_at,
                  "played_s": session.player.played_samples / speaker.sample_rate,
                  "made_s": results[0].audio_seconds}))
"""


def test_stop_during_real_playback_silences_at_once(pulse_server: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", STOP_SCRIPT], capture_output=True, text=True, cwd=REPO, env=_env(pulse_server),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["stopped"] is True
    assert result["silenced_after_s"] < 0.25  # stop() aborts the device's buffers: measured 2-70 ms here
    # The worker returns once the sentence being synthesised is done (Piper cannot be interrupted mid-sentence).
    assert result["returned_after_s"] < 5.0
    assert result["played_s"] < result["made_s"]  # cut off mid-answer, not played to the end
