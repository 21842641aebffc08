"""Playing audio chunks on a speaker, with pause, stop and volume that act at once.

The `Player` owns a queue of sample blocks and a `render` function that the audio callback calls for each output
buffer: it only copies from the queue (never blocks on synthesis), writes silence when paused or when the next
sentence is not ready yet, and applies the volume sample by sample, so a volume change is heard within one buffer.
Stop clears the queue and aborts the stream (dropping what the device had buffered), so speech ends at once.

The stream itself comes from a `StreamOpener`: `open_sounddevice_stream` in the app, a fake in tests.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from app.core.errors import AudioError, EngineUnavailable
from app.core.tts.base import AudioChunk

log = logging.getLogger(__name__)

RenderFn = Callable[[np.ndarray], bool]  # fill one float32 mono block; False = everything has been played

NO_DEVICE_HINT = (
    "Connect speakers or headphones and check the system's sound settings; the answer can still be read on screen "
    "or saved as a WAV file"
)


class OutputStream(Protocol):
    def start(self) -> None: ...

    def abort(self) -> None:
        """Stop at once, dropping buffered audio."""
        ...

    def close(self) -> None: ...


@dataclass
class OpenedStream:
    stream: OutputStream
    sample_rate: int  # what the device actually runs at (the Player resamples to it)


class StreamOpener(Protocol):
    def __call__(
        self, sample_rate: int, device: str, render: RenderFn, on_finished: Callable[[], None]
    ) -> OpenedStream: ...


@dataclass(frozen=True)
class OutputDevice:
    index: int
    name: str
    is_default: bool


def _import_sounddevice() -> Any:
    try:
        import sounddevice
    except (ImportError, OSError) as exc:  # OSError: the PortAudio library itself is missing
        raise EngineUnavailable(
            f"The audio output library cannot be loaded ({type(exc).__name__})",
            "Install PortAudio (Debian/Ubuntu: `apt install libportaudio2`) and the sounddevice package",
        ) from None
    return sounddevice


def list_output_devices() -> list[OutputDevice]:
    """Speakers PortAudio can see (none on a machine without a sound server)."""
    sd = _import_sounddevice()
    default_out = sd.default.device[1]
    return [
        OutputDevice(int(d["index"]), str(d["name"]), int(d["index"]) == default_out)
        for d in sd.query_devices()
        if d["max_output_channels"] > 0
    ]


def find_output_device(name: str) -> int | None:
    """The index of the speaker called `name` (exact, else the only one containing it); None = system default."""
    if not name:
        return None
    devices = list_output_devices()
    exact = [d for d in devices if d.name == name]
    partial = [d for d in devices if name.lower() in d.name.lower()]
    match = exact or (partial if len(partial) == 1 else [])
    if match:
        return match[0].index
    names = ", ".join(d.name for d in devices)
    raise AudioError(
        f"The audio output '{name}' was not found" + (" (several match)" if len(partial) > 1 else ""),
        (f"Available: {names}" if names else "No audio outputs are available")
        + "; set tts.output_device to one of them, or leave it empty for the system default",
    )


def open_sounddevice_stream(
    sample_rate: int, device: str, render: RenderFn, on_finished: Callable[[], None]
) -> OpenedStream:
    """A sounddevice output stream pulling from `render`. No device -> AudioError with a hint."""
    sd = _import_sounddevice()
    index = find_output_device(device)

    def callback(outdata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        if status.output_underflow:
            log.debug("audio output underflow")
        if not render(outdata[:, 0]):
            raise sd.CallbackStop  # the buffers already written still play; then on_finished runs

    def open_at(rate: int) -> OutputStream:
        stream: OutputStream = sd.OutputStream(
            samplerate=rate, channels=1, dtype="float32", device=index, callback=callback,
            finished_callback=on_finished,
        )
        return stream

    try:
        try:
            return OpenedStream(open_at(sample_rate), sample_rate)
        except sd.PortAudioError as exc:
            if "sample rate" not in str(exc).lower():
                raise
            # Some hardware devices (ALSA hw:) only run at their own rate: play at that and resample.
            rate = int(sd.query_devices(index, "output")["default_samplerate"])
            log.info("output device refuses %d Hz; resampling to %d Hz", sample_rate, rate)
            return OpenedStream(open_at(rate), rate)
    except sd.PortAudioError as exc:
        log.warning("no audio output: %s", type(exc).__name__)
        raise AudioError("No audio output device is available", NO_DEVICE_HINT) from None


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Linear resampling: enough for speech on a device that will not take the voice's own rate."""
    if from_rate == to_rate or not len(samples):
        return samples
    count = round(len(samples) * to_rate / from_rate)
    positions = np.linspace(0, len(samples) - 1, count)
    return np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)


class Player:
    """Queue chunks while they are synthesised; they play in order, gap-free, from the audio thread."""

    def __init__(
        self,
        sample_rate: int,
        device: str = "",
        volume: float = 1.0,
        open_stream: StreamOpener = open_sounddevice_stream,
    ) -> None:
        self.sample_rate = sample_rate
        self.device = device
        self._open_stream = open_stream
        self._volume = min(max(volume, 0.0), 1.0)
        self._lock = threading.Lock()
        self._queue: collections.deque[np.ndarray] = collections.deque()
        self._offset = 0  # samples of the head block already played
        self._paused = False
        self._input_done = False
        self._stopped = False
        self._done = threading.Event()
        self._stream: OutputStream | None = None
        self._stream_rate = sample_rate
        self._started = False
        self.played_samples = 0  # at the device's rate

    # -- control (any thread) ---------------------------------------------------------------------------------

    def open(self) -> None:
        """Open the output device now (raises AudioError if there is none), before any synthesis is spent.
        A stopped player stays closed: it is used for one answer only."""
        if self._stream is None and not self._stopped:
            opened = self._open_stream(self.sample_rate, self.device, self.render, self._on_finished)
            self._stream, self._stream_rate = opened.stream, opened.sample_rate

    def enqueue(self, chunk: AudioChunk | np.ndarray) -> None:
        samples = chunk.samples if isinstance(chunk, AudioChunk) else chunk
        if self._stopped:
            return
        self.open()  # the device's rate decides the resampling
        samples = resample(np.asarray(samples, dtype=np.float32), self.sample_rate, self._stream_rate)
        with self._lock:
            if self._stopped:
                return
            self._queue.append(samples)
        self._start()

    def end_of_input(self) -> None:
        """No more chunks will come: playback finishes when the queue is empty."""
        with self._lock:
            self._input_done = True
        self._start()

    def pause(self) -> None:
        self._paused = True

    def resume(self) -> None:
        self._paused = False

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def volume(self) -> float:
        return self._volume

    @volume.setter
    def volume(self, value: float) -> None:
        self._volume = min(max(float(value), 0.0), 1.0)

    def stop(self) -> None:
        """Silence at once: drop everything queued and abort the device's buffers."""
        with self._lock:
            self._stopped = True
            self._queue.clear()
            self._offset = 0
            stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.abort()
            finally:
                stream.close()
        self._done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until everything is played or playback was stopped; True if so within `timeout`."""
        finished = self._done.wait(timeout)
        if finished:
            self._close()
        return finished

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    @property
    def stopped(self) -> bool:
        return self._stopped

    @property
    def queued_seconds(self) -> float:
        with self._lock:
            queued = sum(len(block) for block in self._queue) - self._offset
        return queued / self._stream_rate

    # -- audio thread -------------------------------------------------------------------------------------------

    def render(self, out: np.ndarray) -> bool:
        """Fill one output block. Called by the audio callback: copies only, never waits."""
        filled = 0
        with self._lock:
            if not self._paused and not self._stopped:
                while filled < len(out) and self._queue:
                    head = self._queue[0]
                    take = min(len(out) - filled, len(head) - self._offset)
                    out[filled : filled + take] = head[self._offset : self._offset + take]
                    filled += take
                    self._offset += take
                    if self._offset == len(head):
                        self._queue.popleft()
                        self._offset = 0
            more = not self._stopped and (bool(self._queue) or not self._input_done)
        out[filled:] = 0.0  # silence: paused, or the next sentence is still being synthesised
        if filled:
            out[:filled] *= self._volume
        self.played_samples += filled
        return more

    # -- internals ----------------------------------------------------------------------------------------------

    def _start(self) -> None:
        if self._started or self._stopped:
            return
        self.open()
        stream = self._stream
        if stream is None:  # stopped from another thread meanwhile
            return
        self._started = True
        stream.start()

    def _on_finished(self) -> None:
        self._done.set()

    def _close(self) -> None:
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()
