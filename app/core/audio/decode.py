"""Audio files to 16 kHz mono: wav, flac, mp3, ogg/opus, m4a/aac — whatever FFmpeg (through PyAV) reads.

Errors a user can cause (a missing file, a text file renamed .wav, an empty or cut-off recording) are `AudioError`s
naming the file, never a decoder traceback.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.core.audio.base import SAMPLE_RATE, Samples
from app.core.audio.integrity import is_truncated
from app.core.audio.resample import import_av
from app.core.errors import AudioError, CancelToken

log = logging.getLogger(__name__)

# A file whose decodable audio ends this much before the duration its header declares is cut off.
TRUNCATION_TOLERANCE_S = 0.5
TRUNCATION_TOLERANCE_RATIO = 0.02
FORMATS_HINT = "Use a wav, flac, mp3, ogg or m4a recording"


@dataclass(frozen=True)
class DecodedAudio:
    samples: Samples  # 16 kHz mono float32
    source_rate: int
    source_channels: int
    declared_duration_s: float | None  # from the file's header, when it has one

    @property
    def duration_s(self) -> float:
        return self.samples.size / SAMPLE_RATE


def _open_error(path: Path, exc: BaseException) -> AudioError:
    if isinstance(exc, FileNotFoundError):
        return AudioError(f"The audio file {path} does not exist", "Check the path")
    if isinstance(exc, IsADirectoryError):
        return AudioError(f"{path} is a folder, not an audio file", "Give the path of an audio file")
    if isinstance(exc, PermissionError):
        return AudioError(f"The audio file {path} cannot be read (permission denied)", "Check the file's permissions")
    return AudioError(f"{path} is not a readable audio file ({type(exc).__name__})", FORMATS_HINT)


def _declared_duration(container: Any, stream: Any) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / 1_000_000  # AV_TIME_BASE
    return None


def decode_file(path: Path, cancel: CancelToken | None = None, allow_partial: bool = False) -> DecodedAudio:
    """Decode the first audio track. Raises `AudioError` for an unreadable, empty or truncated file.

    `allow_partial=True` returns what could be read from a cut-off file instead of raising (a recording that was
    interrupted is still worth transcribing when the user asks for it).
    """
    av = import_av()
    path = Path(path)
    if path.is_file() and path.stat().st_size == 0:
        raise AudioError(f"The audio file {path} is empty (0 bytes)", "Choose another recording")
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except (OSError, av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise _open_error(path, exc) from None
    pieces: list[Samples] = []
    bad_frames = 0
    with container:
        if not container.streams.audio:
            raise AudioError(f"{path} has no audio track", FORMATS_HINT)
        stream = container.streams.audio[0]
        source_rate = int(stream.codec_context.sample_rate or 0)
        source_channels = int(stream.codec_context.channels or 0)
        declared = _declared_duration(container, stream)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        try:
            packets = container.demux(stream)
            for packet in packets:
                if cancel is not None:
                    cancel.raise_if_cancelled()
                try:
                    frames = packet.decode()
                except av.error.InvalidDataError:
                    bad_frames += 1  # a damaged packet: skip it, as faster-whisper does, but remember
                    continue
                for frame in frames:
                    frame.pts = None  # resample by sample count; broken timestamps must not stall the filter
                    pieces.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
            pieces.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
        except av.error.FFmpegError as exc:
            if not pieces:
                raise AudioError(f"{path} cannot be decoded ({type(exc).__name__})", FORMATS_HINT) from None
            bad_frames += 1  # the container broke off part way: treat like a truncated file
    samples = np.concatenate(pieces).astype(np.float32, copy=False) if pieces else np.zeros(0, np.float32)
    result = DecodedAudio(samples, source_rate, source_channels, declared)
    if samples.size == 0:
        raise AudioError(
            f"The audio file {path} contains no sound samples", "It may be empty or cut off; choose another recording"
        )
    if not allow_partial:
        _check_complete(path, result, bad_frames)
    log.debug("decoded %s: %.2f s, %d Hz, %d channel(s)", path.name, result.duration_s, source_rate, source_channels)
    return result


def _check_complete(path: Path, audio: DecodedAudio, bad_frames: int) -> None:
    declared = audio.declared_duration_s
    if is_truncated(path):
        raise AudioError(
            f"The audio file {path} is truncated: its header promises more sound than the file holds",
            "The recording was probably interrupted while being written; use a complete copy",
        )
    if declared is not None and declared > 0:
        missing = declared - audio.duration_s
        if missing > max(TRUNCATION_TOLERANCE_S, TRUNCATION_TOLERANCE_RATIO * declared):
            raise AudioError(
                f"The audio file {path} is truncated: only {audio.duration_s:.1f} s of the {declared:.1f} s it "
                "declares could be read",
                "The recording was probably interrupted while being written; use a complete copy",
            )
    if bad_frames:
        raise AudioError(
            f"The audio file {path} is damaged ({bad_frames} unreadable block(s))",
            "Use an undamaged copy of the recording",
        )
