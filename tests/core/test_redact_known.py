"""The encounter's own patient is redacted wherever named, even when the recogniser misspells the name."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app.core.config import load_settings
from app.core.redact.engine import SpacyRedactor
from app.core.redact.known import near_name_mentions, seed_patient
from app.core.redact.name_match import close_spelling, same_full_name, sounds_alike
from app.core.redact.pseudonyms import PseudonymMap, render


@pytest.fixture(scope="module")
def redactor(models_dir: Path) -> SpacyRedactor:
    return SpacyRedactor.from_settings(load_settings().settings, models_dir)


def _patient(family: str, given: str) -> PseudonymMap:
    pseudonyms = PseudonymMap(date(2026, 11, 22))
    seed_patient(pseudonyms, family_name=family, given_names=given)
    return pseudonyms


def _seeded() -> PseudonymMap:
    pseudonyms = PseudonymMap(date(2026, 11, 22))
    seed_patient(pseudonyms, family_name="Tredgold", given_names="Oswin", mrn="447291", date_of_birth=date(1958, 3, 4))
    return pseudonyms


def test_misheard_forms_of_the_patient_name_get_the_patient_placeholder(redactor: SpacyRedactor) -> None:
    pseudonyms = _seeded()
    text = "note for patient osmintreadgol, mrn 447291. mr treadgol is better; osmin treadgol agrees. Tredgold too."
    result = redactor.redact(text, pseudonyms)
    for variant in ("osmintreadgol", "treadgol", "osmin", "Tredgold", "447291"):
        assert variant not in result.redacted_text
    assert result.redacted_text.count("[PATIENT_1]") == 4
    assert "Oswin Tredgold" in pseudonyms.reidentify(result.redacted_text)


def test_a_name_heard_as_one_lower_case_word_in_formatted_text_is_still_the_patient(redactor: SpacyRedactor) -> None:
    # Whisper tiny on the sample dictation: the rest of the text has capitals, the unknown name does not.
    text = ("This is Dr. Helina Marshstick, taking a clinic note for patient osmintreadgol, medical record number "
            "447291. He was seen today with a cough; her carer came too.")
    result = redactor.redact(text, _seeded())
    assert "osmintreadgol" not in result.redacted_text and "[PATIENT_1]" in result.redacted_text
    assert "her carer came too" in result.redacted_text  # short lower-case words stay ordinary words


@pytest.mark.parametrize(
    ("family", "given", "text", "misheard"),
    [
        ("Tredgold", "Oswin", "note for patient osmintreadgol. mr treadgol is better.", "treadgol"),  # a word
        ("Holloway", "Margaret", "Clinic note for patient Margaret Hallaway. She is well.", "Margaret Hallaway"),
    ],
)
def test_detect_only_reads_the_map_and_its_aliases_are_applied_after(
    redactor: SpacyRedactor, family: str, given: str, text: str, misheard: str
) -> None:
    pseudonyms = _patient(family, given)
    before = pseudonyms.to_json()
    detection = redactor.detect(text, pseudonyms)
    assert redactor.detect(text, pseudonyms) == detection
    assert pseudonyms.to_json() == before
    aliased = [a.span for a in detection.aliases if a.span.text == misheard]
    assert aliased and {a.placeholder for a in detection.aliases} == {"PATIENT_1"}
    assert pseudonyms.find(aliased[0]) is None  # nothing was recorded by detecting

    pseudonyms.add_aliases(detection.aliases)
    assert pseudonyms.find(aliased[0]) == "PATIENT_1"
    rendered = render(text, detection.spans, pseudonyms).redacted_text
    assert rendered == redactor.redact(text, _patient(family, given)).redacted_text
    assert misheard not in rendered and "[PATIENT_2]" not in rendered


def test_ordinary_words_close_to_a_name_are_left_alone(redactor: SpacyRedactor) -> None:
    text = "Pain above the threshold; march on; the treadmill test is normal; gold standard."
    assert redactor.redact(text, _seeded()).redacted_text == text


def test_near_matching_rules() -> None:
    ordinary = {"threshold", "march", "on", "is"}.__contains__
    text = "osmin treadgol on threshold. tredgold is"
    known = {"oswintredgold": "P1", "tredgold": "P1"}
    hits = {text[a:b] for a, b, _ in near_name_mentions(text, known, ordinary, lambda _w: False)}
    assert "osmin treadgol" in hits and "treadgol" in hits
    assert not any("threshold" in h or h.endswith(" is") for h in hits)


@pytest.mark.parametrize(
    "heard",
    ["Margaret Hallaway", "Margaret Hollow Way", "Margaret Holloways", "Margaret Jane Holloway"],
)
def test_a_misheard_full_name_of_the_patient_is_the_patient(redactor: SpacyRedactor, heard: str) -> None:
    # Whisper's spelling of a dictated name changes with the CPU it decodes on (seen on CI: a second placeholder).
    pseudonyms = PseudonymMap(date(2026, 11, 22))
    seed_patient(pseudonyms, family_name="Holloway", given_names="Margaret")
    result = redactor.redact(f"Clinic note for patient {heard}. She reports a dry cough.", pseudonyms)
    assert result.redacted_text == "Clinic note for patient [PATIENT_1]. She reports a dry cough."
    assert pseudonyms.reidentify(result.redacted_text).startswith("Clinic note for patient Margaret Holloway.")


@pytest.mark.parametrize(
    ("family", "given", "text", "expected"),
    [
        (
            "Holloway", "Margaret",
            "Margaret Holloway came with her husband John Holloway; seen before by Margaret Galloway.",
            "[PATIENT_1] came with her husband [RELATIVE_1]; seen before by [PATIENT_2].",
        ),
        # Two real first names are two people, however close ("Daniel" is not a misheard "Danielle").
        (
            "Holloway", "Danielle",
            "Danielle Holloway, 81. Daniel Holloway has type 1 diabetes and does her insulin.",
            "[PATIENT_1], 81. [PATIENT_2] has type 1 diabetes and does her insulin.",
        ),
        (
            "Kowalski", "Andrea",
            "Andrea Kowalski seen. Andrew Kowalski, her husband, had a stroke last year.",
            "[PATIENT_1] seen. [PATIENT_2], her husband, had a stroke last year.",
        ),
        # A relative or a clinician is never folded into the patient, even with the patient's name in it.
        (
            "Holloway", "Margaret",
            "Margaret Holloway came with her mother Margaret Ann Holloway.",
            "[PATIENT_1] came with her mother [RELATIVE_1].",
        ),
        ("Harris", "James", "James Harris seen by Dr Harrison today.", "[PATIENT_1] seen by Dr [CLINICIAN_1] today."),
        ("Carter", "Louise", "Louise Carter came with her carer.", "[PATIENT_1] came with her carer."),
    ],
)
def test_other_people_keep_their_own_placeholders(
    redactor: SpacyRedactor, family: str, given: str, text: str, expected: str
) -> None:
    assert redactor.redact(text, _patient(family, given)).redacted_text == expected


def test_full_name_matching_rules() -> None:
    real = {"margaret", "margret", "john", "daniel", "danielle", "holloway", "galloway"}.__contains__
    assert same_full_name(["margaret", "hallaway"], ["margaret", "holloway"], real)
    assert same_full_name(["holloway", "margaret"], ["margaret", "holloway"], real)
    assert same_full_name(["margaret", "hollow", "way"], ["margaret", "holloway"], real)
    assert not same_full_name(["margret", "holloway"], ["margaret", "holloway"], real)  # two real names
    assert not same_full_name(["daniel", "holloway"], ["danielle", "holloway"], real)
    assert not same_full_name(["john", "holloway"], ["margaret", "holloway"], real)
    assert not same_full_name(["margaret", "galloway"], ["margaret", "holloway"], real)
    assert not same_full_name(["margaret", "hollowell"], ["margaret", "holloway"], real)
    assert not same_full_name(["holloway"], ["margaret", "holloway"], real)  # one word: the partial-name rule
    assert not same_full_name(["margarett", "hallaway"], ["margaret", "holloway"], real)  # no word spelled alike
    assert sounds_alike("hallaway", "holloway") and not sounds_alike("galloway", "holloway")
    assert close_spelling("margret", "margaret") and not close_spelling("jon", "john")
