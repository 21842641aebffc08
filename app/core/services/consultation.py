"""The consultation pipeline: audio → transcript → redaction → drafted note → re-identified → stored → spoken.

One generator of typed events, used unchanged by the GUI (through a worker whose yields become signals) and by
`clinic-assistant demo`. Each stage is timed on one clock, so the latency a doctor feels can be read off the
timeline: end of speech → final transcript → first token of the answer → first audio of the answer.

Safety properties kept here, not in the callers:
- the model is given only the redacted text (`Redacted.result.redacted_text`); identifiers never reach it;
- whatever a stage produced is saved before the next stage starts, so a failure later loses nothing;
- a failing stage is reported as `StageFailed` and the pipeline stops there; `Cancelled` propagates.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from app.core.asr.live import LiveResult, LiveTranscriber, LiveUpdate
from app.core.audio.base import AudioChunk as AudioChunk_
from app.core.audio.base import AudioSource
from app.core.config import Settings
from app.core.errors import AppError, CancelToken
from app.core.llm.base import LanguageModel
from app.core.llm.drafting import Draft
from app.core.llm.prompts import Task
from app.core.redact.base import RedactionResult, Redactor
from app.core.redact.pseudonyms import PseudonymMap
from app.core.services.answer import stream_answer
from app.core.services.encounter_map import encounter_pseudonyms
from app.core.storage import MessageRole, MessageTimings, NoteKind, Repositories, StoreWorker
from app.core.tts.base import AudioChunk, Speaker

log = logging.getLogger(__name__)
T = TypeVar("T")

NOTE_KIND: dict[str, NoteKind] = {"soap": NoteKind.SOAP, "summary": NoteKind.SUMMARY, "referral": NoteKind.LETTER}


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


@dataclass
class ConsultationRequest:
    patient_id: int | None = None  # with a store: the encounter is created for this patient
    encounter_id: int | None = None  # or continue an existing encounter
    task: Task = "soap"
    speak: bool = True
    # Called with the redaction before anything reaches the model: return it unchanged, or the doctor's corrected
    # version (the GUI's review step). None = no review.
    review: Callable[[RedactionResult, PseudonymMap], RedactionResult] | None = None
    reference_date: date | None = None  # the visit date that date offsets count from (default: today)


class ConsultationPipeline:
    def __init__(
        self,
        settings: Settings,
        *,
        live: Callable[[], LiveTranscriber],
        redactor: Redactor,
        llm: LanguageModel,
        speaker: Speaker | None = None,
        store: StoreWorker | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.settings = settings
        self._live = live
        self.redactor = redactor
        self.llm = llm
        self.speaker = speaker
        self.store = store
        self._clock = clock
        self.timeline = Timeline()
        self._t0 = 0.0

    # --- helpers -------------------------------------------------------------------------------------------------
    def _now(self) -> float:
        return self._clock() - self._t0

    def _mark(self, name: str) -> None:
        self.timeline.marks.setdefault(name, self._now())

    def _db(self, fn: Callable[[Repositories], T]) -> T | None:
        return self.store.submit(fn).result() if self.store is not None else None

    def _stage(self, name: str, start: float) -> StageFinished:
        end = self._now()
        self.timeline.stages[name] = (start, end)
        return StageFinished(name, end, round(end - start, 3))

    # --- the run -------------------------------------------------------------------------------------------------
    def run(
        self, source: AudioSource, request: ConsultationRequest, cancel: CancelToken | None = None
    ) -> Iterator[Event]:
        cancel = cancel or CancelToken()
        self._t0 = self._clock()
        self.timeline = Timeline()
        stage = "transcribe"
        try:
            encounter_id = request.encounter_id
            if encounter_id is None and request.patient_id is not None:
                patient_id = request.patient_id
                created = self._db(lambda r: r.encounters.add(patient_id, reason="dictation"))
                if created is not None:
                    encounter_id = created.id
                    yield Saved("encounter", created.id)

            start = self._now()
            yield StageStarted(stage, start)
            live = self._live()
            for update in live.run(_EndMarkingSource(source, lambda: self._mark("speech_end")), cancel):
                if update.final:
                    continue
                yield TranscriptUpdate(update)
            result = live.result or live.finish(cancel)
            self._mark("transcript_final")
            yield TranscriptDone(result)
            yield self._stage(stage, start)
            if encounter_id is not None:
                eid = encounter_id
                transcript = self._db(
                    lambda r: r.transcripts.add(
                        eid, result.text, language=result.language, duration_s=result.duration_s
                    )
                )
                if transcript is not None:
                    yield Saved("transcript", transcript.id)

            stage = "redact"
            yield from self._redact_draft_speak(result.text, request, encounter_id, cancel)
        except AppError as exc:
            log.warning("pipeline stage %s failed: %s", stage, exc.kind)
            yield StageFailed(stage, exc)

    def _redact_draft_speak(
        self, text: str, request: ConsultationRequest, encounter_id: int | None, cancel: CancelToken
    ) -> Iterator[Event]:
        """The part after the transcript; also used on its own for typed or edited text (`run_text`)."""
        stage = "redact"
        try:
            start = self._now()
            yield StageStarted(stage, start)
            pseudonyms = self._load_map(encounter_id, request)
            redaction = self.redactor.redact(text, pseudonyms)
            if request.review is not None:
                redaction = request.review(redaction, pseudonyms)
            yield Redacted(redaction, pseudonyms)
            self._mark("redacted")
            yield self._stage(stage, start)
            if encounter_id is not None:
                eid, map_json = encounter_id, pseudonyms.to_json()
                saved = self._db(lambda r: r.redaction_maps.save(eid, map_json))
                if saved is not None:
                    yield Saved("redaction_map", eid)

            stage = "draft"
            yield from self._draft(redaction, pseudonyms, request, encounter_id, cancel)
        except AppError as exc:
            log.warning("pipeline stage %s failed: %s", stage, exc.kind)
            yield StageFailed(stage, exc)

    def run_text(self, text: str, request: ConsultationRequest, cancel: CancelToken | None = None) -> Iterator[Event]:
        """The pipeline from redaction on, for a transcript the doctor typed or edited."""
        self._t0 = self._clock()
        self.timeline = Timeline()
        self._mark("speech_end")
        self._mark("transcript_final")
        yield from self._redact_draft_speak(text, request, request.encounter_id, cancel or CancelToken())

    def _load_map(self, encounter_id: int | None, request: ConsultationRequest) -> PseudonymMap:
        """The encounter's map (seeded with the patient's identifiers when new); a throw-away one without a store."""
        offsets = self.settings.redaction.date_offsets
        if encounter_id is not None and self.store is not None:
            eid = encounter_id
            return self.store.submit(lambda r: encounter_pseudonyms(r, eid, date_offsets=offsets)).result()
        return PseudonymMap(request.reference_date or date.today(), offsets)

    def _draft(
        self,
        redaction: RedactionResult,
        pseudonyms: PseudonymMap,
        request: ConsultationRequest,
        encounter_id: int | None,
        cancel: CancelToken,
    ) -> Iterator[Event]:
        start = self._now()
        yield StageStarted("draft", start)
        speech = _SpeechFeed(self.speaker, cancel) if (request.speak and self.speaker is not None) else None
        answer = stream_answer(self.llm, request.task, redaction.redacted_text, pseudonyms, self.settings.llm, cancel)
        while True:
            try:
                shown = next(answer)
            except StopIteration as stop:
                finished, display = stop.value
                break
            self._mark("first_token")
            yield AnswerText(shown)
            if speech is not None:
                yield from self._speech_events(speech.push(shown))
        self._mark("answer_done")
        yield AnswerDone(finished, display)
        yield self._stage("draft", start)
        if encounter_id is not None:
            yield from self._save_answer(encounter_id, redaction, display, finished, request)
        if speech is not None:
            speak_start = self.timeline.marks.get("first_audio", self._now())
            yield from self._speech_events(speech.finish())
            self.timeline.stages["speak"] = (speak_start, self._now())

    def _speech_events(self, chunks: Iterator[AudioChunk]) -> Iterator[Event]:
        for chunk in chunks:
            self._mark("first_audio")
            yield SpeechChunk(chunk)

    def _save_answer(
        self, encounter_id: int, redaction: RedactionResult, display: str, result: Draft, request: ConsultationRequest
    ) -> Iterator[Event]:
        completion = result.completion
        timings = MessageTimings(
            prompt_tokens=completion.timings.prompt_tokens,
            completion_tokens=completion.timings.completion_tokens,
            first_token_s=completion.timings.first_token_s,
            total_s=completion.timings.total_s,
        )
        question = self._db(
            lambda r: r.messages.add(encounter_id, MessageRole.USER, redaction.redacted_text, redaction.redacted_text)
        )
        if question is not None:
            yield Saved("message", question.id)
        answer = self._db(
            lambda r: r.messages.add(
                encounter_id, MessageRole.ASSISTANT, result.text, display, model=completion.model, timings=timings
            )
        )
        if answer is not None:
            yield Saved("message", answer.id)
        kind = NOTE_KIND.get(request.task)
        if kind is not None:
            note = self._db(lambda r: r.notes.create(encounter_id, kind, display, model=completion.model))
            if note is not None:
                yield Saved("note", note.id)


class _EndMarkingSource:
    """Passes a source through and notes the moment it runs dry (the doctor pressed Stop, or the file ended):
    the latency a doctor feels is counted from there, not from when the recogniser caught up."""

    def __init__(self, source: AudioSource, on_end: Callable[[], None]) -> None:
        self._source = source
        self._on_end = on_end

    @property
    def description(self) -> str:
        return self._source.description

    def chunks(self, cancel: CancelToken | None = None) -> Iterator[AudioChunk_]:
        yield from self._source.chunks(cancel)
        self._on_end()

    def stop(self) -> None:
        self._source.stop()


class _SpeechFeed:
    """Speaks answer text sentence by sentence while the answer is still streaming: each push synthesises only
    the sentences it completed, so the first audio comes when the first sentence ends, not the answer."""

    def __init__(self, speaker: Speaker | None, cancel: CancelToken) -> None:
        from app.core.tts.sentences import SentenceStreamer

        assert speaker is not None
        self._speaker = speaker
        self._cancel = cancel
        self._sentences = SentenceStreamer()

    def push(self, text: str) -> Iterator[AudioChunk]:
        for sentence in self._sentences.feed(text):
            yield from self._speaker.synthesize(sentence, self._cancel)

    def finish(self) -> Iterator[AudioChunk]:
        for sentence in self._sentences.finish():
            yield from self._speaker.synthesize(sentence, self._cancel)


def write_speech(chunks: list[AudioChunk], path: Path, sample_rate: int) -> Path:
    from app.core.tts.wav import write_wav

    write_wav(chunks, path, sample_rate)
    return path
