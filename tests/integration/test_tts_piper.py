"""The real Piper voice (models/piper/en_US-joe-medium.onnx): valid audio of plausible length, streaming that starts
before the answer ends, cancel, speed, stop during playback, and the benchmark's plumbing."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from app.core.config import load_settings
from app.core.errors import Cancelled, CancelToken
from app.core.tts.base import Speaker
from app.core.tts.piper_engine import PiperSpeaker
from app.core.tts.playback import OpenedStream, Player, RenderFn
from app.core.tts.read_aloud import ReadAloud
from app.core.tts.voices import resolve_voice

pytestmark = pytest.mark.integration

ANSWER = (
    "Start amlodipine 5 mg once daily. Recheck BP 140/90 mmHg in 2-4 weeks. "
    "Continue metformin 0.5 g b.i.d. with meals. Dr. Patel will review."
)


@pytest.fixture(scope="module")
def speaker(models_dir: Path) -> PiperSpeaker:
    return PiperSpeaker(resolve_voice("en_US-joe-medium", models_dir), sentence_pause_s=0.2)


def test_the_speaker_meets_the_protocol(speaker: PiperSpeaker) -> None:
    assert isinstance(speaker, Speaker)
    assert speaker.sample_rate == 22050 and speaker.voice.name == "en_US-joe-medium"


def test_synthesised_audio_is_valid_and_of_plausible_length(speaker: PiperSpeaker) -> None:
    chunks = list(speaker.synthesize(ANSWER))
    assert [c.sentence_index for c in chunks] == sorted(c.sentence_index for c in chunks)
    assert {c.sentence_index for c in chunks} == {0, 1, 2, 3}
    audio = np.concatenate([c.samples for c in chunks])
    assert audio.dtype == np.float32 and np.isfinite(audio).all() and np.abs(audio).max() <= 1.0
    assert np.sqrt(np.mean(audio**2)) > 0.02  # speech, not silence
    spoken_words = sum(len(speaker.normaliser(s).split()) for s in {c.sentence for c in chunks})
    seconds = len(audio) / speaker.sample_rate
    # Conversational speech is ~2-4 words a second; the voice must be neither clipped nor stretched.
    assert 0.2 * spoken_words < seconds < 0.6 * spoken_words
    # Later sentences open with the configured pause; the first does not.
    second = next(c for c in chunks if c.sentence_index == 1)
    assert not second.samples[: int(0.2 * 22050)].any()
    assert chunks[0].samples[: int(0.2 * 22050)].any()


def test_streaming_speaks_the_first_sentence_before_the_answer_is_finished(speaker: PiperSpeaker) -> None:
    tokens = [" Give", " 0", ".", "5", " mg", " now", ".", " Then", " rest", " for", " a", " while", "."]
    consumed: list[str] = []

    def model() -> Iterator[str]:
        for token in tokens:
            consumed.append(token)
            yield token

    stream = speaker.speak_stream(model())
    first = next(stream)
    assert first.sentence == "Give 0.5 mg now." and first.sentence_index == 0
    assert len(consumed) == tokens.index(" Then") + 1  # released by the next token, not by the end of the answer
    rest = list(stream)
    assert rest and rest[-1].sentence == "Then rest for a while."


def test_cancel_stops_between_chunks(speaker: PiperSpeaker) -> None:
    cancel = CancelToken()
    stream = speaker.synthesize(ANSWER, cancel)
    next(stream)
    cancel.cancel()
    with pytest.raises(Cancelled):
        next(stream)


def test_speed_changes_the_length_of_speech(speaker: PiperSpeaker) -> None:
    # Piper draws phoneme durations with noise, and the silence at each part's edges does not scale: on one short
    # sentence at 1.5x the ratio ranged 0.70-0.80. A long sentence at 2x measures 0.64-0.66 (ideal 0.5).
    text = (
        "Take two tablets every morning with water, and come back to the clinic in two weeks "
        "so that we can check your blood pressure again."
    )

    def seconds() -> float:
        return sum(c.duration_s for c in speaker.synthesize(text))

    normal = seconds()
    speaker.speed = 2.0
    try:
        fast = seconds()
    finally:
        speaker.speed = 1.0
    assert 0.45 < fast / normal < 0.8


class _PullStream:
    def __init__(self, render: RenderFn, on_finished: object) -> None:
        self.render = render
        self.aborted = False

    def start(self) -> None: ...

    def abort(self) -> None:
        self.aborted = True

    def close(self) -> None: ...


def test_stop_during_playback_of_real_speech(speaker: PiperSpeaker) -> None:
    streams: list[_PullStream] = []

    def opener(sample_rate: int, device: str, render: RenderFn, on_finished: Callable[[], None]) -> OpenedStream:
        streams.append(_PullStream(render, on_finished))
        return OpenedStream(streams[-1], sample_rate)

    first_sentence = threading.Event()
    player = Player(speaker.sample_rate, open_stream=opener)
    session = ReadAloud(speaker, player, on_chunk=lambda _: first_sentence.set())
    results: list[object] = []
    worker = threading.Thread(target=lambda: results.append(session.run([" ".join([ANSWER] * 3)])))
    worker.start()
    assert first_sentence.wait(60)
    block = np.zeros(2048, dtype=np.float32)
    for _ in range(5):  # ~0.5 s of the first sentence reaches the device
        assert streams[0].render(block)
    assert block.any()
    session.stop()
    worker.join(timeout=60)
    assert not worker.is_alive() and results[0].stopped  # type: ignore[attr-defined]
    assert streams[0].aborted
    assert not streams[0].render(block) and not block.any()  # silent at once
    assert results[0].sentences < 12  # type: ignore[attr-defined]


def test_bench_quick_reports_its_figures(models_dir: Path, tmp_path: Path) -> None:
    from app.core.bench.common import BenchRequest
    from app.core.bench.tts import model_tokens, run

    assert "".join(model_tokens("Give 0.5 mg.")) == "Give 0.5 mg."
    figures = run(BenchRequest(load_settings().settings, models_dir, tmp_path, quick=True))
    assert figures["voice"] == "en_US-joe-medium"
    assert 0 < figures["first_sentence_to_audio_s"] < 10
    assert 0 < figures["rtf"] < 2
    assert figures["ratio_vs_direct_total"] > 0 and figures["ratio_vs_direct_first_audio"] > 0
    assert 0 < figures["stream_start_speaking_s"] < figures["wait_whole_answer_start_speaking_s"] + 5
    assert figures["peak_rss_mib"] > 50
