"""Streaming voice-activity detection and utterance cutting (asr/vad.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.core.asr.vad import WINDOW, SegmenterConfig, StreamingVad, UtteranceSegmenter
from app.core.audio.decode import decode_file

PAD = 6  # windows of padding for pad_s=0.2 (32 ms windows)


def test_streaming_probabilities_equal_a_whole_recording_pass(fixture_data: Path) -> None:
    """Silero carries state from window to window: fed in odd-sized blocks it must match faster-whisper's own pass."""
    faster_whisper_vad = pytest.importorskip("faster_whisper.vad")
    audio = decode_file(fixture_data / "speech" / "coqui_LJ001-0002.wav").samples
    audio = audio[: audio.size // WINDOW * WINDOW]
    reference = faster_whisper_vad.get_vad_model()(audio).reshape(-1)
    vad = StreamingVad()
    pieces = [vad.push(audio[i : i + 1237]) for i in range(0, audio.size, 1237)]
    streamed = np.concatenate([*pieces, vad.flush()])
    assert streamed.shape == reference.shape
    assert np.allclose(streamed, reference, atol=1e-5)
    assert reference.max() > 0.9 and reference.min() < 0.5  # speech and quiet both occur in the clip


def probs(*runs: tuple[float, int]) -> np.ndarray:
    """(probability, windows) runs -> window probabilities."""
    return np.concatenate([np.full(n, p, dtype=np.float32) for p, n in runs])


def test_utterances_end_at_pauses_with_padding() -> None:
    segmenter = UtteranceSegmenter(SegmenterConfig(pause_s=0.5, pad_s=0.2))
    closed = segmenter.push(probs((0.0, 20), (0.9, 40), (0.0, 30), (0.9, 30), (0.0, 5)))
    assert len(closed) == 1
    first = closed[0]
    assert first.start == (20 - PAD) * WINDOW and first.voiced_end == 60 * WINDOW and first.end == (60 + PAD) * WINDOW
    still_open = segmenter.open_utterance()
    assert still_open is not None and still_open.start == (90 - PAD) * WINDOW
    assert segmenter.open_speech_s == pytest.approx(30 * WINDOW / 16000)
    last = segmenter.finish()
    assert last is not None and last.voiced_end == 120 * WINDOW and last.end == 125 * WINDOW  # bounded by the end
    assert segmenter.finish() is None


def test_a_short_dip_does_not_end_an_utterance_and_a_blip_is_not_one() -> None:
    segmenter = UtteranceSegmenter(SegmenterConfig(pause_s=0.5))
    closed = segmenter.push(probs((0.9, 30), (0.0, 8), (0.9, 30), (0.0, 40), (0.9, 3), (0.0, 40)))
    assert len(closed) == 1  # the 0.26 s dip stays inside; the 0.1 s blip is dropped
    assert closed[0].voiced_end == 68 * WINDOW


def test_an_utterance_longer_than_the_limit_is_cut_at_its_quietest_moment() -> None:
    segmenter = UtteranceSegmenter(SegmenterConfig(max_utterance_s=5.0, pause_s=0.5))
    speech = probs((0.9, 100), (0.4, 2), (0.9, 100))  # 6.5 s without a pause, one hesitation at 3.2 s
    closed = segmenter.push(speech)
    assert len(closed) == 1 and closed[0].end == 100 * WINDOW
    rest = segmenter.finish()
    assert rest is not None and rest.start == 100 * WINDOW  # the next piece starts where the cut was
    assert segmenter.keep_from() <= rest.end
