"""The end of speech is read off the audio: the last loud sample's capture time, not when the source ran dry."""

from __future__ import annotations

import time

import numpy as np

from app.core.audio.base import SAMPLE_RATE
from app.core.audio.replay import ReplaySource
from app.core.services.end_marking import FRAME, EndMarkingSource, samples_after_speech


def _tone(seconds: float, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE), dtype=np.float32) / SAMPLE_RATE
    return (amplitude * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def test_samples_after_the_last_loud_frame() -> None:
    speech, silence = _tone(0.3), np.zeros(FRAME * 5, dtype=np.float32)  # 0.3 s is 10 whole frames
    assert samples_after_speech(np.concatenate([speech, silence])) == FRAME * 5
    assert samples_after_speech(silence) is None
    assert samples_after_speech(np.zeros(10, dtype=np.float32)) is None  # shorter than a frame


def test_the_mark_ignores_trailing_silence_and_a_late_consumer() -> None:
    # 0.3 s of speech then 0.5 s of silence, replayed in real time; the consumer asks for the end late.
    audio = np.concatenate([_tone(0.3), np.zeros(int(0.5 * SAMPLE_RATE), dtype=np.float32)])
    ended_at: list[float] = []
    source = EndMarkingSource(ReplaySource(audio, realtime=True, chunk_s=0.1),
                              lambda ago: ended_at.append(time.monotonic() - ago))
    chunks = source.chunks()
    began = time.monotonic()
    for _ in range(8):
        next(chunks)
    time.sleep(0.3)  # a decode still running before the transcriber asks for the next chunk
    assert next(chunks, None) is None and len(ended_at) == 1
    assert 0.25 <= ended_at[0] - began <= 0.45  # the tone ends 0.3 s into the replay, not 1.1 s


def test_the_end_callback_reports_how_long_ago_speech_ended() -> None:
    audio = np.concatenate([_tone(0.2), np.zeros(int(0.4 * SAMPLE_RATE), dtype=np.float32)])
    got: list[float] = []
    source = EndMarkingSource(ReplaySource(audio, realtime=True, chunk_s=0.1), got.append)
    for _chunk in source.chunks():
        pass
    assert len(got) == 1
    assert 0.3 <= got[0] <= 0.6  # the 0.4 s of silence after the last word (plus scheduling slack)


def test_no_speech_marks_the_moment_the_source_ran_dry() -> None:
    got: list[float] = []
    for _chunk in EndMarkingSource(ReplaySource(np.zeros(SAMPLE_RATE // 2, dtype=np.float32)), got.append).chunks():
        pass
    assert got == [0.0]
