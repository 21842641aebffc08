"""Spoken numbers and units -> clinical notation (dictation/numbers.py)."""

from __future__ import annotations

import pytest

from app.core.asr.base import Word
from app.core.dictation.document import DictationDocument, DictationOptions


def formatted(text: str) -> str:
    document = DictationDocument(DictationOptions(commands=False))
    document.add([Word(" " + w, 0.0, 0.0, 0.9) for w in text.split()])
    return document.text


@pytest.mark.parametrize(
    ("spoken", "written"),
    [
        ("fifty milligrams", "50 mg"),
        ("Start metformin five hundred milligrams twice daily", "Start metformin 500 mg twice daily"),
        ("one forty over ninety", "140/90"),
        ("Blood pressure one twenty over eighty.", "Blood pressure 120/80."),
        ("one oh five over seventy", "105/70"),
        ("one hundred and forty over ninety", "140/90"),
        ("a hundred and eighty over eighty", "180/80"),  # "a" is one before "hundred"
        ("a hundred milligrams", "100 mg"),
        ("BP 140 over 90", "BP 140/90"),
        ("1:40 over 90", "140/90"),  # Whisper writes a spoken "one forty" as a clock time
        ("point five", "0.5"),
        ("give point five milligrams", "Give 0.5 mg"),
        ("zero point two five milligrams", "0.25 mg"),
        ("two point five", "2.5"),
        ("gift.5 mg of lorazepam.", "Gift 0.5 mg of lorazepam."),  # "give point five" glued by Whisper
        (".5 mg", "0.5 mg"),
        ("5.0 mg", "5 mg"),  # no trailing zero on a dose
        ("50mg twice daily", "50 mg twice daily"),
        ("2.5ML", "2.5 mL"),
        ("sixty five milligrams per kilogram per day", "65 mg/kg/day"),
        ("ninety five percent", "95%"),
        ("thirty eight point five degrees celsius", "38.5 °C"),
        ("ten units of insulin", "10 units of insulin"),
        ("one unit of blood", "1 unit of blood"),
        ("forty-two milligrams", "42 mg"),
        ("five hundred micrograms", "500 mcg"),
        ("twenty milliliters", "20 mL"),
    ],
)
def test_numbers_and_units_are_written_as_in_a_note(spoken: str, written: str) -> None:
    assert formatted(spoken) == written


@pytest.mark.parametrize(
    "ordinary",
    [
        "one of the patients",
        "two weeks of cough",
        "at this point five patients improved",
        "two over three",  # not a plausible blood pressure
        "the 15th century",
        "milligrams matter",  # a unit without a number
        "about a hundred patients",  # a count, not a reading or a dose
        "a patient with a fever",
    ],
)
def test_ordinary_speech_is_left_alone(ordinary: str) -> None:
    assert formatted(ordinary) == ordinary[0].upper() + ordinary[1:]


def test_formatting_can_be_switched_off() -> None:
    document = DictationDocument(DictationOptions(commands=False, format_numbers=False))
    document.add([Word(" " + w, 0.0, 0.0, 0.9) for w in ["fifty", "milligrams", "one", "forty", "over", "ninety"]])
    assert document.text == "Fifty milligrams one forty over ninety"


def test_a_formatted_value_is_as_doubtful_as_its_least_certain_word() -> None:
    document = DictationDocument()
    document.add([Word(" give", 0, 0, 0.9), Word(" point", 0, 0, 0.2), Word(" five", 0, 0, 0.9),
                  Word(" milligrams.", 0, 0, 0.9)])
    rendered = document.render()
    assert rendered.text == "Give 0.5 mg."
    assert [rendered.text[a:b] for a, b in rendered.low_confidence] == ["0.5 mg"]
