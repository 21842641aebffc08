"""Clinical text normalisation for read-aloud: every section of resources/tts/normalisation.toml, and numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import ConfigError
from app.core.tts import spoken_numbers as sn
from app.core.tts.normalise import ClinicalNormaliser
from app.core.tts.rules import load_rules, parse_rules


@pytest.fixture(scope="module")
def say() -> ClinicalNormaliser:
    return ClinicalNormaliser()


# The issue's examples, word for word.
@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("0.5 mg", "zero point five milligrams"),
        ("BP 140/90", "blood pressure one hundred forty over ninety"),
        ("Take 5 mg b.i.d.", "Take five milligrams twice daily."),
        ("Dr. Smith", "Doctor Smith"),
        ("5-10 mg", "five to ten milligrams"),
        ("250 mcg", "two hundred fifty micrograms"),
        ("15 mL", "fifteen milliliters"),
        ("120/80 mmHg", "one hundred twenty over eighty millimeters of mercury"),
        ("HR 72 bpm", "heart rate seventy two beats per minute"),
        ("38.5 °C", "thirty eight point five degrees Celsius"),
        ("38.5°C", "thirty eight point five degrees Celsius"),
        ("± 2 kg", "plus or minus two kilograms"),
        ("SpO2 94%", "oxygen saturation ninety four percent"),
    ],
)
def test_issue_examples(say: ClinicalNormaliser, written: str, spoken: str) -> None:
    assert say(written) == spoken


def test_no_decimal_point_or_unit_letters_survive(say: ClinicalNormaliser) -> None:
    # Piper would read "mg" letter by letter and might end a sentence at "0.": neither may reach it.
    spoken = say("Give 0.5 mg IV, then 1.25 mg/kg/day in 2 doses; K 4.1 mmol/L.")
    assert spoken == (
        "Give zero point five milligrams I V, then one point two five milligrams per kilogram per day in two doses; "
        "K four point one millimoles per liter."
    )
    assert not any(ch.isdigit() for ch in spoken)


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("1 mg", "one milligram"),  # singular only for exactly one
        ("1.0 mg", "one point zero milligrams"),
        ("0.5-1 mg", "zero point five to one milligrams"),  # a range ending in 1 is still plural
        ("1,000 mL over 8 h", "one thousand milliliters over eight hours"),
        ("72/min", "seventy two per minute"),
        ("10 units", "ten units"),
        ("2 x daily", "two times daily"),
        ("-5 °C", "minus five degrees Celsius"),
        ("eGFR 64 mL/min", "eGFR sixty four milliliters per minute"),
        ("6 mo", "six months"),
    ],
)
def test_units_and_numbers(say: ClinicalNormaliser, written: str, spoken: str) -> None:
    assert say(written) == spoken


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("q4h", "every four hours"),
        ("q4-6h prn", "every four to six hours as needed"),
        ("p.r.n.", "as needed."),
        ("T.I.D. with food", "three times daily with food"),
        ("b.i.d with food", "twice daily with food"),  # the last full stop is optional
        ("PO BID", "by mouth twice daily"),
        ("e.g. fever", "for example fever"),
        ("E.g. fever", "for example fever"),  # capitalised at a sentence start
        ("Known MS.", "Known MS."),  # multiple sclerosis, not "Ms."
        ("i.e. daily", "that is daily"),
        ("at 2 p.m.", "at two P M."),
        ("a bid for the house", "a bid for the house"),  # lower-case English word untouched
        ("Dr Who", "Dr Who"),  # without its full stop "Dr" may be a street: left alone
        ("IV fluids", "I V fluids"),  # espeak would say "Roman four"
        ("c/o SOB", "complains of shortness of breath"),
    ],
)
def test_abbreviations_and_words(say: ClinicalNormaliser, written: str, spoken: str) -> None:
    assert say(written) == spoken


@pytest.mark.parametrize(
    ("written", "month_first", "day_first"),
    [
        ("2024-03-12", "March twelfth, twenty twenty four", "the twelfth of March, twenty twenty four"),
        ("03/04/2025", "March fourth, twenty twenty five", "the third of April, twenty twenty five"),
        ("25/12/2024", "the twenty fifth of December, twenty twenty four", "the twenty fifth of December, twenty "
         "twenty four"),  # only one reading is a date
        ("3 March 2024", "the third of March, twenty twenty four", "the third of March, twenty twenty four"),
        ("March 5th, 2005", "March fifth, two thousand five", "March fifth, two thousand five"),
        ("12/03/85", "December third, nineteen eighty five", "the twelfth of March, nineteen eighty five"),
    ],
)
def test_dates_follow_the_date_order_setting(written: str, month_first: str, day_first: str) -> None:
    assert ClinicalNormaliser(date_order="month_first")(written) == month_first
    assert ClinicalNormaliser(date_order="day_first")(written) == day_first


def test_times_fractions_and_ratios(say: ClinicalNormaliser) -> None:
    assert say("at 08:30 and 14:00") == "at eight thirty and fourteen o'clock"
    assert say("1/2 tablet") == "one half tablet"
    assert say("GCS 15/15, grade 2/6 murmur") == "GCS fifteen over fifteen, grade two over six murmur"


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("Seen by [PATIENT_1] today.", "Seen by the patient today."),
        ("Call [PHONE_2] now.", "Call that number now."),
        ("Back on [DATE_3 (day +14)].", "Back on that date."),
        ("Lives at [LOCATION_1], alone.", "Lives at that place, alone."),
        ("Code [SOMETHING_NEW_4] here.", "Code here."),  # an unknown label is dropped, never spelled out
        ("[PATIENT_1]'s BP", "the patient's blood pressure"),
    ],
)
def test_placeholders_are_never_spoken(say: ClinicalNormaliser, written: str, spoken: str) -> None:
    assert say(written) == spoken
    assert "[" not in say(written) and "_" not in say(written)


def test_markdown_is_not_read_out(say: ClinicalNormaliser) -> None:
    assert say("**Plan:** - Start metformin 500 mg PO BID") == (
        "Plan: Start metformin five hundred milligrams by mouth twice daily"
    )
    assert say("## Assessment") == "Assessment"
    assert say("- `Amlodipine` [5 mg](http://x)") == "Amlodipine five milligrams"


def test_symbols(say: ClinicalNormaliser) -> None:
    assert say("K < 3.5 → give KCl") == "K less than three point five then give KCl"
    assert say("HbA1c ≥ 7%") == "H B A one C greater than or equal to seven percent"


def test_sentence_end_is_kept_and_plain_text_untouched(say: ClinicalNormaliser) -> None:
    assert say("Take it b.i.d.") == "Take it twice daily."
    assert say("Is that clear?") == "Is that clear?"
    assert say("No numbers here, just words") == "No numbers here, just words"


def test_spoken_numbers() -> None:
    assert sn.cardinal(0) == "zero"
    assert sn.cardinal(115) == "one hundred fifteen"
    assert sn.cardinal(1_000_001) == "one million one"
    assert sn.cardinal(-40) == "minus forty"
    assert [sn.ordinal(n) for n in (1, 2, 3, 12, 20, 21, 31)] == [
        "first", "second", "third", "twelfth", "twentieth", "twenty first", "thirty first"
    ]
    assert sn.decimal("0.05") == "zero point zero five"
    assert sn.decimal(".5") == "point five"
    assert sn.decimal("12,500") == "twelve thousand five hundred"
    assert [sn.year(y) for y in (1999, 1905, 1900, 2000, 2009, 2024)] == [
        "nineteen ninety nine", "nineteen oh five", "nineteen hundred", "two thousand", "two thousand nine",
        "twenty twenty four",
    ]
    assert sn.clock_time(9, 5) == "nine oh five"


def test_every_shipped_rule_section_is_loaded() -> None:
    rules = load_rules()
    assert rules.inside_abbreviations["Dr."] == "Doctor"
    assert rules.final_abbreviations["b.i.d."] == "twice daily"
    assert rules.units["mg"] == ("milligram", "milligrams")
    assert rules.symbols["±"] == "plus or minus"
    assert rules.fractions["1/2"] == "one half"
    assert rules.placeholders["PATIENT"] == "the patient"
    assert rules.words["BP"] == "blood pressure"


def test_every_unit_in_the_table_is_read_after_a_number(say: ClinicalNormaliser) -> None:
    for written, (singular, plural) in load_rules().units.items():
        assert say(f"2 {written}") == f"two {plural}", written
        assert say(f"1 {written}") == f"one {singular}", written


def test_a_malformed_rules_file_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "rules.toml"
    bad.write_text("[units\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_rules(bad)
    with pytest.raises(ConfigError, match="malformed unit 'mg'"):
        parse_rules({"units": {"mg": "milligrams"}}, bad)
    with pytest.raises(ConfigError, match=r"malformed \[words\]"):
        parse_rules({"words": {"BP": 3}}, bad)
    with pytest.raises(ConfigError, match="missing"):
        load_rules(tmp_path / "absent.toml")
