"""Microphone capture (audio/capture.py).

The no-microphone case runs the real sounddevice/PortAudio in this machine's state (no sound server, so no
devices). The other cases need a device that misbehaves on cue, so they pass a small fake of the sounddevice module
(the unit seam `MicrophoneSource(backend=...)`): its stream calls our callback synchronously when started.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from app.core.audio.base import SAMPLE_RATE
from app.core.audio.capture import MicrophoneSource, choose_device, list_input_devices
from app.core.errors import AudioError, Cancelled, CancelToken


def test_no_microphone_is_a_clear_error_with_the_real_library() -> None:
    sounddevice = pytest.importorskip("sounddevice")
    try:
        present = len(sounddevice.query_devices()) > 0
    except sounddevice.PortAudioError:
        present = False
    if present:
        pytest.skip("this machine has audio devices; the no-microphone case needs none")
    assert list_input_devices() == []
    with pytest.raises(AudioError) as caught:
        next(iter(MicrophoneSource().chunks()))
    assert "No microphone" in caught.value.message
    assert "microphone" in caught.value.hint and "file" in caught.value.hint


class FakePortAudioError(Exception):
    pass


class FakeStream:
    def __init__(self, backend: FakeSoundDevice, **kwargs: Any) -> None:
        self.backend = backend
        self.kwargs = kwargs
        self.stopped = self.closed = self.aborted = False

    def start(self) -> None:
        rate = self.kwargs["samplerate"]
        frames = self.kwargs["blocksize"]
        for index in range(self.backend.blocks):
            block = np.full((frames, 1), 0.1 * (index + 1), dtype=np.float32)
            status = SimpleNamespace(input_overflow=index in self.backend.overruns)
            self.kwargs["callback"](block, frames, None, status)
        assert rate in self.backend.rates
        if self.backend.vanish:
            self.kwargs["finished_callback"]()

    def stop(self) -> None:
        self.stopped = True

    def abort(self) -> None:
        self.aborted = True

    def close(self) -> None:
        self.closed = True


class FakeSoundDevice:
    """The parts of the sounddevice module MicrophoneSource uses."""

    PortAudioError = FakePortAudioError

    def __init__(self, *, blocks: int = 5, rates: tuple[int, ...] = (SAMPLE_RATE,), vanish: bool = False,
                 overruns: tuple[int, ...] = (), names: tuple[str, ...] = ("USB Mic", "Laptop Mic")) -> None:
        self.blocks = blocks
        self.rates = rates
        self.vanish = vanish
        self.overruns = overruns
        self.names = names
        self.default = SimpleNamespace(device=[1, -1])
        self.streams: list[FakeStream] = []

    def query_devices(self) -> list[dict[str, Any]]:
        return [
            {"index": i, "name": name, "max_input_channels": 1, "default_samplerate": 48000.0}
            for i, name in enumerate(self.names)
        ] + [{"index": 9, "name": "Speakers", "max_input_channels": 0, "default_samplerate": 48000.0}]

    def check_input_settings(self, *, device: int, channels: int, dtype: str, samplerate: int) -> None:
        if samplerate not in self.rates:
            raise FakePortAudioError("Invalid sample rate")

    def InputStream(self, **kwargs: Any) -> FakeStream:
        stream = FakeStream(self, **kwargs)
        self.streams.append(stream)
        return stream


def record(source: MicrophoneSource, stop_after: int = 1) -> list[Any]:
    """Take chunks, pressing Stop after `stop_after` of them, as the UI would."""
    chunks = []
    for chunk in source.chunks():
        chunks.append(chunk)
        if len(chunks) == stop_after:
            source.stop()
    return chunks


def test_devices_are_listed_and_chosen_by_name_or_default() -> None:
    devices = list_input_devices(FakeSoundDevice())
    assert [d.name for d in devices] == ["USB Mic", "Laptop Mic"]  # outputs are not microphones
    assert choose_device(devices, "").name == "Laptop Mic"  # the system default
    assert choose_device(devices, "usb").name == "USB Mic"
    with pytest.raises(AudioError) as caught:
        choose_device(devices, "Headset")
    assert "USB Mic" in caught.value.hint


def test_stop_drains_everything_captured_before_it() -> None:
    backend = FakeSoundDevice(blocks=5)
    chunks = record(MicrophoneSource(backend=backend), stop_after=1)
    assert len(chunks) == 5  # Stop after the first: the four already captured still arrive
    assert sum(c.samples.size for c in chunks) == 5 * SAMPLE_RATE // 10
    assert backend.streams[0].stopped and backend.streams[0].closed
    assert [c.start_s for c in chunks] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    assert all(0.0 < c.level <= 1.0 for c in chunks)  # the level meter value
    assert all(c.dropped_s == 0 for c in chunks)


def test_a_full_queue_is_reported_never_silent() -> None:
    backend = FakeSoundDevice(blocks=6)
    chunks = record(MicrophoneSource(backend=backend, queue_seconds=0.2), stop_after=1)
    assert len(chunks) == 2  # the queue held two blocks
    assert sum(c.dropped_s for c in chunks) == pytest.approx(0.4)  # the other four are reported lost
    assert chunks[0].dropped_s == pytest.approx(0.4)


def test_a_device_overrun_is_reported() -> None:
    chunks = record(MicrophoneSource(backend=FakeSoundDevice(blocks=3, overruns=(1,))), stop_after=3)
    assert sum(c.dropped_s for c in chunks) == pytest.approx(0.1)


def test_a_device_that_refuses_16_khz_is_recorded_at_its_own_rate_and_converted() -> None:
    source = MicrophoneSource(backend=FakeSoundDevice(blocks=10, rates=(48000,)))
    chunks = record(source, stop_after=10)
    assert source.device_rate == 48000
    total = sum(c.samples.size for c in chunks)
    assert abs(total - SAMPLE_RATE) <= 32  # one second at 16 kHz (the filter's edge aside)


def test_a_device_that_refuses_every_rate_is_a_clear_error() -> None:
    with pytest.raises(AudioError) as caught:
        next(iter(MicrophoneSource(backend=FakeSoundDevice(rates=(44100,))).chunks()))
    assert "refuses" in caught.value.message


def test_a_device_that_vanishes_keeps_the_audio_captured_so_far() -> None:
    source = MicrophoneSource(backend=FakeSoundDevice(blocks=3, vanish=True))
    chunks = []
    with pytest.raises(AudioError) as caught:
        for chunk in source.chunks():
            chunks.append(chunk)
    assert len(chunks) == 3  # everything captured before it went away was handed on first
    assert "stopped delivering sound" in caught.value.message
    assert "kept" in caught.value.hint


def test_a_device_that_goes_silent_is_noticed_by_the_watchdog() -> None:
    source = MicrophoneSource(backend=FakeSoundDevice(blocks=0), stall_s=0.2)
    with pytest.raises(AudioError):
        list(source.chunks())


def test_cancel_aborts_the_stream() -> None:
    backend = FakeSoundDevice(blocks=3)
    cancel = CancelToken()
    source = MicrophoneSource(backend=backend)
    with pytest.raises(Cancelled):
        for _chunk in source.chunks(cancel):
            cancel.cancel()
    assert backend.streams[0].aborted and backend.streams[0].closed


def test_a_stop_before_capture_starts_still_ends_the_recording() -> None:
    source = MicrophoneSource(backend=FakeSoundDevice(blocks=2))
    source.stop()
    assert len(list(source.chunks())) == 2  # what the device had already delivered, then the end
