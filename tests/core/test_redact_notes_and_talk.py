"""The rules (no NER model) on nursing notes and transcribed conversations (issue #20), on sentences written for these
tests: staff named by title or credential in capitals, relatives named after the word for them, month/day dates
without a year, practices and towns, extensions, ages over 89, greetings and asides in lower case, European
addresses. Beside each, the clinical text that must come back unchanged: vital signs, scores, doses, fractions,
shift times, wards, charting shorthand and the ordinary uses of words that are also names."""

from __future__ import annotations

import re

import pytest

from app.core.redact.engine import SpacyRedactor
from app.core.redact.lexicon import Lexicon

_PLACEHOLDER = re.compile(r"\[[A-Z_]+_\d+(?: \([^)]*\))?\]")


@pytest.fixture(scope="module")
def rules() -> SpacyRedactor:
    return SpacyRedactor(None, Lexicon.build())


def _check(rules: SpacyRedactor, text: str, gone: tuple[str, ...], kept: tuple[str, ...]) -> None:
    """Each word of `gone` is hidden (whole-word, any case); each phrase of `kept` is still there as written."""
    redacted = rules.redact(text).redacted_text
    visible = _PLACEHOLDER.sub(" ", redacted)
    left = [g for g in gone if re.search(rf"(?<![^\W_]){re.escape(g)}(?![^\W_])", visible, re.IGNORECASE)]
    assert not left, f"{left} survived in {redacted!r}"
    lost = [k for k in kept if k not in redacted]
    assert not lost, f"{lost} lost in {redacted!r}"


def _unchanged(rules: SpacyRedactor, text: str) -> None:
    assert rules.redact(text).redacted_text == text


STAFF = [
    pytest.param("0800 DR. HALVORSEN AT BEDSIDE, AWARE OF K 3.2.", ("HALVORSEN",), ("DR.", "AT BEDSIDE"), id="dr-caps"),
    pytest.param("NP KOWALCZYK ORDERED KCL 20 MEQ PO X1.", ("KOWALCZYK",), ("NP", "ORDERED KCL"), id="np-caps"),
    pytest.param("RN Priscilla to follow up on the cultures.", ("Priscilla",), ("RN", "to follow"), id="rn-first"),
    pytest.param("PA-C BRANNIGAN REVIEWED THE WOUND.", ("BRANNIGAN",), ("PA-C", "REVIEWED"), id="pa-c"),
    pytest.param("DR. WHITE PAGED RE: HYPOTENSION.", ("WHITE",), ("DR.", "PAGED"), id="surname-also-a-word"),
    pytest.param("Signed: T. OYELARAN RN", ("OYELARAN",), ("Signed:", "RN"), id="signature-caps"),
    pytest.param("Report from Marisol Etxeberria, RN.", ("Marisol", "Etxeberria"), ("RN",), id="signature-mixed"),
    pytest.param("Chaplain Abernathy visited with the family.", ("Abernathy",), ("Chaplain", "visited"), id="chaplain"),
    pytest.param("DR. AGUILAR AND RN Alicia AT BEDSIDE.", ("AGUILAR", "Alicia"), ("AT BEDSIDE",), id="drug-endings"),
    pytest.param("DR. NGO AWARE.", ("NGO",), ("AWARE",), id="three-letters"),
    pytest.param("NP SMITH-WHITE AT BEDSIDE.", ("SMITH-WHITE",), ("AT BEDSIDE",), id="double-barrelled"),
    pytest.param("Dear Dr. Whitfield: thank you.", ("Whitfield",), ("Dear Dr.",), id="dear-dr"),
]
STAFF_WORDS_KEPT = [
    "REPORT GIVEN TO ONCOMING RN. CHARGE RN AWARE. MD NOTIFIED.",
    "NP SWAB SENT. PA PRESSURES 40/20. RT ARM SWOLLEN. OT EVAL PENDING.",
    "RN WILL CONTINUE TO MONITOR. DR. ORDERS REVIEWED.",
]


@pytest.mark.parametrize(("text", "gone", "kept"), STAFF)
def test_staff_named_by_title_or_credential(rules: SpacyRedactor, text: str, gone: tuple, kept: tuple) -> None:
    _check(rules, text, gone, kept)


@pytest.mark.parametrize("text", STAFF_WORDS_KEPT)
def test_credentials_before_ordinary_words_are_no_names(rules: SpacyRedactor, text: str) -> None:
    _unchanged(rules, text)


RELATIVES = [
    pytest.param("SPOKE WITH DAUGHTER ROSAMUND, WILL VISIT TOMORROW.", ("ROSAMUND",), ("DAUGHTER",), id="caps"),
    pytest.param(
        "son kevin and daughter mary ellison at bedside.",
        ("kevin", "mary", "ellison"),
        ("son", "daughter"),
        id="lower-in-a-note",
    ),
    pytest.param("Husband Dwight Farrow called for an update.", ("Dwight", "Farrow"), ("Husband",), id="full-name"),
    pytest.param("Son Erik at bedside, updated on plan.", ("Erik",), ("Son ",), id="word-kept"),
    pytest.param("HCP Jolanta Wiśniewska aware of plan.", ("Jolanta", "Wiśniewska"), ("HCP",), id="proxy"),
    pytest.param("this is my daughter iris, she drove me.", ("iris",), ("my daughter", "she drove"), id="word-name"),
    pytest.param("GRANDDAUGHTER OKEKE CALLED.", ("OKEKE",), ("GRANDDAUGHTER", "CALLED"), id="five-letters"),
]
FAMILY_HISTORY_KEPT = [
    "Mother deceased. FATHER ETOH. Mother: breast ca. BROTHER TYPE 2 DM.",
    "Son will call tonight. Daughter at bedside. Wife states pt slept well.",
    "MOTHER CABG AT 60. Sister with lupus.",
]


@pytest.mark.parametrize(("text", "gone", "kept"), RELATIVES)
def test_relatives_named_after_the_word_for_them(rules: SpacyRedactor, text: str, gone: tuple, kept: tuple) -> None:
    _check(rules, text, gone, kept)


@pytest.mark.parametrize("text", FAMILY_HISTORY_KEPT)
def test_relatives_without_names_stay(rules: SpacyRedactor, text: str) -> None:
    _unchanged(rules, text)


def test_lower_case_full_name_in_a_note_with_capitals(rules: SpacyRedactor) -> None:
    _check(rules, "Discussed with pt's friend, spoke with gwendolyn kowalski by phone.", ("gwendolyn", "kowalski"), ())


DATES = [
    pytest.param("Last BM 11/28. Dressing change due 10/22.", ("11/28", "10/22"), ("Last BM", "due"), id="cues"),
    pytest.param("PIV placed 9/14, expires 9/18.", ("9/14", "9/18"), ("PIV placed",), id="placed-expires"),
    pytest.param("CT head 3/26 neg. S/P CABG 3/20.", ("3/26", "3/20"), ("CT head", "neg"), id="after-a-test"),
    pytest.param("Foley out 12/17, voiding.", ("12/17",), ("Foley out",), id="bare-day-past-ten"),
    pytest.param("12/3 0700: pt resting. Abx 12/1-12/7.", ("12/3", "12/1-12/7"), ("0700",), id="time-and-range"),
    pytest.param("Seen 28-Nov by wound care.", ("28-Nov",), ("wound care",), id="day-dash-month"),
    pytest.param("Discharge planned for 12/7.", ("12/7",), ("Discharge planned for",), id="planned-for"),
]
MEASURES_KEPT = [
    "BP 120/80, HR 88. Strength 5/5 BUE. Pain 4/10, then 2/10. Ate 3/4 of meals.",
    "Given 1/2 amp D50. PRBC x2. I/O 1200/850. Glucose 140-190, covered per SSI.",
    "GCS 3/15 on arrival. Braden 12/23. MMSE 28/30. PHQ-9 12/27. Apgar 8/9. Murmur 2/6.",
    "Lotrel 5/20 mg daily. Percocet 5/325 1 tab q6h. Sats 94/95%. RASS -1. Temp 37.2.",
    "Shift 0700-1900. Chart check done 0800. Q2H turns.",
]


@pytest.mark.parametrize(("text", "gone", "kept"), DATES)
def test_month_day_dates_in_a_chart(rules: SpacyRedactor, text: str, gone: tuple, kept: tuple) -> None:
    _check(rules, text, gone, kept)


@pytest.mark.parametrize("text", MEASURES_KEPT)
def test_scores_doses_fractions_and_times_stay(rules: SpacyRedactor, text: str) -> None:
    _unchanged(rules, text)


PLACES = [
    pytest.param("FOLLOW UP WITH LAKESIDE FAMILY MEDICINE IN 1 WEEK.", ("LAKESIDE",), ("IN 1 WEEK",), id="caps"),
    pytest.param("Cardiology: Thornbury Heart Associates.", ("Thornbury",), ("Cardiology:",), id="associates"),
    pytest.param("Referred to Summit Vascular Group.", ("Summit",), ("Referred to",), id="group"),
    pytest.param("PT LIVES IN HALLSTEAD WITH WIFE.", ("HALLSTEAD",), ("LIVES IN", "WITH WIFE"), id="town-caps"),
    pytest.param("Admitted from Brookhaven Assisted Living.", ("Brookhaven",), ("Admitted from",), id="care-home"),
]
PLACES_KEPT = [
    "RX SENT TO PHARMACY. PT TRANSFERRED TO MICU 4 FROM CCU.",
    "HR 124 ST. NO ECTOPY. 67 YO M ADMITTED FROM HOME ON TELE.",
    "Seen by Internal Medicine and Pediatric Associates. Attends a support group.",
    "Guidelines of the American Academy of Pediatrics reviewed.",
]


@pytest.mark.parametrize(("text", "gone", "kept"), PLACES)
def test_practices_and_towns(rules: SpacyRedactor, text: str, gone: tuple, kept: tuple) -> None:
    _check(rules, text, gone, kept)


@pytest.mark.parametrize("text", PLACES_KEPT)
def test_wards_pharmacies_and_kinds_of_practice_stay(rules: SpacyRedactor, text: str) -> None:
    _unchanged(rules, text)


def test_phone_extensions(rules: SpacyRedactor) -> None:
    _check(rules, "Call back 555-0142 ext x4-7712, or the unit at extension 4417.", ("x4-7712", "4417", "555"), ())
    _unchanged(rules, "PRBC x2. NS x 1000 mL. Turn q2h x 24 hours.")


AGES = [
    pytest.param("Her father is still sharp, he's 93 and lives alone.", ("93",), ("lives alone",), id="hes"),
    pytest.param("Grandmother is 95.", ("95",), ("Grandmother",), id="relative-is"),
    pytest.param("[patient] she'll be ninety five in may", ("ninety five",), ("she'll be",), id="spoken"),
    pytest.param("[doctor] how old are you now ? [patient] ninety one", ("ninety one",), ("how old",), id="answer"),
    pytest.param("[patient] my mom who's ninety two lives with us", ("ninety two",), ("lives with us",), id="who"),
    pytest.param("[patient] she's gonna be ninety in june", ("ninety",), ("gonna be",), id="gonna-be"),
]


@pytest.mark.parametrize(("text", "gone", "kept"), AGES)
def test_ages_over_89_said_of_a_person(rules: SpacyRedactor, text: str, gone: tuple, kept: tuple) -> None:
    _check(rules, text, gone, kept)


def test_vital_signs_are_no_ages(rules: SpacyRedactor) -> None:
    _unchanged(rules, "She is 95% on RA. HR is 95. Temp is 99. Pt is 98 kg.")


CONVERSATION = """[doctor] hey there frank , come on in .
[patient] thanks doc . this is my husband bill , he drives me .
[doctor] thanks bill . so frank , what brings you in ?
[patient] they call me dawn at work but my name is dorothea .
[doctor] okay mark how are you feeling ? is grace coming today ?
[doctor] will how is your pain today ?
[patient] my wife hope usually comes with me . our son joy moved to bialystok .
[doctor] we'll see you next week , june .
"""
CONVERSATION_WORDS = """[doctor] we will mark the site and i hope the pain gets better .
[patient] i paid the bill . it was frank hematuria , says the report . she did it with grace .
[doctor] will you come back next week ? may i see the art therapy notes ?
[patient] so , how many days ? i love spring .
"""


def test_names_in_a_conversation(rules: SpacyRedactor) -> None:
    names = ("frank", "bill", "dawn", "dorothea", "mark", "grace", "will", "hope", "joy", "june", "bialystok")
    _check(rules, CONVERSATION, names, ("my husband", "my wife", "our son", "how is your pain"))


def test_names_that_are_words_stay_words_elsewhere(rules: SpacyRedactor) -> None:
    _unchanged(rules, CONVERSATION_WORDS)


SPOKEN_OF = """[patient] grace drove me here today . and bill said i should come in .
[doctor] tell mark to call me . i'm gonna have frank , our nurse , take you for an x-ray .
[patient] i hurt it playing bocce with my buddy vito . my doctor is over at maimonides .
"""
SPOKEN_WORDS = """[doctor] hope is important . the bill came in the mail . art helps me relax .
[patient] my art teacher said so . let me know . call me back . tell me about it . ask them to call .
"""


def test_people_spoken_of_in_a_conversation(rules: SpacyRedactor) -> None:
    gone = ("grace", "bill", "mark", "frank", "vito", "maimonides")
    _check(rules, SPOKEN_OF, gone, ("drove me", "our nurse", "my buddy", "over at"))
    _unchanged(rules, SPOKEN_WORDS)


def test_months_alone_in_a_transcript(rules: SpacyRedactor) -> None:
    _check(rules, "[patient] it started back in march , and again in may", ("march", "may"), ("it started",))
    _unchanged(rules, "[doctor] this may help . i may see you in a month . we march on .")


def test_places_after_travel_words_in_a_transcript(rules: SpacyRedactor) -> None:
    text = "[patient] we drove from szczecin last week . he lives in enugu . i'm from poland . we speak polish ."
    _check(rules, text, ("szczecin", "enugu"), ("we speak polish",))


def test_foreign_first_names_in_lower_case(rules: SpacyRedactor) -> None:
    """The world list: names of many countries, with or without their diacritics."""
    _check(
        rules,
        "[doctor] and your brother pawel , is he still helping ? [patient] yes , pawel comes .",
        ("pawel",),
        ("comes",),
    )
    _check(rules, "[patient] my neighbour małgorzata takes me shopping", ("małgorzata",), ("takes me shopping",))


EUROPEAN = [
    pytest.param("Adresse: Lindenstraße 12, 10115 Berlin.", ("Lindenstraße", "12", "10115", "Berlin"), id="de"),
    pytest.param("Lives at Dalmatinova 43, 1000 Ljubljana.", ("Dalmatinova", "43", "1000", "Ljubljana"), id="si"),
    pytest.param("Post to Hoofdstraat 5, 1234 AB Amsterdam.", ("Hoofdstraat", "5", "1234", "Amsterdam"), id="nl"),
    pytest.param("Rua Augusta 100, 1100-053 Lisboa.", ("Augusta", "100", "1100-053", "Lisboa"), id="pt"),
    pytest.param("ul. Długa 5, 00-238 Warszawa.", ("Długa", "5", "00-238", "Warszawa"), id="pl"),
]


@pytest.mark.parametrize(("text", "gone"), EUROPEAN)
def test_european_addresses_lose_number_and_postcode(rules: SpacyRedactor, text: str, gone: tuple) -> None:
    _check(rules, text, gone, ())
