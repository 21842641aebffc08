"""What the consultation pipeline reports, one typed event at a time, and the timeline it keeps.

The CLI prints these events, the window turns them into widget updates, the benchmark reads the timeline. Events
carry patient text (the transcript, the answer) for display only: nothing here is ever logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.core.asr.live import LiveResult, LiveUpdate
from app.core.errors import AppError
from app.core.llm.drafting import Draft
from app.core.redact.base import RedactionResult
from app.core.redact.pseudonyms import PseudonymMap
from app.core.tts.base import AudioChunk


@dataclass(frozen=True)
class StageStarted:
    stage: str
    at_s: float


@dataclass(frozen=True)
class StageFinished:
    stage: str
    at_s: float
    seconds: float


@dataclass(frozen=True)
class StageFailed:
    stage: str
    error: AppError


@dataclass(frozen=True)
class TranscriptUpdate:
    update: LiveUpdate


@dataclass(frozen=True)
class TranscriptDone:
    result: LiveResult


@dataclass(frozen=True)
class Redacted:
    result: RedactionResult
    pseudonyms: PseudonymMap


@dataclass(frozen=True)
class AnswerText:
    """A re-identified piece of the answer as it streams (for display and read-aloud)."""

    text: str


@dataclass(frozen=True)
class AnswerDone:
    draft: Draft  # what the model produced (with placeholders)
    display_text: str  # re-identified: what the doctor reads


@dataclass(frozen=True)
class AnswerStopped:
    """The doctor stopped the answer: what had been shown is kept (saved as a stopped draft or chat turn)."""

    redacted_text: str
    display_text: str


@dataclass(frozen=True)
class Notice:
    """Something the doctor should know about the answer: input condensed, earlier chat turns left out."""

    text: str


@dataclass(frozen=True)
class SpeechChunk:
    chunk: AudioChunk


@dataclass(frozen=True)
class Saved:
    record: str  # "encounter", "transcript", "redaction_map", "message", "note"
    record_id: int


Event = (
    StageStarted
    | StageFinished
    | StageFailed
    | TranscriptUpdate
    | TranscriptDone
    | Redacted
    | AnswerText
    | AnswerDone
    | AnswerStopped
    | Notice
    | SpeechChunk
    | Saved
)


@dataclass
class Timeline:
    """Seconds from the start of the run, one mark per moment that matters to the doctor."""

    marks: dict[str, float] = field(default_factory=dict)
    stages: dict[str, tuple[float, float]] = field(default_factory=dict)

    def latency(self, later: str, earlier: str = "speech_end") -> float | None:
        if later in self.marks and earlier in self.marks:
            return round(self.marks[later] - self.marks[earlier], 3)
        return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "marks": {k: round(v, 3) for k, v in self.marks.items()},
            "stages": {k: [round(a, 3), round(b, 3)] for k, (a, b) in self.stages.items()},
            "speech_end_to_transcript_s": self.latency("transcript_final"),
            "speech_end_to_first_token_s": self.latency("first_token"),
            "speech_end_to_first_audio_s": self.latency("first_audio"),
        }
