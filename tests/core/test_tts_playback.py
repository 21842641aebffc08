"""Playback: the Player through a fake output stream (the seam the audio callback uses), ReadAloud's stop, and the
real sounddevice library's behaviour on a machine without speakers."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator

import numpy as np
import pytest

from app.core.errors import AudioError, CancelToken
from app.core.tts.base import AudioChunk, VoiceInfo
from app.core.tts.playback import OpenedStream, Player, RenderFn, resample
from app.core.tts.read_aloud import ReadAloud

RATE = 100  # tiny blocks keep the arithmetic readable


class FakeStream:
    """Stands in for sounddevice.OutputStream: the test plays the audio callback's part with `pull`."""

    def __init__(self, render: RenderFn, on_finished: Callable[[], None]) -> None:
        self.render, self.on_finished = render, on_finished
        self.started = self.aborted = self.closed = False

    def start(self) -> None:
        self.started = True

    def abort(self) -> None:
        self.aborted = True

    def close(self) -> None:
        self.closed = True

    def pull(self, frames: int) -> tuple[np.ndarray, bool]:
        out = np.full(frames, np.nan, dtype=np.float32)
        more = self.render(out)
        if not more:
            self.on_finished()
        return out, more


class FakeOpener:
    def __init__(self, device_rate: int | None = None, fail: AudioError | None = None) -> None:
        self.device_rate, self.fail = device_rate, fail
        self.stream: FakeStream | None = None
        self.calls: list[tuple[int, str]] = []

    def __call__(
        self, sample_rate: int, device: str, render: RenderFn, on_finished: Callable[[], None]
    ) -> OpenedStream:
        self.calls.append((sample_rate, device))
        if self.fail:
            raise self.fail
        self.stream = FakeStream(render, on_finished)
        return OpenedStream(self.stream, self.device_rate or sample_rate)


def chunk(values: Iterable[float], index: int = 0) -> AudioChunk:
    return AudioChunk(np.asarray(list(values), dtype=np.float32), RATE, index, "")


def test_chunks_play_in_order_without_gaps_across_buffers() -> None:
    opener = FakeOpener()
    player = Player(RATE, device="Speakers", open_stream=opener)
    player.enqueue(chunk([0.1, 0.2, 0.3, 0.4, 0.5]))
    player.enqueue(chunk([0.6, 0.7]))
    assert opener.calls == [(RATE, "Speakers")] and opener.stream and opener.stream.started
    block1, more1 = opener.stream.pull(3)
    block2, more2 = opener.stream.pull(3)
    np.testing.assert_allclose(np.concatenate([block1, block2]), [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    assert more1 and more2
    # The next sentence is not ready yet: silence, and keep going.
    block3, more3 = opener.stream.pull(3)
    np.testing.assert_allclose(block3, [0.7, 0.0, 0.0])
    assert more3 and not player.finished
    player.end_of_input()
    _, more4 = opener.stream.pull(3)
    assert not more4 and player.wait(timeout=0)
    assert opener.stream.closed and player.played_samples == 7


def test_pause_outputs_silence_and_resume_continues_where_it_stopped() -> None:
    opener = FakeOpener()
    player = Player(RATE, open_stream=opener)
    player.enqueue(chunk([0.1, 0.2, 0.3, 0.4]))
    assert opener.stream
    opener.stream.pull(1)
    player.pause()
    paused, more = opener.stream.pull(2)
    assert more and not paused.any() and player.paused
    player.resume()
    resumed, _ = opener.stream.pull(2)
    np.testing.assert_allclose(resumed, [0.2, 0.3])


def test_volume_applies_to_the_very_next_buffer_and_is_clamped() -> None:
    opener = FakeOpener()
    player = Player(RATE, volume=0.5, open_stream=opener)
    player.enqueue(chunk([0.8, 0.8, 0.8, 0.8]))
    assert opener.stream
    first, _ = opener.stream.pull(2)
    player.volume = 0.25
    second, _ = opener.stream.pull(2)
    np.testing.assert_allclose(first, [0.4, 0.4])
    np.testing.assert_allclose(second, [0.2, 0.2])
    player.volume = 7
    assert player.volume == 1.0


def test_stop_silences_at_once_and_clears_the_queue() -> None:
    opener = FakeOpener()
    player = Player(RATE, open_stream=opener)
    player.enqueue(chunk(np.full(500, 0.5)))
    player.enqueue(chunk(np.full(500, 0.5)))
    assert opener.stream and player.queued_seconds == pytest.approx(10.0)
    opener.stream.pull(10)
    stream = opener.stream
    player.stop()
    assert stream.aborted and stream.closed  # abort drops what the device had buffered
    assert player.queued_seconds == 0 and player.stopped
    assert player.wait(timeout=0)
    after, more = stream.pull(10)
    assert not more and not after.any()
    player.enqueue(chunk([0.9]))  # a sentence synthesised after Stop is dropped
    assert player.queued_seconds == 0


def test_a_device_at_another_rate_gets_resampled_audio() -> None:
    opener = FakeOpener(device_rate=2 * RATE)
    player = Player(RATE, open_stream=opener)
    player.enqueue(chunk(np.linspace(0, 1, 50)))
    assert player.queued_seconds == pytest.approx(0.5, abs=0.01)
    assert len(resample(np.zeros(22050, np.float32), 22050, 48000)) == 48000


def test_no_device_is_reported_when_the_player_opens_not_later() -> None:
    error = AudioError("No audio output device is available", "Connect speakers")
    player = Player(RATE, open_stream=FakeOpener(fail=error))
    with pytest.raises(AudioError, match="No audio output"):
        player.open()


class FakeSpeaker:
    """One chunk of 1 s per sentence of the token list; records how far it got."""

    def __init__(self) -> None:
        self.speed = 1.0
        self.sentences_made = 0

    @property
    def voice(self) -> VoiceInfo:
        from pathlib import Path

        return VoiceInfo("fake", Path("fake.onnx"), Path("fake.onnx.json"), RATE)

    @property
    def sample_rate(self) -> int:
        return RATE

    def synthesize(self, text: str, cancel: CancelToken | None = None) -> Iterator[AudioChunk]:
        return self.speak_stream([text], cancel)

    def speak_stream(self, tokens: Iterable[str], cancel: CancelToken | None = None) -> Iterator[AudioChunk]:
        for index, token in enumerate(tokens):
            if cancel:
                cancel.raise_if_cancelled()
            self.sentences_made += 1
            yield AudioChunk(np.full(RATE, 0.5, dtype=np.float32), RATE, index, token)


def test_read_aloud_plays_everything_then_returns() -> None:
    opener = FakeOpener()
    session = ReadAloud(FakeSpeaker(), Player(RATE, open_stream=opener))
    result_box: list[object] = []
    worker = threading.Thread(target=lambda: result_box.append(session.run(["One.", "Two."])))
    worker.start()
    played: list[np.ndarray] = []
    while True:  # the audio thread's part, until the player says everything is played
        if opener.stream is None or not opener.stream.started:
            worker.join(timeout=0.01)
            continue
        block, more = opener.stream.pull(RATE // 2)
        played.append(block)
        if not more:
            break
    worker.join(timeout=10)
    result = result_box[0]
    assert not worker.is_alive()
    assert result.stopped is False and result.sentences == 2 and result.audio_seconds == 2.0  # type: ignore[attr-defined]
    assert np.concatenate(played)[: 2 * RATE].min() == pytest.approx(0.5)


def test_stop_during_playback_silences_and_stops_synthesis() -> None:
    opener = FakeOpener()
    speaker = FakeSpeaker()
    first_queued = threading.Event()
    release = threading.Event()

    def on_chunk(_: AudioChunk) -> None:
        first_queued.set()
        release.wait(10)  # hold synthesis after the first sentence, like a model still writing the answer

    session = ReadAloud(speaker, Player(RATE, open_stream=opener), on_chunk=on_chunk)
    result_box: list[object] = []
    worker = threading.Thread(target=lambda: result_box.append(session.run([f"S{i}." for i in range(50)])))
    worker.start()
    assert first_queued.wait(10)
    assert opener.stream is not None
    speaking, _ = opener.stream.pull(10)
    assert speaking.any()
    session.stop()
    release.set()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert result_box[0].stopped is True  # type: ignore[attr-defined]
    assert opener.stream.aborted
    silent, more = opener.stream.pull(10)
    assert not silent.any() and not more
    assert speaker.sentences_made <= 2  # synthesis stopped at the next check, not after 50 sentences


def test_speed_and_volume_reach_speaker_and_player() -> None:
    speaker = FakeSpeaker()
    session = ReadAloud(speaker, Player(RATE, open_stream=FakeOpener()))
    session.speed = 1.5
    session.volume = 0.3
    assert speaker.speed == 1.5 and session.volume == pytest.approx(0.3)
    session.speed = 9
    assert speaker.speed == 2.0


# -- the real sounddevice library on this machine (no sound server, so no devices) -----------------------------


def _real_devices() -> list[object]:
    from app.core.tts.playback import list_output_devices

    return list(list_output_devices())


def test_an_unknown_device_name_is_an_audio_error_listing_the_choices() -> None:
    from app.core.tts.playback import find_output_device

    with pytest.raises(AudioError) as info:
        find_output_device("no-such-speaker-model-x")
    assert "no-such-speaker-model-x" in info.value.message
    assert "tts.output_device" in info.value.hint
    assert find_output_device("") is None  # empty = the system default


def test_no_output_device_is_an_audio_error_with_a_hint() -> None:
    from app.core.tts.playback import open_sounddevice_stream

    if _real_devices():
        pytest.skip("this machine has an audio output; the no-device path needs one without")
    with pytest.raises(AudioError) as info:
        open_sounddevice_stream(22050, "", lambda out: False, lambda: None)
    assert info.value.message == "No audio output device is available"
    assert "speakers" in info.value.hint
    player = Player(22050)
    with pytest.raises(AudioError):
        player.enqueue(chunk([0.1]))
