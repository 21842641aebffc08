"""The whole consultation pipeline on the embedded models, on a dictation the test generates with the Piper voice.

Identifiers spoken in the audio must be absent from everything that reached the model and present in what the
doctor sees; the transcript, redaction map, chat and note must be in the encrypted store; the WAV must be valid.
"""

from __future__ import annotations

import re
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.core.audio.replay import ReplaySource
from app.core.config import load_settings
from app.core.errors import CancelToken
from app.core.llm.base import Completion, GenerationRequest, LanguageModel, LoadProgress, TokenStream
from app.core.services import consultation as c
from app.core.services.engines import live_transcriber_factory, load_language_model, load_redactor, load_speaker
from app.core.storage import Store, StoreWorker

pytestmark = pytest.mark.integration

DICTATION = (
    "Clinic note for patient Margaret Holloway. "
    "Her phone number is five five five, eight six seven, two three one nine. "
    "She reports a dry cough for two weeks. "
    "Blood pressure one thirty over eighty. "
    "Plan, start salbutamol inhaler and review in two weeks."
)
NAME_PATTERN = r"\b(?:margaret|hollow ?ay)\b"  # a name Whisper spells reliably: the test is about redaction
NUMBERS = ("867", "2319")


class RecordingModel:
    """The real model behind a seam that keeps every request it was given (what 'reached the model')."""

    def __init__(self, inner: LanguageModel) -> None:
        self.inner = inner
        self.requests: list[GenerationRequest] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @property
    def backend(self) -> Any:
        return self.inner.backend

    @property
    def model_name(self) -> str:
        return self.inner.model_name

    @property
    def context_window(self) -> int:
        return self.inner.context_window

    def load(self, cancel: CancelToken | None = None) -> Iterator[LoadProgress]:
        return self.inner.load(cancel)

    def stream(self, request: GenerationRequest, cancel: CancelToken | None = None) -> TokenStream:
        self.requests.append(request)
        return self.inner.stream(request, cancel)

    def complete(self, request: GenerationRequest, cancel: CancelToken | None = None) -> Completion:
        self.requests.append(request)
        return self.inner.complete(request, cancel)


def _speak(text: str, models_dir: Path) -> np.ndarray:
    from app.core.audio.resample import resample

    settings = load_settings().settings
    speaker = load_speaker(settings, models_dir)
    chunks = list(speaker.synthesize(text))
    audio = np.concatenate([ch.samples for ch in chunks]).astype(np.float32)
    silence = np.zeros(8000, dtype=np.float32)
    return np.concatenate([silence, resample(audio, speaker.sample_rate), silence])


def test_whole_pipeline_keeps_identifiers_from_the_model(tmp_path: Path, models_dir: Path) -> None:
    settings = load_settings().settings
    settings.llm.max_tokens = 400
    settings.llm.temperature = 0.0
    settings.llm.seed = 7
    audio = _speak(DICTATION, models_dir)
    llm = RecordingModel(load_language_model(settings, models_dir, "smollm2-135m-instruct"))
    speaker = load_speaker(settings, models_dir)
    worker = StoreWorker(Store(tmp_path / "store", kdf_iterations=64000))
    worker.run(lambda s: s.create("pipeline test passphrase 93!")).result()
    patient = worker.submit(lambda r: r.patients.add("Holloway", "Margaret")).result()
    pipeline = c.ConsultationPipeline(
        settings,
        live=live_transcriber_factory(settings, models_dir, "whisper-base"),
        redactor=load_redactor(settings, models_dir),
        llm=llm,  # type: ignore[arg-type]
        speaker=speaker,
        store=worker,
    )
    events: list[c.Event] = []
    try:
        events = list(pipeline.run(ReplaySource(audio), c.ConsultationRequest(patient_id=patient.id, task="soap")))
        failures = [e for e in events if isinstance(e, c.StageFailed)]
        assert not failures, failures[0].error.one_line()
        # A chat question about the consultation naming the patient: redacted with the same map, answered, stored.
        encounter_id = next(e.record_id for e in events if isinstance(e, c.Saved) and e.record == "encounter")
        redacted = next(e for e in events if isinstance(e, c.Redacted))
        events += list(pipeline.ask("Does Margaret Holloway need a chest X-ray?", redacted, encounter_id))
    finally:
        llm.inner.close()
    chat = [e for e in events if isinstance(e, c.AnswerDone)][-1]
    assert chat.draft.task == "question" and chat.display_text

    transcript = next(e for e in events if isinstance(e, c.TranscriptDone)).result.text
    spoken_names = {m.group(0) for m in re.finditer(NAME_PATTERN, transcript, re.I)}
    assert spoken_names, f"the surname was not recognised: {transcript}"
    identifiers = [*spoken_names, *NUMBERS]
    # The seeded record is PATIENT_1; Whisper's spelling of the name varies with the CPU, and a spelling that is
    # another real name ("Margret") is by design another person, so any patient placeholder will do here.
    assert re.search(r"\[PATIENT_\d+\]", redacted.result.redacted_text), redacted.result.redacted_text
    done = next(e for e in events if isinstance(e, c.AnswerDone))

    sent = "\n".join(m.content for r in llm.requests for m in r.messages)
    assert llm.requests, "the model was never asked"
    for identifier in identifiers:
        assert identifier.lower() not in sent.lower(), f"an identifier reached the model ({len(identifier)} chars)"
    if "[PATIENT_1]" in done.draft.text:  # the model used the placeholder: the doctor sees the name again
        assert "[PATIENT_1]" not in done.display_text
        assert any(name.lower() in done.display_text.lower() for name in spoken_names)

    saved = {e.record for e in events if isinstance(e, c.Saved)}
    assert {"encounter", "transcript", "redaction_map", "message", "note"} <= saved
    notes = worker.submit(lambda r: r.notes.for_encounter(encounter_id)).result()
    messages = worker.submit(lambda r: r.messages.for_encounter(encounter_id)).result()
    assert notes and notes[0].latest.text == done.display_text
    assert [m.role.value for m in messages] == ["user", "assistant"]
    assert "[PATIENT_1]" in messages[0].redacted_content and "Holloway" in messages[0].display_content
    assert messages[1].display_content == chat.display_text
    assert all(i.lower() not in messages[0].redacted_content.lower() for i in identifiers)
    worker.shutdown()

    chunks = [e.chunk for e in events if isinstance(e, c.SpeechChunk)]
    wav_path = c.write_speech(chunks, tmp_path / "answer.wav", speaker.sample_rate)
    with wave.open(str(wav_path)) as wav:
        assert wav.getframerate() == speaker.sample_rate and wav.getnchannels() == 1
        assert wav.getnframes() / wav.getframerate() > 1.0

    timeline = pipeline.timeline.as_dict()
    assert timeline["speech_end_to_transcript_s"] is not None and timeline["speech_end_to_transcript_s"] >= 0
    assert timeline["marks"]["first_token"] <= timeline["marks"]["answer_done"]
