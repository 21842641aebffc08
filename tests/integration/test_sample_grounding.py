"""The sample dictation as the model sees it and as the doctor checks it: the patient's age instead of a day
offset, and an answer stating a wrong age or dose flagged (#16)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app.core.config import Settings
from app.core.paths import resource
from app.core.redact.known import seed_patient
from app.core.redact.pseudonyms import PseudonymMap
from app.core.services.engines import load_redactor
from app.core.services.grounding import check_answer

pytestmark = pytest.mark.integration
VISIT = date(2026, 12, 6)


@pytest.fixture(scope="module")
def dictated() -> str:
    return resource("sample", "dictation.txt").read_text(encoding="utf-8")  # as spoken: numbers in words


def test_the_model_is_shown_the_age_not_a_day_offset(models_dir: Path, dictated: str) -> None:
    redactor = load_redactor(Settings(), models_dir)
    encounter = PseudonymMap(VISIT)
    seed_patient(encounter, family_name="Tredgold", given_names="Oswin", mrn="447291",
                 date_of_birth=date(1958, 3, 4))
    redacted = redactor.redact(dictated, encounter).redacted_text
    assert "(age 68)" in redacted, redacted
    assert "(day " not in redacted and "1958" not in redacted and "Tredgold" not in redacted


@pytest.mark.parametrize(
    ("answer", "kind", "needle"),
    [
        ("Oswin Tredgold is a 56-year-old man with community acquired pneumonia.", "age", "56"),
        ("Plan: amoxicillin 250 mg three times daily for 5 days.", "number", "250 mg"),
    ],
)
def test_a_wrong_age_or_dose_in_the_answer_is_flagged(dictated: str, answer: str, kind: str, needle: str) -> None:
    facts = ["age 68, male"]  # the demographics the model was given (the record's date of birth on the visit day)
    report = check_answer(dictated, answer, facts)
    flags = [f for s in report.sentences for f in s.flags]
    assert any(f.kind == kind and needle in f.text for f in flags), [(f.kind, f.text, f.reason) for f in flags]
