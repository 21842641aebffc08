"""Microphone capture with sounddevice (PortAudio).

The PortAudio callback only copies the block into a bounded queue. When the queue is full the block is counted as
lost and the next chunk carries `dropped_s`, so the UI can say so (Buzz drops such audio silently; we do not).
Stop stops the stream first (PortAudio waits for the callback in flight), then every queued block is handed on:
nothing spoken before Stop is lost. Converting to 16 kHz mono happens on the consumer's thread, not in the callback.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.core.audio.base import SAMPLE_RATE, AudioChunk, meter_value
from app.core.audio.resample import StreamResampler, to_mono
from app.core.errors import AudioError, CancelToken, EngineUnavailable

log = logging.getLogger(__name__)

BLOCK_S = 0.1
NO_MIC_HINT = (
    "Connect a microphone and check that the system's sound settings show it, then press Record again. "
    "You can still transcribe an audio file"
)


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    channels: int
    default_samplerate: float
    is_default: bool


def import_sounddevice() -> Any:
    try:
        import sounddevice
    except (ImportError, OSError) as exc:
        # sounddevice raises OSError when the PortAudio library itself is missing.
        raise EngineUnavailable(
            f"Audio capture (PortAudio) is not available ({type(exc).__name__})",
            "Install PortAudio (Debian/Ubuntu: libportaudio2) or reinstall the application",
        ) from None
    return sounddevice


def list_input_devices(backend: Any = None) -> list[InputDevice]:
    """The microphones PortAudio sees; empty when there are none (or no sound system at all)."""
    sd = backend or import_sounddevice()
    try:
        devices = sd.query_devices()
        default_in = int(sd.default.device[0])
    except sd.PortAudioError:
        return []
    return [
        InputDevice(int(d["index"]), str(d["name"]), int(d["max_input_channels"]), float(d["default_samplerate"]),
                    int(d["index"]) == default_in)
        for d in devices
        if int(d["max_input_channels"]) > 0
    ]


def choose_device(devices: list[InputDevice], wanted: str) -> InputDevice:
    """The named device (exact, then case-insensitive part of the name), or the system default, or the first."""
    if not devices:
        raise AudioError("No microphone was found", NO_MIC_HINT)
    if wanted:
        for device in devices:
            if device.name == wanted:
                return device
        for device in devices:
            if wanted.lower() in device.name.lower():
                return device
        names = ", ".join(d.name for d in devices)
        raise AudioError(f"The microphone '{wanted}' is not connected", f"Choose one of: {names}")
    return next((d for d in devices if d.is_default), devices[0])


class MicrophoneSource:
    """A real microphone as an `AudioSource`. One recording per source object: a Stop that arrives before the worker
    has started iterating still counts (so it is never cleared)."""

    def __init__(
        self, device: str = "", *, queue_seconds: float = 120.0, stall_s: float = 3.0, backend: Any = None
    ) -> None:
        self._wanted = device
        self._queue_blocks = max(2, int(queue_seconds / BLOCK_S))
        self._stall_s = stall_s  # no audio for this long while recording means the device went away
        self._backend = backend  # a sounddevice-like module; tests pass a fake
        self._stop = threading.Event()
        self._ended = threading.Event()  # PortAudio finished the stream on its own
        self._lock = threading.Lock()
        self._lost_frames = 0
        self._queue: queue.Queue[tuple[np.ndarray, float]] = queue.Queue(self._queue_blocks)
        self.device: InputDevice | None = None
        self.device_rate = SAMPLE_RATE

    @property
    def description(self) -> str:
        return self.device.name if self.device else (self._wanted or "default microphone")

    def stop(self) -> None:
        self._stop.set()

    # --- PortAudio thread -------------------------------------------------------------------------------------
    def _on_block(self, indata: np.ndarray, frames: int, _time: Any, status: Any) -> None:
        lost = frames if getattr(status, "input_overflow", False) else 0
        try:
            self._queue.put_nowait((indata.copy(), time.monotonic()))
        except queue.Full:
            lost += frames
        if lost:
            with self._lock:
                self._lost_frames += lost

    def _on_finished(self) -> None:
        self._ended.set()

    # --- consumer thread --------------------------------------------------------------------------------------
    def _open(self, sd: Any) -> Any:
        device = choose_device(list_input_devices(sd), self._wanted)
        self.device = device
        channels = 1
        rate = SAMPLE_RATE
        try:
            sd.check_input_settings(device=device.index, channels=channels, dtype="float32", samplerate=rate)
        except sd.PortAudioError:
            # Many devices only run at 44.1/48 kHz: record at the device's rate and convert.
            rate = int(device.default_samplerate)
            try:
                sd.check_input_settings(device=device.index, channels=channels, dtype="float32", samplerate=rate)
            except sd.PortAudioError as exc:
                raise AudioError(
                    f"The microphone '{device.name}' refuses to record at 16 kHz or {rate} Hz ({exc})",
                    "Choose another microphone, or set its format in the system's sound settings",
                ) from None
            log.info("microphone records at %d Hz; converting to %d Hz", rate, SAMPLE_RATE)
        self.device_rate = rate
        try:
            return sd.InputStream(
                device=device.index, channels=channels, samplerate=rate, dtype="float32",
                blocksize=int(rate * BLOCK_S), callback=self._on_block, finished_callback=self._on_finished,
            )
        except sd.PortAudioError as exc:
            raise AudioError(f"The microphone '{device.name}' cannot be opened ({exc})", NO_MIC_HINT) from None

    def chunks(self, cancel: CancelToken | None = None) -> Iterator[AudioChunk]:
        sd = self._backend or import_sounddevice()
        stream = self._open(sd)
        resampler = StreamResampler(self.device_rate)
        position = 0  # samples at 16 kHz handed on so far
        reported_lost = 0
        failure: AudioError | None = None
        try:
            stream.start()
        except sd.PortAudioError as exc:
            stream.close()
            raise AudioError(f"The microphone '{self.description}' cannot start ({exc})", NO_MIC_HINT) from None
        last_data = time.monotonic()
        try:
            while True:
                if cancel is not None and cancel.cancelled:
                    stream.abort()
                    cancel.raise_if_cancelled()
                if self._stop.is_set():
                    try:
                        stream.stop()  # waits for the callback in flight: after this the queue holds everything
                    except sd.PortAudioError:
                        log.warning("microphone stream could not be stopped cleanly")
                    break
                try:
                    block, captured_at = self._queue.get(timeout=0.05)
                except queue.Empty:
                    if self._ended.is_set() or time.monotonic() - last_data > self._stall_s:
                        failure = AudioError(
                            f"The microphone '{self.description}' stopped delivering sound",
                            "It may have been unplugged. The text so far is kept; reconnect it and press Record",
                        )
                        break
                    continue
                last_data = time.monotonic()
                chunk, position, reported_lost = self._to_chunk(resampler, block, captured_at, position, reported_lost)
                if chunk is not None:
                    yield chunk
            # Drain: everything captured before Stop (or before the device vanished) is handed on.
            while True:
                try:
                    block, captured_at = self._queue.get_nowait()
                except queue.Empty:
                    break
                chunk, position, reported_lost = self._to_chunk(resampler, block, captured_at, position, reported_lost)
                if chunk is not None:
                    yield chunk
            tail = resampler.flush()
            if tail.size:
                yield AudioChunk(tail, position / SAMPLE_RATE, meter_value(tail), time.monotonic())
        finally:
            stream.close()
        if failure is not None:
            raise failure

    def _to_chunk(
        self, resampler: StreamResampler, block: np.ndarray, captured_at: float, position: int, reported_lost: int
    ) -> tuple[AudioChunk | None, int, int]:
        samples = resampler.push(to_mono(block))
        with self._lock:
            lost = self._lost_frames
        dropped_s = (lost - reported_lost) / self.device_rate
        if samples.size == 0 and not dropped_s:
            return None, position, lost
        chunk = AudioChunk(samples, position / SAMPLE_RATE, meter_value(samples), captured_at, dropped_s)
        if dropped_s:
            log.warning("audio queue full or device overrun: %.2f s of audio lost", dropped_s)
        return chunk, position + samples.size, lost
