"""A new note is drafted with the redacted summary of the patient's earlier accepted notes (`llm.prior_context`, on
by default): before the consultation in the prompt, redacted with the encounter's own map (the same person keeps the
same placeholder), never with a name in it, and left out (with a notice) when the consultation needs the room.

The redactor is the real spaCy one; the language model is the words-are-tokens seam that records its prompts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.core.config import Settings, load_settings
from app.core.errors import CancelToken
from app.core.llm.base import Sampling
from app.core.llm.context import fit_input
from app.core.llm.prompts import prior_block, task_messages
from app.core.redact.engine import SpacyRedactor
from app.core.services import consultation as c
from app.core.services.summaries import accept_note, extract_note_version
from app.core.storage import NoteAuthor, NoteKind, Repositories, Store, StoreWorker
from tests.core.test_llm_drafting import WordModel

EARLIER = (
    "ASSESSMENT AND PLAN\nHypertension. Blood pressure 152/96. Start amlodipine 5 mg once daily.\n"
    "Mrs Pemberton will see Dr. Okonkwo again in 4 weeks."
)
TODAY = "Mrs Pemberton says the ankles are swollen since she started the new tablet. Plan: review the medicines."


@pytest.fixture(scope="module")
def redactor(models_dir: Path) -> SpacyRedactor:
    return SpacyRedactor.from_settings(load_settings().settings, models_dir)


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[StoreWorker]:
    w = StoreWorker(Store(tmp_path / "store", kdf_iterations=4000))
    w.run(lambda s: s.create("prior context tests 5 oak lanterns")).result()
    yield w
    w.shutdown()


def _patient_with_an_earlier_note(worker: StoreWorker, *, accepted: bool = True) -> int:
    """The new encounter's id; the patient had one earlier encounter with a note (accepted or not)."""

    def make(repos: Repositories) -> int:
        patient = repos.patients.add("Pemberton", "Ada")
        first = repos.encounters.add(patient.id, datetime(2025, 1, 10, 12, tzinfo=UTC), "New hypertension")
        note = repos.notes.create(first.id, NoteKind.SOAP, EARLIER, author=NoteAuthor.DOCTOR)
        if accepted:
            note = accept_note(repos, note.id)
            extract_note_version(repos, None, None, note.latest.id)
        return repos.encounters.add(patient.id, datetime(2025, 3, 1, 12, tzinfo=UTC), "Ankle swelling").id

    return worker.submit(make).result()


def _draft(worker: StoreWorker, redactor: SpacyRedactor, encounter_id: int, settings: Settings) -> WordModel:
    model = WordModel(answer="Dear colleague, ankle swelling on amlodipine.")  # a letter: plain text
    pipeline = c.ConsultationPipeline(settings, llm=model, redactor=redactor, store=worker)
    request = c.ConsultationRequest(encounter_id=encounter_id, task="referral", speak=False)
    events = list(pipeline.run_text(TODAY, request))
    assert not [e for e in events if isinstance(e, c.StageFailed)]
    return model


def _settings(prior: bool = True) -> Settings:
    settings = Settings()
    settings.llm.max_tokens = 200
    settings.llm.prior_context = prior
    return settings


def test_the_draft_reads_the_earlier_notes_redacted_before_the_consultation(
    worker: StoreWorker, redactor: SpacyRedactor
) -> None:
    eid = _patient_with_an_earlier_note(worker)
    prompt = _draft(worker, redactor, eid, _settings()).requests[-1].messages[-1].content
    background, consultation = prompt.split("Clinical text:", 1)
    assert "amlodipine 5 mg" in background and "earlier accepted notes" in background
    assert "Pemberton" not in prompt and "Okonkwo" not in prompt
    # The patient is named in both, with one placeholder: the map was shared, and saved with the new entries.
    assert "[PATIENT_1]" in consultation
    saved = worker.submit(lambda r: r.redaction_maps.get(eid)).result()
    assert saved is not None and "Okonkwo" in saved.map_json


def test_off_by_setting_and_without_earlier_accepted_notes(worker: StoreWorker, redactor: SpacyRedactor) -> None:
    eid = _patient_with_an_earlier_note(worker)
    prompt = _draft(worker, redactor, eid, _settings(prior=False)).requests[-1].messages[-1].content
    assert "earlier accepted notes" not in prompt and "amlodipine" not in prompt

    draft_only = _patient_with_an_earlier_note(worker, accepted=False)
    prompt = _draft(worker, redactor, draft_only, _settings()).requests[-1].messages[-1].content
    assert "earlier accepted notes" not in prompt  # a draft never reaches the summary


def test_the_earlier_notes_give_way_when_the_consultation_needs_the_room() -> None:
    prior = prior_block("Problems: hypertension\nMedications: amlodipine 5 mg, once daily")
    model = WordModel(window=1000)
    sampling = Sampling(0.0, 1.0, 200)
    room = 1000 - 200
    alone = model.count_prompt_tokens(task_messages("soap", ""))
    consultation = " ".join(["word"] * (room - alone))  # fits alone, not beside the earlier notes
    assert model.count_prompt_tokens(task_messages("soap", consultation)) <= room
    assert model.count_prompt_tokens(task_messages("soap", consultation, prior=prior)) > room
    notices: list[str] = []
    fitted = fit_input(model, "soap", consultation, sampling, CancelToken(), notices.append, prior)
    assert fitted.prior == "" and fitted.condensed_parts == 0 and fitted.text == consultation
    assert notices and "earlier notes was left out" in notices[0]
    small = fit_input(model, "soap", "a short consultation", sampling, CancelToken(), None, prior)
    assert small.prior == prior
