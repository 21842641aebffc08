"""Transcription of a whole recording (a file, or samples already in memory) in one pass.

Unlike live dictation this hands the whole audio to faster-whisper at once (its own VAD, 30 s windows): for a
finished recording that is the fastest path, and the benchmark holds it to within 5% of calling faster-whisper
directly. Segments keep the recogniser's text; `text` is the dictation with commands and formatting applied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.core.asr.base import DecodeOptions, Samples, Segment, Transcriber
from app.core.audio.decode import decode_file
from app.core.dictation.document import DictationDocument, DictationOptions
from app.core.dictation.tokens import words_from_text
from app.core.errors import CancelToken

Progress = Callable[[float, float], None]  # (seconds of audio done, seconds in all)


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str
    duration_s: float
    segments: tuple[Segment, ...]
    low_confidence: tuple[tuple[int, int], ...]  # [start, end) offsets into `text`
    dropped_segments: int  # passages the hallucination guards left out


def transcribe_samples(
    transcriber: Transcriber,
    samples: Samples,
    options: DecodeOptions,
    dictation: DictationOptions | None = None,
    cancel: CancelToken | None = None,
    progress: Progress | None = None,
) -> Transcript:
    """`progress(seconds done, seconds in all)` after each recognised segment: a long recording takes minutes."""
    result = transcriber.transcribe(samples, options, cancel)
    segments: list[Segment] = []
    for segment in result.segments:  # decoded lazily, segment by segment
        segments.append(segment)
        if progress is not None:
            progress(segment.end, result.duration_s)
    document = DictationDocument(dictation)
    for segment in segments:
        # Each segment is an utterance for "scratch that": Whisper ends segments at pauses and sentence ends.
        document.add(segment.words or words_from_text(segment.text, segment.confidence))
    rendered = document.render()
    return Transcript(
        text=rendered.text,
        language=result.language,
        duration_s=result.duration_s,
        segments=tuple(segments),
        low_confidence=rendered.low_confidence,
        dropped_segments=len(result.dropped),
    )


def transcribe_file(
    path: Path,
    transcriber: Transcriber,
    options: DecodeOptions,
    dictation: DictationOptions | None = None,
    cancel: CancelToken | None = None,
    progress: Progress | None = None,
) -> Transcript:
    """Decode the file (any format and rate; `AudioError` if unreadable) and transcribe it."""
    audio = decode_file(path, cancel)
    return transcribe_samples(transcriber, audio.samples, options, dictation, cancel, progress)
