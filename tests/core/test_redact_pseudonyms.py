"""Consistent placeholders per encounter, date offsets, re-identification (also of reformatted and streamed
placeholders), the stored map, and the review screen's edits."""

from __future__ import annotations

from datetime import date

import pytest

from app.core.errors import InputError
from app.core.redact.base import Kind, Span
from app.core.redact.engine import SpacyRedactor
from app.core.redact.lexicon import Lexicon
from app.core.redact.pseudonyms import PseudonymMap, StreamingReidentifier, render
from app.core.services.redaction_review import ReviewChoices, ReviewSession


@pytest.fixture(scope="module")
def rules() -> SpacyRedactor:
    return SpacyRedactor(None, Lexicon.build())


def span(text: str, value: str, kind: Kind, label: str = "") -> Span:
    start = text.index(value)
    return Span(start, start + len(value), kind, value, 0.9, "rule", label)


def test_same_identifier_same_placeholder_across_texts(rules: SpacyRedactor) -> None:
    encounter = PseudonymMap()
    first = rules.redact("Mr. John Smith, MRN 00482913, seen 03/03/2023.", encounter)
    second = rules.redact("Smith called back; MRN 0048-2913 confirmed. Spelled S M I T H.", encounter)
    assert "[PATIENT_1]" in first.redacted_text and "[MRN_1]" in first.redacted_text
    assert second.redacted_text.count("[PATIENT_1]") == 2
    assert "[MRN_1]" in second.redacted_text
    assert "[PATIENT_2]" not in second.redacted_text


def test_different_people_get_different_placeholders(rules: SpacyRedactor) -> None:
    result = rules.redact("Dr. Alice Wong examined Mr. Peter Novak.")
    assert "[CLINICIAN_1]" in result.redacted_text
    assert "[PATIENT_1]" in result.redacted_text


def test_dates_keep_their_intervals() -> None:
    encounter = PseudonymMap(reference_date=date(2023, 1, 5))
    text = "Admitted January 5, 2023, discharged 01/19/2023, seen again on Jan 19th 2023."
    spans = [
        span(text, "January 5, 2023", Kind.DATE),
        span(text, "01/19/2023", Kind.DATE),
        span(text, "Jan 19th 2023", Kind.DATE),
    ]
    out = render(text, spans, encounter).redacted_text
    assert "[DATE_1] (the day of this visit)" in out
    assert out.count("[DATE_2] (2 weeks after this visit)") == 2  # two forms of one date: one placeholder
    assert "2023" not in out


def test_date_offsets_off_and_far_dates() -> None:
    text = "Born March 3, 1925; seen March 4, 2020."
    spans = [span(text, "March 3, 1925", Kind.DATE), span(text, "March 4, 2020", Kind.DATE)]
    out = render(text, spans, PseudonymMap(reference_date=date(2020, 3, 4))).redacted_text
    assert "[DATE_1] (over 89 years before this visit)" in out  # 95 years back: an exact interval reveals age > 89
    assert "[DATE_2] (the day of this visit)" in out
    plain = render(text, spans, PseudonymMap(date_offsets=False)).redacted_text
    assert "(" not in plain


def test_the_model_is_shown_an_age_not_a_date_of_birth() -> None:
    from app.core.redact.known import seed_patient
    from app.core.redact.pseudonyms import age_words, interval_words

    encounter = PseudonymMap(reference_date=date(2026, 12, 6))
    seed_patient(encounter, family_name="Tredgold", given_names="Oswin", mrn="447291", date_of_birth=date(1958, 3, 4))
    text = "Born March 4, 1958; chest X-ray 11/15/2026."
    spans = [span(text, "March 4, 1958", Kind.DATE), span(text, "11/15/2026", Kind.DATE)]
    out = render(text, spans, encounter).redacted_text
    assert out == "Born [DATE_1] (age 68); chest X-ray [DATE_2] (3 weeks before this visit)."
    again = PseudonymMap.from_json(encounter.to_json())  # the stored map still knows the date of birth
    assert render(text, spans, again).redacted_text == out
    assert again.reidentify("[DATE_1] (age 68)") == "March 4, 1958 (age 68)"
    assert age_words(date(1930, 1, 1), date(2026, 1, 1)) == "age over 89"
    assert age_words(date(2026, 3, 1), date(2026, 12, 6)) == "age 9 months"
    assert interval_words(date(2026, 12, 7), date(2026, 12, 6)) == "1 day after this visit"
    assert interval_words(date(2020, 12, 6), date(2026, 12, 6), "[DATE_1]") == "6 years before [DATE_1]"
    without_visit = PseudonymMap()
    text2 = "Seen 03/03/2023, again 03/17/2023."
    two = [span(text2, "03/03/2023", Kind.DATE), span(text2, "03/17/2023", Kind.DATE)]
    assert render(text2, two, without_visit).redacted_text == "Seen [DATE_1], again [DATE_2] (2 weeks after [DATE_1])."


@pytest.mark.parametrize(
    "model_output",
    ["[PATIENT_1]", "[Patient 1]", "PATIENT_1", "[patient_1]", "[ PATIENT-1 ]", "[[PATIENT_1]]", "{PATIENT_1}"],
)
def test_reidentify_reformatted_placeholders(rules: SpacyRedactor, model_output: str) -> None:
    encounter = PseudonymMap()
    rules.redact("Mr. John Smith was seen.", encounter)
    assert encounter.reidentify(f"Plan for {model_output}.") == "Plan for John Smith."


def test_reidentify_leaves_unknown_and_plain_words() -> None:
    encounter = PseudonymMap()
    text = "Seen 03/03/2023."
    render(text, [span(text, "03/03/2023", Kind.DATE)], encounter)
    assert encounter.reidentify("[DATE_1] and [DATE_7]") == "03/03/2023 and [DATE_7]"
    assert encounter.reidentify("[DATE_1 (day +0)]") == "03/03/2023"  # the older form, in stored answers
    assert encounter.reidentify("the patient 1 week later") == "the patient 1 week later"


def test_streamed_placeholders_split_across_tokens(rules: SpacyRedactor) -> None:
    encounter = PseudonymMap()
    rules.redact("Mr. John Smith, MRN 00482913.", encounter)
    stream = StreamingReidentifier(encounter)
    tokens = ["Follow", " up", " with", " [", "PAT", "IENT", "_", "1", "]", " (", "MRN", "_1", ")", " soon", "."]
    shown = "".join(stream.feed(t) for t in tokens) + stream.close()
    assert shown == "Follow up with John Smith (00482913) soon."


def test_map_round_trips_through_json(rules: SpacyRedactor) -> None:
    encounter = PseudonymMap(reference_date=date(2023, 3, 3))
    rules.redact("Mr. John Smith, MRN 00482913, seen 03/03/2023 at 617-555-0199.", encounter)
    restored = PseudonymMap.from_json(encounter.to_json())
    assert restored.to_json() == encounter.to_json()
    later = rules.redact("John Smith again, 617-555-0199, and Mary Jones.", restored)
    assert "[PATIENT_1]" in later.redacted_text and "[PHONE_1]" in later.redacted_text
    assert "[PATIENT_2]" in later.redacted_text


@pytest.mark.parametrize("damaged", ["", "{", "[]", '{"version": 99}', '{"version": 1, "entries": [{"x": 1}]}'])
def test_damaged_map_is_a_clear_error(damaged: str) -> None:
    with pytest.raises(InputError):
        PseudonymMap.from_json(damaged)


def test_review_edits_rerender(rules: SpacyRedactor) -> None:
    text = "Mr. John Smith saw Dr. Lumen at the Riverside Annex on 03/03/2023."
    session = ReviewSession(None, PseudonymMap().to_json())
    detected = session.detect(rules, text)
    choices = ReviewChoices(text, detected.spans)
    assert choices.toggle(next(i for i, s in enumerate(detected.spans) if s.text == "Lumen"))
    start = text.index("Riverside Annex")
    choices.mark(start, start + len("Riverside Annex"), Kind.LOCATION.value)
    approved = session.approve(text, choices.active())
    assert "Lumen" in approved.redacted
    assert "Riverside Annex" not in approved.redacted
    assert "[PATIENT_1]" in approved.redacted
    # Placeholders given earlier in the encounter stay the same when the approved map is used again.
    again = ReviewSession(None, approved.map_json).approve(text, choices.active())
    assert again.redacted == approved.redacted
    assert not choices.toggle(len(choices.spans))  # out of range: nothing changes


def test_manual_span_outside_the_text_is_refused() -> None:
    with pytest.raises(InputError):
        ReviewChoices("short").mark(2, 50, Kind.NAME.value)


def test_a_misheard_known_name_keeps_its_placeholder_from_preview_to_approval(rules: SpacyRedactor) -> None:
    from datetime import date

    from app.core.redact.known import seed_patient

    encounter = PseudonymMap(date(2026, 11, 22))
    seed_patient(encounter, family_name="Holloway", given_names="Margaret")
    session = ReviewSession(None, encounter.to_json())
    text = "Clinic note for patient Margaret Hallaway. She is well."
    detected = session.detect(rules, text)
    assert detected.aliases and "[PATIENT_1]" in detected.redacted  # the preview: the patient, misheard
    choices = ReviewChoices(text, detected.spans, aliases=detected.aliases)
    assert session.preview(text, choices.active(), choices.aliases) == detected.redacted
    approved = session.approve(text, choices.active(), choices.aliases)
    assert approved.redacted == detected.redacted  # what the model is sent is what the doctor approved
    assert "[PATIENT_2]" not in approved.redacted
    assert PseudonymMap.from_json(approved.map_json).reidentify(approved.redacted).count("Margaret") == 1
