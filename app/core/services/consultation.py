"""The consultation pipeline: audio → transcript → redaction → drafted note → re-identified → stored → spoken.

One object whose stages are generators of typed events (`events.py`), used unchanged by the window and by
`clinic-assistant demo`:
- `run` chains every stage for a dictation (the CLI and the benchmark); `run_text` starts at redaction;
- the window runs the same stages one at a time, each on the worker lane that owns its engine (`transcribe` on the
  ASR lane, `redact` on the redaction lane, `answer` on the LLM lane), with the doctor's review of the redaction as
  the pause between `redact` and `answer`;
- `ask` is a chat question about the consultation, answered by the same `answer` stage.
Each stage is timed on one clock, so the latency a doctor feels can be read off the timeline: end of speech → final
transcript → first token of the answer → first audio of the answer.

Safety properties kept here, not in the callers:
- the model is given only redacted text (a `Redacted` result, a redacted question); identifiers never reach it;
- whatever a stage produced is saved before the next stage starts, and an answer stopped half-way is saved as far as
  it got (marked as stopped), so neither a failure nor Stop loses what the doctor saw;
- in `run`, a failing stage is reported as `StageFailed` and the pipeline stops there; used stage by stage, the
  stage raises its `AppError` for the caller to present. `Cancelled` propagates.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from app.core.asr.live import LiveResult, LiveTranscriber
from app.core.audio.base import AudioSource
from app.core.config import Settings
from app.core.errors import AppError, Cancelled, CancelToken
from app.core.llm.base import LanguageModel
from app.core.llm.chat import ChatTurn
from app.core.llm.prompts import CONDENSABLE, Task
from app.core.redact.base import RedactionResult, Redactor
from app.core.redact.pseudonyms import PseudonymMap
from app.core.services.answer import AnswerStream
from app.core.services.answer_saving import STOPPED_MARK as STOPPED_MARK  # callers check stopped answers
from app.core.services.answer_saving import AnswerSaver
from app.core.services.encounter_map import encounter_pseudonyms
from app.core.services.end_marking import EndMarkingSource
from app.core.services.events import (
    AnswerDone,
    AnswerStopped,
    AnswerText,
    Event,
    Notice,
    Redacted,
    Saved,
    SpeechChunk,
    StageFailed,
    StageFinished,
    StageStarted,
    Timeline,
    TranscriptDone,
    TranscriptUpdate,
)
from app.core.services.prereading import Prereader, prereading_model
from app.core.services.prior_context import prior_context
from app.core.services.speech_feed import SpeechFeed, write_speech
from app.core.storage import MessageRole, Repositories, StoreWorker
from app.core.tts.base import AudioChunk, Speaker

__all__ = [  # the events are part of the pipeline's interface: callers import them from here
    "AnswerDone", "AnswerStopped", "AnswerText", "ConsultationPipeline", "ConsultationRequest", "Event", "Notice",
    "Question", "Redacted", "Saved", "SpeechChunk", "StageFailed", "StageFinished", "StageStarted", "Timeline",
    "TranscriptDone", "TranscriptUpdate", "write_speech",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

Review = Callable[[RedactionResult, PseudonymMap], RedactionResult]


@dataclass(frozen=True)
class Question:
    """A chat question: what the model sees and what the doctor typed."""

    redacted: str
    display: str


@dataclass
class ConsultationRequest:
    patient_id: int | None = None  # with a store: the encounter is created for this patient
    encounter_id: int | None = None  # or continue an existing encounter
    task: Task = "soap"
    speak: bool = True
    # Called with the redaction before anything reaches the model: return it unchanged, or the doctor's corrected
    # version (the window's review step). None = no review.
    review: Review | None = None
    reference_date: date | None = None  # the visit date that date offsets count from (default: today)
    # A local model reads the redacted dictation as it is confirmed (prereading.py); never a server.
    preread: bool = True


class ConsultationPipeline:
    """The engines are optional: a caller running one stage passes only the engine that stage needs."""

    def __init__(
        self,
        settings: Settings,
        *,
        live: Callable[[], LiveTranscriber] | None = None,
        redactor: Redactor | None = None,
        llm: LanguageModel | None = None,
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
        self._t0 = clock()
        self._saver = AnswerSaver(self._db)

    # --- helpers -------------------------------------------------------------------------------------------------
    def restart_clock(self) -> None:
        self._t0 = self._clock()
        self.timeline = Timeline()

    def _now(self) -> float:
        return self._clock() - self._t0

    def _mark(self, name: str) -> None:
        self.timeline.marks.setdefault(name, self._now())

    def _mark_speech_end(self, seconds_ago: float) -> None:
        """The doctor's last word, `seconds_ago` before now (read off the audio, not off when the source ran dry)."""
        self.timeline.marks.setdefault("speech_end", max(0.0, self._now() - seconds_ago))

    def _db(self, fn: Callable[[Repositories], T]) -> T | None:
        return self.store.submit(fn).result() if self.store is not None else None

    def _stage(self, name: str, start: float) -> StageFinished:
        end = self._now()
        self.timeline.stages[name] = (start, end)
        return StageFinished(name, end, round(end - start, 3))

    def _model_name(self) -> str:
        return self.llm.model_name if self.llm is not None else ""

    @staticmethod
    def _need(engine: T | None, stage: str) -> T:
        if engine is None:
            raise RuntimeError(f"the {stage} stage needs its engine")  # a wiring mistake, not a user error
        return engine

    # --- whole runs ----------------------------------------------------------------------------------------------
    def run(
        self, source: AudioSource, request: ConsultationRequest, cancel: CancelToken | None = None
    ) -> Iterator[Event]:
        """Every stage for one dictation: a new encounter for `request.patient_id` (or `request.encounter_id`)."""
        cancel = cancel or CancelToken()
        self.restart_clock()
        self.warm(request.task)
        stage = "transcribe"
        try:
            encounter_id = request.encounter_id
            if encounter_id is None and request.patient_id is not None:
                patient_id = request.patient_id
                created = self._db(lambda r: r.encounters.add(patient_id, reason="dictation"))
                if created is not None:
                    encounter_id = created.id
                    yield Saved("encounter", created.id)
            prior = yield from self.prior(encounter_id, request.task, request.reference_date)
            result = yield from self.transcribe(
                source, encounter_id, cancel, preread=request.task if request.preread else None,
                reference_date=request.reference_date, prior=prior,
            )
            stage = "redact"
            yield from self._redact_and_answer(result.text, request, encounter_id, cancel, prior)
        except AppError as exc:
            yield self._failed(stage, exc)

    def run_text(self, text: str, request: ConsultationRequest, cancel: CancelToken | None = None) -> Iterator[Event]:
        """The pipeline from redaction on, for a transcript the doctor typed or edited."""
        self.restart_clock()
        self._mark("speech_end")
        self._mark("transcript_final")
        yield from self._redact_and_answer(text, request, request.encounter_id, cancel or CancelToken())

    def _redact_and_answer(
        self, text: str, request: ConsultationRequest, encounter_id: int | None, cancel: CancelToken,
        prior: str | None = None,
    ) -> Iterator[Event]:
        stage = "redact"
        try:
            if prior is None:
                prior = yield from self.prior(encounter_id, request.task, request.reference_date)
            redacted = yield from self.redact(text, encounter_id, request.review, request.reference_date)
            stage = "draft"
            yield from self.answer(
                redacted.result.redacted_text, redacted.pseudonyms, request.task, encounter_id, cancel,
                speak=request.speak, prior=prior,
            )
        except AppError as exc:
            yield self._failed(stage, exc)

    def _failed(self, stage: str, exc: AppError) -> StageFailed:
        log.warning("pipeline stage %s failed: %s", stage, exc.kind)
        return StageFailed(stage, exc)

    def warm(self, task: Task) -> None:
        """While the doctor speaks, a local model evaluates the task's instructions in the background (no patient
        text), so after the last word only the consultation itself is left to evaluate."""
        warm = getattr(self.llm, "warm", None)
        if callable(warm):
            warm(task)

    # --- stage: transcribe ---------------------------------------------------------------------------------------
    def transcribe(
        self,
        source: AudioSource,
        encounter_id: int | None,
        cancel: CancelToken,
        *,
        preread: Task | None = None,
        reference_date: date | None = None,
        prior: str = "",
    ) -> Generator[Event, None, LiveResult]:
        """Live transcript updates while the audio plays; the final transcript is saved with the encounter.
        With `preread`, a local model reads the redacted dictation for that task as it is confirmed."""
        start = self._now()
        yield StageStarted("transcribe", start)
        live = self._need(self._live, "transcribe")()
        prereader = self._prereader(preread, encounter_id, reference_date, prior)
        try:
            for update in live.run(EndMarkingSource(source, self._mark_speech_end), cancel):
                if not update.final:
                    yield TranscriptUpdate(update)
                if prereader is not None:  # the text as it will most likely be confirmed, read ahead
                    prereader.offer(update.provisional or update.confirmed)
            result = live.result or live.finish(cancel)
        finally:
            if prereader is not None:
                prereader.close(wait=not cancel.cancelled)
        self._mark("transcript_final")
        yield TranscriptDone(result)
        yield self._stage("transcribe", start)
        if encounter_id is not None:
            eid = encounter_id
            transcript = self._db(
                lambda r: r.transcripts.add(eid, result.text, language=result.language, duration_s=result.duration_s)
            )
            if transcript is not None:
                yield Saved("transcript", transcript.id)
        return result

    def _prereader(
        self, task: Task | None, encounter_id: int | None, reference_date: date | None, prior: str
    ) -> Prereader | None:
        model = prereading_model(self.llm) if task is not None else None
        if model is None or self.redactor is None or task is None:
            return None
        map_json = self.pseudonyms(encounter_id, reference_date).to_json()
        return Prereader(model, self.redactor, task, lambda: map_json, prior=prior)

    # --- stage: prior context ------------------------------------------------------------------------------------
    def prior(
        self, encounter_id: int | None, task: Task, reference_date: date | None = None
    ) -> Generator[Event, None, str]:
        """The summary of the patient's earlier accepted notes for a note, letter or summary (prior_context.py),
        redacted before the consultation with the encounter's map, which is saved with its new placeholders.
        "" when `llm.prior_context` is off, for a chat question, or without a store, an encounter or earlier
        notes."""
        if (not self.settings.llm.prior_context or task not in CONDENSABLE or encounter_id is None
                or self.store is None or self.redactor is None):
            return ""
        pseudonyms = self.pseudonyms(encounter_id, reference_date)
        block = prior_context(self.redactor, self.store, encounter_id, pseudonyms).block
        if block:
            yield from self.save_map(encounter_id, pseudonyms)
        return block

    # --- stage: redact -------------------------------------------------------------------------------------------
    def pseudonyms(self, encounter_id: int | None, reference_date: date | None = None) -> PseudonymMap:
        """The encounter's map (seeded with the patient's identifiers when new); a throw-away one without a store."""
        offsets = self.settings.redaction.date_offsets
        if encounter_id is not None and self.store is not None:
            eid = encounter_id
            return self.store.submit(lambda r: encounter_pseudonyms(r, eid, date_offsets=offsets)).result()
        return PseudonymMap(reference_date or date.today(), offsets)

    def redact(
        self,
        text: str,
        encounter_id: int | None,
        review: Review | None = None,
        reference_date: date | None = None,
    ) -> Generator[Event, None, Redacted]:
        """Identifiers replaced by placeholders (after the doctor's `review`, if given); the map is saved."""
        start = self._now()
        yield StageStarted("redact", start)
        redactor = self._need(self.redactor, "redact")
        pseudonyms = self.pseudonyms(encounter_id, reference_date)
        redaction = redactor.redact(text, pseudonyms)
        if review is not None:
            redaction = review(redaction, pseudonyms)
        redacted = Redacted(redaction, pseudonyms)
        yield redacted
        self._mark("redacted")
        yield self._stage("redact", start)
        yield from self.save_map(encounter_id, pseudonyms)
        return redacted

    def save_map(self, encounter_id: int | None, pseudonyms: PseudonymMap) -> Iterator[Event]:
        return self._saver.map(encounter_id, pseudonyms)

    # --- stage: answer -------------------------------------------------------------------------------------------
    def answer(
        self,
        redacted_text: str,
        pseudonyms: PseudonymMap,
        task: Task,
        encounter_id: int | None,
        cancel: CancelToken,
        *,
        question: Question | None = None,
        history: Sequence[ChatTurn] = (),
        speak: bool = False,
        prior: str = "",
    ) -> Generator[Event, None, AnswerDone]:
        """The model's answer to `task` on the redacted consultation (or to `question` about it, after `history`),
        streamed re-identified, saved (a note, or the chat turn), spoken from the first sentence if `speak`."""
        llm = self._need(self.llm, "answer")
        stage = "chat" if question is not None else "draft"
        start = self._now()
        yield StageStarted(stage, start)
        if question is not None and encounter_id is not None:
            # Saved before the answer starts: a stopped or failed answer must not lose the question.
            yield from self._saver.message(encounter_id, MessageRole.USER, question.redacted, question.display)
        stream = AnswerStream(
            llm, task, redacted_text, pseudonyms, self.settings.llm, cancel,
            question=question.redacted if question is not None else None, history=history, prior=prior,
        )
        speech = SpeechFeed(self.speaker, cancel) if (speak and self.speaker is not None) else None
        told = 0
        try:
            for shown in stream:
                for notice in stream.notices[told:]:
                    yield Notice(notice)
                told = len(stream.notices)
                self._mark("first_token")
                yield AnswerText(shown)
                if speech is not None:
                    yield from self._speech_events(speech.push(shown))
        except Cancelled:
            saved = self._saver.stopped(encounter_id, stream, self._model_name())
            yield AnswerStopped(stream.raw_text, stream.shown_text)
            if saved is not None:
                yield saved
            raise
        except (GeneratorExit, AppError):  # the window's Stop closed the stage, or the model failed mid-answer
            self._saver.stopped(encounter_id, stream, self._model_name())
            raise
        assert stream.result is not None
        finished, display = stream.result
        self._mark("answer_done")
        done = AnswerDone(finished, display)
        yield done
        yield self._stage(stage, start)
        if encounter_id is not None:
            yield from self._saver.answer(encounter_id, stream.task, done)
        if speech is not None:
            speak_start = self.timeline.marks.get("first_audio", self._now())
            yield from self._speech_events(speech.finish())
            self.timeline.stages["speak"] = (speak_start, self._now())
        return done

    def ask(
        self,
        question: str,
        redacted: Redacted,
        encounter_id: int | None,
        history: Sequence[ChatTurn] = (),
        cancel: CancelToken | None = None,
    ) -> Generator[Event, None, AnswerDone]:
        """A chat question about a redacted consultation: redacted with the same map (the same person keeps the
        same placeholder), then answered by the `answer` stage."""
        redactor = self._need(self.redactor, "ask")
        result = redactor.redact(question, redacted.pseudonyms)
        yield from self.save_map(encounter_id, redacted.pseudonyms)
        return (
            yield from self.answer(
                redacted.result.redacted_text, redacted.pseudonyms, "question", encounter_id, cancel or CancelToken(),
                question=Question(result.redacted_text, question), history=history,
            )
        )

    def _speech_events(self, chunks: Iterator[AudioChunk]) -> Iterator[Event]:
        for chunk in chunks:
            self._mark("first_audio")
            yield SpeechChunk(chunk)
