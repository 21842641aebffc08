"""Grounding, fact checks: each kind of flag with its one-glance reason, spoken numbers on both sides, brand and
generic names, negation both ways, extra sources. No Qt, no model."""

from __future__ import annotations

import pytest

from app.core.grounding import Flag, ground

DICTATION = (
    "Seventy two year old woman seen for follow up of hypertension and type two diabetes. "
    "She takes Glucophage five hundred milligrams twice a day and lisinopril twenty milligrams once a day. "
    "She has had pain in her right knee for three weeks. She denies chest pain. She reports a dry cough. "
    "Blood pressure one forty over ninety, heart rate seventy eight, oxygen saturation ninety seven percent. "
    "Plan: continue both medicines and review in two weeks."
)
FAITHFUL = (
    "72-year-old woman with hypertension and type 2 diabetes. Takes metformin 500 mg twice daily and lisinopril "
    "20 mg daily. Right knee pain for 3 weeks. No chest pain. Dry cough. BP 140/90, HR 78, SpO2 97%. "
    "Follow up in 2 weeks."
)


def _flags(note: str, transcript: str = DICTATION, sources: tuple[str, ...] = ()) -> list[Flag]:
    report = ground(note, transcript, sources)
    for flag in report.flags:
        assert note[flag.start : flag.end] == flag.text
    return report.flags


def _only(note: str, kind: str, transcript: str = DICTATION) -> Flag:
    flags = _flags(note, transcript)
    assert [f.kind for f in flags] == [kind], flags
    return flags[0]


def test_a_faithful_note_written_from_spoken_numbers_has_no_flags() -> None:
    assert _flags(FAITHFUL) == []


@pytest.mark.parametrize(
    ("written", "wrong", "reason"),
    [
        ("metformin 500 mg", "metformin 1000 mg", "1000 mg: the consultation says 500 mg"),
        ("BP 140/90", "BP 150/90", "150/90: the consultation says 140/90"),
        ("HR 78", "HR 88", "88: the consultation says 78"),
        ("SpO2 97%", "SpO2 92%", "92%: the consultation says 97%"),
        ("for 3 weeks", "for 3 months", "3 months: the consultation says 3 weeks"),
        ("500 mg twice daily", "500 mg three times daily", "three times daily: the consultation says twice daily"),
    ],
)
def test_a_changed_number_is_flagged_with_what_was_said(written: str, wrong: str, reason: str) -> None:
    flag = _only(FAITHFUL.replace(written, wrong), "number")
    assert flag.text == reason.split(":")[0]
    assert flag.reason == reason


def test_spoken_numbers_are_read_on_the_note_side_too() -> None:
    note = "Takes metformin five hundred milligrams twice a day. Blood pressure one forty over ninety."
    assert _flags(note) == []
    assert _only("Takes metformin two hundred fifty milligrams twice a day.", "number").reason == (
        "two hundred fifty milligrams: the consultation says 500 mg"
    )


def test_brand_and_generic_names_are_one_medicine() -> None:
    assert _flags("Takes Glucophage 500 mg twice daily.") == []
    assert _flags("Takes metformin 500 mg twice daily.") == []
    flag = _only("Takes metformin 500 mg twice daily and Lipitor 20 mg daily.", "medicine")
    assert (flag.text, flag.reason) == ("Lipitor", "Lipitor: not mentioned")


def test_a_swapped_side_is_flagged() -> None:
    flag = _only(FAITHFUL.replace("Right knee", "Left knee"), "laterality")
    assert (flag.text, flag.reason) == ("Left", "Left: the consultation says right")


def test_negation_dropped_and_added() -> None:
    dropped = _only(FAITHFUL.replace("No chest pain.", "Chest pain."), "negation")
    assert dropped.reason == "Chest pain: the consultation says no Chest pain"
    added = _only(FAITHFUL.replace("Dry cough.", "Denies cough."), "negation")
    assert added.text == "Denies cough"
    assert added.reason == "no cough: the consultation says cough"


def test_negation_in_a_dialogue_is_the_reply_to_the_question() -> None:
    dialogue = "[doctor] any chest pain ?\n[patient] no .\n[doctor] and the cough ?\n[patient] yes , a dry cough .\n"
    assert _flags("Denies chest pain. Reports a dry cough.", dialogue) == []
    flag = _only("Reports chest pain.", "negation", dialogue)
    assert flag.reason == "chest pain: the consultation says no chest pain"


def test_a_wrong_age_is_flagged_and_the_record_may_give_the_age() -> None:
    flag = _only(FAITHFUL.replace("72-year-old", "67-year-old"), "age")
    assert flag.reason == "67-year-old: the consultation says 72-year-old"
    no_age = "[doctor] what brings you in ?\n[patient] my knee hurts .\n"
    assert _only("58-year-old man with knee pain.", "age", no_age).reason == "58-year-old: not mentioned"
    assert _flags("58-year-old man with knee pain.", no_age, ("58-year-old male",)) == []


def test_a_value_from_a_prior_summary_is_not_flagged() -> None:
    note = "Last HbA1c 7.2%."
    assert _only(note, "number").reason == "7.2%: not mentioned"
    assert _flags(note, DICTATION, ("Summary: HbA1c 7.2% in March.",)) == []


def test_a_date_not_said_is_flagged() -> None:
    transcript = "[doctor] when did it start ?\n[patient] on march third , after the fall .\n"
    assert _flags("Symptoms started on March 3 after a fall.", transcript) == []
    flag = _only("Symptoms started on March 8 after a fall.", "date", transcript)
    assert flag.reason == "March 8: the consultation says March 3"


def test_durations_said_in_words() -> None:
    transcript = "[patient] it started a couple of weeks ago and the rash came about a year and a half ago .\n"
    assert _flags("Started 2 weeks ago. Rash for 18 months.", transcript) == []
    assert _only("Started 5 weeks ago.", "number", transcript).text == "5 weeks"
