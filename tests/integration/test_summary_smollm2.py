"""One real extraction with the language-model step: SmolLM2-135M (the test model) and the spaCy redactor, through the
service and an encrypted store. SmolLM2's answers are poor: this checks the plumbing (schema-constrained JSON read,
items checked against their sentences, the encounter's map saved), not what it finds. One thread: on the shared
2-core test machine llama.cpp's two threads wait on each other far longer than one thread computes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.core.config import Settings
from app.core.services.engines import load_language_model, load_redactor
from app.core.services.summaries import accept_note, extract_note_version, patient_summary
from app.core.storage import NoteAuthor, NoteKind, Store
from app.core.storage.facts import ExtractionStatus
from app.core.summary.facts import facts_from_json

pytestmark = pytest.mark.integration
pytest.importorskip("llama_cpp")

MODEL = "smollm2-135m-instruct"
NOTE = ("ASSESSMENT AND PLAN\nMs. Tredgold has hypertension. Blood pressure 152/96.\n"
        "Start amlodipine 5 mg once daily.\nShe is allergic to penicillin.\nFollow up in 4 weeks.")


@pytest.fixture(scope="module")
def engines(models_dir: Path) -> Iterator[tuple[object, object]]:
    if not (models_dir / f"{MODEL}.gguf").exists():
        pytest.skip(f"{MODEL} is not installed (clinic-assistant models install)")
    settings = Settings()
    settings.gpu.n_ctx = 2048
    settings.gpu.n_threads = 1
    redactor = load_redactor(settings, models_dir)
    llm = load_language_model(settings, models_dir, MODEL)
    yield llm, redactor
    llm.close()


def test_extraction_with_the_model_step(engines: tuple[object, object], tmp_path: Path) -> None:
    llm, redactor = engines
    with Store(tmp_path / "data", kdf_iterations=4000) as store:
        store.create("correct horse battery staple")
        repos = store.repositories()
        patient = repos.patients.add("Tredgold", "Mina", mrn="T-1")
        encounter = repos.encounters.add(patient.id, datetime(2025, 3, 3, 12, tzinfo=UTC), "Review")
        note = repos.notes.create(encounter.id, NoteKind.SOAP, NOTE, author=NoteAuthor.DOCTOR)
        note = accept_note(repos, note.id)

        outcome = extract_note_version(repos, llm, redactor, note.latest.id)  # type: ignore[arg-type]

        assert outcome.status == ExtractionStatus.DONE, outcome.error
        assert outcome.extractor == f"parsers-1+model:{MODEL}"
        facts = facts_from_json(repos.facts.facts_json(note.latest.id) or "[]")
        assert any(f.kind == "medication" and f.name == "amlodipine" and f.dose == "5 mg" for f in facts)
        for fact in facts:  # the model's items too: each is a sentence of the note
            assert NOTE[fact.start : fact.end] == fact.sentence
        saved = repos.redaction_maps.get(encounter.id)
        assert saved is not None and "Tredgold" in saved.map_json  # the placeholders the note got, kept
        summary = patient_summary(repos, patient.id)
        assert [m.name for m in summary.medications] == ["amlodipine"]
