"""Saving an answer as a WAV file (16-bit mono PCM at the voice's rate), written as the audio is synthesised.

The file is an explicit export the doctor asked for, so it is written where they said; a failed or cancelled
export removes its partial file rather than leave half an answer on disk.
"""

from __future__ import annotations

import logging
import wave
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import AudioError, InputError
from app.core.tts.base import AudioChunk

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WavExport:
    path: Path
    sample_rate: int
    duration_s: float
    sentences: int


def check_wav_target(path: Path) -> Path:
    """Refuse a target that cannot be written before any synthesis is spent on it."""
    if path.suffix.lower() != ".wav":
        raise InputError(f"The output file {path.name} does not end in .wav", "Name the output file OUT.wav")
    if path.is_dir():
        raise InputError(f"The output {path} is a folder", "Give a file name ending in .wav")
    if not path.parent.is_dir():
        raise InputError(f"The folder {path.parent} does not exist", "Create it first or choose another folder")
    return path


def write_wav(chunks: Iterable[AudioChunk], path: Path, sample_rate: int) -> WavExport:
    """Write every chunk, in order, to `path` (chunks must be at `sample_rate`, the voice's rate)."""
    check_wav_target(path)
    frames = 0
    sentences: set[int] = set()
    try:
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(sample_rate)
            for chunk in chunks:
                if chunk.sample_rate != sample_rate:
                    raise AudioError("The voice produced audio at an unexpected sample rate", "Export again")
                out.writeframes(chunk.pcm16())
                frames += len(chunk.samples)
                sentences.add(chunk.sentence_index)
        if not frames:
            raise InputError("There is nothing to say in this text", "Give text with words or numbers")
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise InputError(
            f"The file {path} could not be written ({exc.strerror})", "Check the folder's permissions and free space"
        ) from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    log.info("wrote %s: %d frames, %d sentence(s)", path.name, frames, len(sentences))
    return WavExport(path, sample_rate, round(frames / sample_rate, 3), len(sentences))
