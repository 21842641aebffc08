"""The rules on their own (no NER model): dictated forms, structured identifiers, dates, clinical terms that must
survive, allow and deny lists. The engine with NER is tested in tests/integration/test_redact_engine.py."""

from __future__ import annotations

import pytest

from app.core.redact.base import Kind, Span
from app.core.redact.engine import SpacyRedactor
from app.core.redact.lexicon import Lexicon
from app.core.redact.ner import chunks
from app.core.redact.spoken import ShadowText


@pytest.fixture(scope="module")
def rules() -> SpacyRedactor:
    return SpacyRedactor(None, Lexicon.build())


def kinds(spans: list[Span]) -> dict[str, Kind]:
    return {s.text: s.kind for s in spans}


@pytest.mark.parametrize(
    ("spoken", "digits"),
    [
        ("five five five one two one two", "5551212"),
        ("march third nineteen fifty", "march 3rd 1950"),
        ("ninety two year old", "92 year old"),
        ("double five one two", "5512"),
        ("the twenty first of june two thousand and three", "the 21st of june 2003"),
        ("nineteen oh five", "1905"),
        ("twenty twenty three", "2023"),
    ],
)
def test_spoken_numbers_become_digits(spoken: str, digits: str) -> None:
    assert ShadowText(spoken).text == digits


def test_shadow_offsets_map_back_to_the_spoken_words() -> None:
    text = "call me on five five five, one two three, four five six seven please"
    shadow = ShadowText(text)
    start = shadow.text.index("555")
    a, b = shadow.to_original(start, start + 10)
    assert text[a:b] == "five five five, one two three, four five six seven"
    assert ShadowText("oh I see").text == "oh I see"  # "oh" alone is not a zero


def test_dictated_identifiers(rules: SpacyRedactor) -> None:
    text = (
        "patient is john smith that's smith s m i t h date of birth march third nineteen fifty "
        "phone number five five five one two one two"
    )
    found = kinds(rules.detect(text).spans)
    assert found["john smith"] == Kind.NAME
    assert found["s m i t h"] == Kind.NAME
    assert found["march third nineteen fifty"] == Kind.DATE
    assert found["five five five one two one two"] == Kind.PHONE
    assert rules.redact(text).redacted_text.count("[PATIENT_1]") == 3


def test_lowercase_dialogue_names_and_titles(rules: SpacyRedactor) -> None:
    text = "[doctor] hi andrew how are you\n[patient] good thanks doctor cruz\n[doctor] mrs . martinez is next"
    found = kinds(rules.detect(text).spans)
    assert {"andrew", "cruz", "martinez"} <= set(found)
    assert "doctor" not in found


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("Email her at jane.doe@example.org today", "jane.doe@example.org", Kind.EMAIL),
        ("See https://portal.example.com/records/77 for results", "https://portal.example.com/records/77", Kind.URL),
        ("Login from 192.168.10.24 flagged", "192.168.10.24", Kind.IP),
        ("SSN 123-45-6789 on file", "123-45-6789", Kind.SSN),
        ("MRN: 00482913 admitted", "00482913", Kind.MRN),
        ("Medicare member ID HP-448812 active", "HP-448812", Kind.HEALTH_PLAN_ID),
        ("Card 4111 1111 1111 1111 declined", "4111 1111 1111 1111", Kind.ACCOUNT),
        ("Fax results to (617) 555-0142 today", "(617) 555-0142", Kind.FAX),
        ("Call 617-555-0199 after 5", "617-555-0199", Kind.PHONE),
        ("DEA number AB1234563 on the script", "AB1234563", Kind.LICENSE),
        ("Pacemaker serial number PMX-20931 checked", "PMX-20931", Kind.DEVICE),
        ("VIN 1HGCM82633A004352 of her car", "1HGCM82633A004352", Kind.VEHICLE),
        ("Wound photo IMG_2231.jpg attached", "IMG_2231.jpg", Kind.PHOTO),
        ("Right index fingerprint template FP-99812 enrolled", "FP-99812", Kind.BIOMETRIC),
        ("She is a 94-year-old woman", "94", Kind.AGE),
    ],
)
def test_structured_identifiers(rules: SpacyRedactor, text: str, value: str, kind: Kind) -> None:
    found = kinds(rules.detect(text).spans)
    assert found.get(value) == kind, found


@pytest.mark.parametrize(
    "date",
    ["May 30th, 2022", "Jan 22, '24", "12th April 2022", "02/14/2022", "2021-09-30", "March 2023", "the 3rd of March"],
)
def test_written_dates(rules: SpacyRedactor, date: str) -> None:
    spans = rules.detect(f"Seen on {date} for follow-up.").spans
    assert any(s.kind == Kind.DATE and date.replace("the ", "") in s.text for s in spans), spans


def test_clinical_meaning_survives(rules: SpacyRedactor) -> None:
    text = (
        "72 year old man with Parkinson's disease, Bell's palsy and a Foley catheter. Glasgow Coma Scale 15. "
        "Started carbidopa-levodopa 25/100 mg three times a day and metformin 500 mg twice daily. "
        "BP 142/88, HR 76, temp 98.6, SpO2 97%, A1c 7.2%, WBC 12000, platelets 250000. Diagnosed in 2019."
    )
    assert rules.redact(text).redacted_text == text


def test_eponym_with_a_title_is_still_a_name(rules: SpacyRedactor) -> None:
    found = kinds(rules.detect("Referred by Dr. Parkinson for Parkinson disease.").spans)
    assert found.get("Parkinson") == Kind.NAME
    assert sum(1 for s in rules.detect("Referred by Dr. Parkinson for Parkinson disease.").spans) == 1


def test_ages_under_90_and_bare_years_stay(rules: SpacyRedactor) -> None:
    text = "A 72-year-old and an 89 year old, both diagnosed in 2021."
    assert rules.redact(text).redacted_text == text


def test_addresses_and_zip_codes(rules: SpacyRedactor) -> None:
    text = "Patient lives at 123 Main Street, Springfield, IL 62704. Mail goes to PO Box 4471."
    found = rules.detect(text).spans
    assert any("123 Main Street" in s.text and s.kind == Kind.LOCATION for s in found)
    assert any("62704" in s.text for s in found)
    assert any("Box 4471" in s.text for s in found)


def test_allow_list_keeps_a_term_and_deny_list_removes_one() -> None:
    text = "Seen by Dr. Lumen at Riverside Annex; Lumen protocol continued."
    plain = SpacyRedactor(None, Lexicon.build())
    assert any(s.text == "Lumen" for s in plain.detect(text).spans)
    custom = SpacyRedactor(None, Lexicon.build(allow=["Lumen"], deny=["LOCATION: Riverside Annex"]))
    found = kinds(custom.detect(text).spans)
    assert "Lumen" not in found
    assert found["Riverside Annex"] == Kind.LOCATION


def test_default_lists_can_be_switched_off() -> None:
    with_defaults = Lexicon.build()
    without = Lexicon.build(use_default_lists=False)
    assert "dax" in with_defaults.allow
    assert "dax" not in without.allow


def test_bad_input_is_handled(rules: SpacyRedactor) -> None:
    assert rules.redact("").redacted_text == ""
    assert rules.redact("   \n ").spans == []
    garbage = "".join(chr(c) for c in range(0, 0x3000, 7)) + "\x00\ufffd" * 50
    result = rules.redact(garbage)
    assert isinstance(result.redacted_text, str)
    for s in result.spans:
        assert garbage[s.start : s.end] == s.text


def test_long_text_is_cut_at_line_breaks() -> None:
    text = ("Line of a long clinical note.\n" * 2000)[:50_000]
    pieces = chunks(text, 20_000)
    assert "".join(p for _o, p in pieces) == text
    assert all(p.endswith("\n") for _o, p in pieces[:-1])


def test_a_title_alone_is_never_a_name() -> None:
    from app.core.redact.base import Kind, Span
    from app.core.redact.vetoes_names import is_bare_title

    assert is_bare_title(Span(8, 10, Kind.NAME, "Dr", 0.6, "rule:context"))
    assert is_bare_title(Span(0, 6, Kind.NAME, "Doctor", 0.6, "ner"))
    assert not is_bare_title(Span(0, 9, Kind.NAME, "Dr. Marsh", 0.6, "ner"))
    assert not is_bare_title(Span(0, 2, Kind.NAME, "Dr", 1.0, "manual"))
