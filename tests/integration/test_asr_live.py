"""Live dictation with the real engines: Piper speaks, a replay source plays it as a microphone would (the fake
device the UI tests use), Silero cuts it at pauses and Whisper transcribes each utterance."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.core.asr.faster_whisper_engine import FasterWhisperTranscriber, load_transcriber
from app.core.asr.live import LiveTranscriber
from app.core.asr.vocabulary import load_vocabulary
from app.core.audio.base import SAMPLE_RATE
from app.core.audio.replay import FileReplaySource, ReplaySource
from app.core.audio.synthetic import silence, speak, write_audio
from app.core.config import AsrSettings

pytestmark = pytest.mark.integration

SENTENCES = (
    "The patient takes metformin five hundred milligrams twice daily.",
    "Blood pressure is one forty over ninety.",
    "Patient has a rash.",
    "Scratch that.",
    "Patient has a cough.",
)


@pytest.fixture(scope="module")
def dictation(models_dir: Path) -> np.ndarray:
    voice = models_dir / "piper" / "en_US-joe-medium.onnx"
    pieces = [silence(0.3)]
    for sentence in SENTENCES:
        pieces += [speak(sentence, voice), silence(0.9)]  # the doctor pauses between sentences
    return np.concatenate(pieces)


class Recorder:
    """The real recogniser, with the time and length of each call noted."""

    def __init__(self, inner: FasterWhisperTranscriber) -> None:
        self.inner = inner
        self.name = inner.name
        self.multilingual = inner.multilingual
        self.calls: list[tuple[float, float]] = []  # (monotonic time of the call, seconds of audio)

    def transcribe(self, audio: Any, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((time.monotonic(), audio.size / SAMPLE_RATE))
        return self.inner.transcribe(audio, *args, **kwargs)


def test_dictation_from_a_replayed_file(dictation: np.ndarray, models_dir: Path, tmp_path: Path) -> None:
    path = write_audio(tmp_path / "dictation.mp3", dictation, 44100, 2)
    recogniser = Recorder(load_transcriber(AsrSettings(), models_dir, "whisper-tiny.en"))
    asr = AsrSettings()
    live = LiveTranscriber.from_settings(recogniser, asr, load_vocabulary(asr))
    updates = list(live.run(FileReplaySource(path)))
    final = updates[-1]
    assert final.final and live.result is not None and final.confirmed == live.result.text
    text = live.result.text
    assert "metformin 500 mg twice daily" in text and "140/90" in text, text
    assert text.endswith("Patient has a cough.") and "rash" not in text, text  # "scratch that" removed it
    assert len(recogniser.calls) == len(SENTENCES)  # one decode per utterance: no whole-recording pass
    assert live.result.duration_s == pytest.approx(dictation.size / SAMPLE_RATE, abs=0.1)
    assert [s.start for s in live.result.segments] == sorted(s.start for s in live.result.segments)
    assert all(u.level >= 0 for u in updates) and any(u.level > 0.3 for u in updates)


def test_real_time_dictation_previews_then_finishes_right_after_stop(models_dir: Path) -> None:
    voice = models_dir / "piper" / "en_US-joe-medium.onnx"
    audio = np.concatenate([
        silence(0.3),
        speak("Continue atorvastatin forty milligrams at night and review the lipid profile in three months.", voice),
        silence(0.8),
        speak("Blood pressure is one forty over ninety.", voice),
    ])  # Stop comes right as the last word ends
    recogniser = Recorder(load_transcriber(AsrSettings(), models_dir, "whisper-base"))
    asr = AsrSettings()
    live = LiveTranscriber.from_settings(recogniser, asr, load_vocabulary(asr))
    source = ReplaySource(audio, realtime=True)
    updates = list(live.run(source))
    assert source.started_at is not None
    stop_at = source.started_at + audio.size / SAMPLE_RATE
    final_at = time.monotonic()
    assert any(u.tentative and not u.final for u in updates), "no tentative text while speaking"
    text = updates[-1].confirmed
    assert "40 mg at night" in text and "lipid profile" in text and text.endswith("140/90."), text
    # Incremental: the first utterance was decoded while the doctor was still speaking, not in a pass after Stop.
    # (How long the final text takes after Stop is a speed figure: `bench asr` measures it, not this test.)
    assert any(at < stop_at for at, _seconds in recogniser.calls), recogniser.calls
    assert final_at >= stop_at
