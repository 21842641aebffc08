"""Brief me: the paragraph drafted from the redacted patient summary. The facts it is drafted from, the cache per
summary version, and one real run: the spaCy redactor and SmolLM2-135M over an encrypted store, checking that the
model saw no identifier and the doctor gets the names back, marked as a draft."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from app.core.errors import CancelToken
from app.core.llm.base import GenerationRequest, Sampling, TokenStream
from app.core.services.briefing import (
    Briefing,
    BriefingCache,
    brief_patient,
    briefing_input,
    redact_briefing,
)
from app.core.storage import Store
from tests.core.test_summary_store import NOTES, TODAY, _note, store  # noqa: F401  (store: the fixture)
from tests.integration.test_summary_smollm2 import MODEL, engines  # noqa: F401  (engines: the fixture)


def _patient(opened: Store) -> int:
    repos = opened.repositories()
    patient = repos.patients.add("Okafor", "Adaeze", date_of_birth=date(1958, 3, 2), mrn="S-1", sex="female")
    for day, reason, text in NOTES:
        _note(repos, patient.id, day, reason, text)
    return patient.id


def test_the_facts_and_the_summary_version(store: Store) -> None:  # noqa: F811
    repos = store.repositories()
    patient_id = _patient(store)
    source = briefing_input(repos, patient_id, TODAY)
    assert source is not None
    assert source.facts.splitlines() == [
        "Patient: Adaeze Okafor, 67 years, female",
        "Problems: hypertension; type 2 diabetes",
        "Medicines: losartan 50 mg once daily; metformin 500 mg twice daily",
        "Stopped: amlodipine (2 months ago)",  # not amoxicillin: the allergy says it
        "Allergies: amoxicillin (rash)",
        "Blood pressure: 128/80 mmHg (2 months ago; before: 141/90, 152/96)",
        "Last visit (2 months ago, Ankle swelling): Ankle swelling on amlodipine. Stop amlodipine. Hypertension. "
        "Start losartan 50 mg once daily. Follow up in 2 weeks.",
        "Follow-up overdue (7 weeks ago): Follow up in 2 weeks.",
    ]  # times as said aloud: no calendar date is sent to the model or read out
    again = briefing_input(repos, patient_id, TODAY)
    assert again is not None and again.key == source.key  # the same summary: the same version

    _note(repos, patient_id, "2025-05-20", "Review", "PLAN\nStop metformin.")
    changed = briefing_input(repos, patient_id, TODAY)
    assert changed is not None and changed.key != source.key

    nobody = repos.patients.add("Quill", "Ray", mrn="S-9")
    assert briefing_input(repos, nobody.id, TODAY) is None  # no accepted notes: nothing to brief on


def test_the_cache_keeps_the_latest_briefings_per_version() -> None:
    cache = BriefingCache(size=2)
    for key in ("a", "b", "c"):
        cache.put(Briefing(1, key, f"text {key}", "m", True))
    assert cache.get("a") is None and cache.get("c") is not None
    cache.put(Briefing(1, "d", "", "m", True))  # an empty answer is not worth keeping
    assert cache.get("d") is None
    cache.clear()
    assert cache.get("c") is None


class Recording:
    """The real model, with the prompts it was given kept for the test to read."""

    def __init__(self, llm: Any) -> None:
        self.llm = llm
        self.prompts: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.llm, name)

    def stream(self, request: GenerationRequest, cancel: CancelToken | None = None) -> TokenStream:
        self.prompts.append("\n".join(m.content for m in request.messages))
        stream: TokenStream = self.llm.stream(request, cancel)
        return stream


@pytest.mark.integration
def test_smollm2_briefs_from_the_redacted_summary(store: Store, engines: tuple[Any, Any]) -> None:  # noqa: F811
    model, redactor = engines
    llm = Recording(model)
    repos = store.repositories()
    patient_id = _patient(store)
    source = briefing_input(repos, patient_id, TODAY)
    assert source is not None
    redacted = redact_briefing(source, redactor)
    assert "Okafor" not in redacted.redacted and "Adaeze" not in redacted.redacted
    assert redacted.redacted.startswith("Patient: [PATIENT_1], 67 years") and "losartan" in redacted.redacted

    briefing = brief_patient(repos, redactor, llm, patient_id,  # type: ignore[arg-type]
                             Sampling(temperature=0.0, max_tokens=160, seed=1), TODAY)
    assert briefing is not None and briefing.draft and briefing.key == source.key
    assert briefing.model == MODEL and len(briefing.text.split()) >= 5
    [prompt] = llm.prompts
    assert "Okafor" not in prompt and "Adaeze" not in prompt and "S-1" not in prompt
    assert "1958" not in prompt  # the date of birth is not given either
    assert "[PATIENT_" not in briefing.text  # any placeholder the model wrote is a name again for the doctor
