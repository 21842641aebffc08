"""Silence and noise must produce no text, with both models, through both paths (a file; live dictation).

Without the guards Whisper writes "you", "I'm going to use the air conditioner." or a hint term thirty times into
exactly this audio (measured while building the guards).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.core.asr.base import DecodeOptions
from app.core.asr.faster_whisper_engine import FasterWhisperTranscriber, load_transcriber
from app.core.asr.files import transcribe_file, transcribe_samples
from app.core.asr.live import LiveTranscriber
from app.core.asr.vocabulary import load_vocabulary
from app.core.audio.base import SAMPLE_RATE
from app.core.audio.replay import ReplaySource
from app.core.audio.synthetic import silence, white_noise, write_audio
from app.core.config import AsrSettings

pytestmark = pytest.mark.integration


def hum(seconds: float) -> np.ndarray:
    """Mains hum with harmonics plus a little hiss: the sound of a quiet consulting room."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    tone = sum(0.02 / k * np.sin(2 * np.pi * 50 * k * t) for k in (1, 2, 3))
    return (tone + white_noise(seconds, rms=0.003, seed=7)).astype(np.float32)


CLIPS = {
    "silence_10s": lambda: silence(10.0),
    "digital_silence_30s": lambda: silence(30.0),
    "quiet_white_noise_20s": lambda: white_noise(20.0, rms=0.01, seed=1),
    "loud_white_noise_15s": lambda: white_noise(15.0, rms=0.2, seed=2),
    "room_hum_12s": lambda: hum(12.0),
}


@pytest.fixture(scope="module", params=("whisper-tiny.en", "whisper-base"))
def transcriber(request: pytest.FixtureRequest, models_dir: Path) -> FasterWhisperTranscriber:
    return load_transcriber(AsrSettings(), models_dir, request.param)


@pytest.fixture(scope="module")
def options() -> DecodeOptions:
    asr = AsrSettings()
    return DecodeOptions.from_settings(asr, load_vocabulary(asr))  # with the hints, which invite echoes


@pytest.mark.parametrize("clip", sorted(CLIPS))
def test_no_text_from_a_file(
    clip: str, transcriber: FasterWhisperTranscriber, options: DecodeOptions, tmp_path: Path
) -> None:
    path = write_audio(tmp_path / f"{clip}.flac", CLIPS[clip](), 44100, 2)
    transcript = transcribe_file(path, transcriber, options)
    assert transcript.text == "" and transcript.segments == ()


@pytest.mark.parametrize("clip", sorted(CLIPS))
def test_no_text_while_dictating(clip: str, transcriber: FasterWhisperTranscriber) -> None:
    asr = AsrSettings()
    live = LiveTranscriber.from_settings(transcriber, asr, load_vocabulary(asr))
    updates = list(live.run(ReplaySource(CLIPS[clip]())))
    assert all(u.confirmed == "" and u.tentative == "" for u in updates)
    assert live.result is not None and live.result.text == ""


def test_guards_still_apply_when_the_vad_is_off(transcriber: FasterWhisperTranscriber, options: DecodeOptions) -> None:
    """With VAD off the model does see the noise; the no-speech, probability and echo guards must catch it."""
    for clip in ("silence_10s", "quiet_white_noise_20s", "loud_white_noise_15s"):
        transcript = transcribe_samples(transcriber, CLIPS[clip](), options.for_utterances())
        assert transcript.text == "", f"{transcriber.name} invented text in {clip}"
