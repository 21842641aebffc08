"""Audio files in any format, rate and channel count -> 16 kHz mono; bad files are clear errors (audio/decode.py),
and file replay as a fake microphone (audio/replay.py)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from app.core.audio.base import SAMPLE_RATE, level_dbfs, meter_value
from app.core.audio.decode import decode_file
from app.core.audio.replay import FileReplaySource, ReplaySource
from app.core.audio.resample import StreamResampler, resample
from app.core.audio.synthetic import silence, white_noise, write_audio
from app.core.errors import AudioError, Cancelled, CancelToken


def tone(seconds: float, hz: float = 440.0, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(samples.size, 1 / SAMPLE_RATE)[int(np.argmax(spectrum))])


@pytest.mark.parametrize(
    ("suffix", "rate", "channels"),
    [(".wav", 44100, 2), (".wav", 8000, 1), (".flac", 22050, 1), (".flac", 96000, 2), (".mp3", 48000, 2),
     (".ogg", 48000, 1), (".ogg", 24000, 2), (".m4a", 44100, 2), (".wav", 48000, 6)],
)
def test_any_format_rate_and_channel_count_decodes_to_16_khz_mono(
    tmp_path: Path, suffix: str, rate: int, channels: int
) -> None:
    path = write_audio(tmp_path / f"clip{suffix}", tone(2.0), rate, channels)
    audio = decode_file(path)
    decoded_rate = 48000 if suffix == ".ogg" else rate  # Opus always decodes at 48 kHz, whatever it was fed
    assert (audio.source_rate, audio.source_channels) == (decoded_rate, channels)
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    assert audio.duration_s == pytest.approx(2.0, abs=0.06)  # encoders pad a frame at most
    assert dominant_hz(audio.samples) == pytest.approx(440.0, abs=2.0)


def test_missing_empty_and_non_audio_files_are_clear_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio " * 20)
    header_only = tmp_path / "header.wav"
    header_only.write_bytes(write_audio(tmp_path / "full.wav", tone(0.5)).read_bytes()[:44])
    cases = {
        tmp_path / "missing.mp3": "does not exist",
        tmp_path: "folder",
        empty: "empty",
        text: "not a readable audio file",
        header_only: "",
    }
    for path, words in cases.items():
        with pytest.raises(AudioError) as caught:
            decode_file(path)
        assert str(path) in caught.value.message and words in caught.value.message
        assert caught.value.hint


@pytest.mark.parametrize(("suffix", "rate"), [(".wav", 16000), (".flac", 44100), (".mp3", 44100), (".ogg", 48000)])
def test_truncated_files_are_clear_errors_or_read_in_part_on_request(tmp_path: Path, suffix: str, rate: int) -> None:
    whole = write_audio(tmp_path / f"whole{suffix}", tone(4.0), rate, 1).read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(AudioError) as caught:
        decode_file(cut)
    assert "truncated" in caught.value.message or "not a readable" in caught.value.message
    if "truncated" in caught.value.message:
        partial = decode_file(cut, allow_partial=True)
        assert 1.0 < partial.duration_s < 3.0


def test_decoding_can_be_cancelled(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "clip.flac", tone(3.0), 16000)
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        decode_file(path, cancel)


def test_resampling_streams_without_losing_samples() -> None:
    source = 44100
    signal = np.sin(2 * np.pi * 300 * np.arange(source * 2) / source).astype(np.float32)
    whole = resample(signal, source)
    streamer = StreamResampler(source)
    pieces = [streamer.push(signal[i : i + 4410]) for i in range(0, signal.size, 4410)] + [streamer.flush()]
    streamed = np.concatenate(pieces)
    assert whole.size == streamed.size == 2 * SAMPLE_RATE
    assert np.allclose(whole, streamed, atol=1e-4)
    assert dominant_hz(streamed) == pytest.approx(300, abs=1)


def test_level_meter_values() -> None:
    assert meter_value(silence(0.1)) == 0.0
    assert level_dbfs(tone(0.1, amplitude=1.0)) == pytest.approx(-3.0, abs=0.1)
    quiet, loud = meter_value(white_noise(0.1, rms=0.01)), meter_value(white_noise(0.1, rms=0.3))
    assert 0.0 < quiet < loud <= 1.0


def test_file_replay_as_fast_as_possible_yields_the_whole_file(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "clip.wav", tone(1.05), 44100, 2)
    source = FileReplaySource(path, chunk_s=0.1)
    chunks = list(source.chunks())
    assert source.description == "file: clip.wav"
    assert len(chunks) == 11 and chunks[-1].samples.size < 1600
    assert sum(c.samples.size for c in chunks) == pytest.approx(1.05 * SAMPLE_RATE, abs=64)
    assert all(c.captured_at is None for c in chunks)


def test_real_time_replay_keeps_pace_and_stop_ends_it() -> None:
    source = ReplaySource(tone(10.0), realtime=True, chunk_s=0.05)
    timer = threading.Timer(0.3, source.stop)
    timer.start()
    began = time.monotonic()
    chunks = list(source.chunks())
    elapsed = time.monotonic() - began
    timer.join()
    # About 0.3 s of audio in about 0.3 s: paced by the wall clock, and Stop ended the wait at once.
    assert 0.25 <= elapsed < 1.0
    assert 0.15 <= sum(c.duration_s for c in chunks) <= elapsed + 0.05
    assert all(c.captured_at is not None and c.captured_at <= time.monotonic() for c in chunks)


def test_replay_cancel() -> None:
    cancel = CancelToken()
    source = ReplaySource(tone(1.0))
    with pytest.raises(Cancelled):
        for _ in source.chunks(cancel):
            cancel.cancel()


def test_a_stop_before_the_replay_starts_still_counts() -> None:
    source = ReplaySource(tone(5.0), realtime=True)
    source.stop()  # the doctor pressed Stop before the worker thread got going
    assert list(source.chunks()) == []
