"""The grounding use case (app/core/services/grounding.py): the check the window and the CLI share, the part of a
note being written that can be checked, and the links a view follows both ways."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from app.core.services.grounding import (
    check_answer,
    check_draft,
    complete_part,
    demographics,
    facts_to_check,
)

REPO = Path(__file__).resolve().parents[2]
DICTATION = (REPO / "resources" / "sample" / "dictation.txt").read_text(encoding="utf-8")
NOTE = (
    "SUBJECTIVE\nThree days of productive cough and a low-grade fever.\n\n"
    "PLAN\nAmoxicillin 250 mg three times daily for 5 days, chest X-ray, review in one week. "
    "Smoking cessation advice was given and he agreed to quit."
)


def test_check_answer_links_sentences_and_flags_a_wrong_dose() -> None:
    report = check_answer(DICTATION, NOTE)
    by_text = {s.text: s for s in report.sentences}
    cough = by_text["Three days of productive cough and a low-grade fever."]
    assert cough.support and "productive cough" in DICTATION[cough.support[0].start:cough.support[0].end]
    plan = next(s for s in report.sentences if s.text.startswith("Amoxicillin"))
    assert [(f.kind, NOTE[f.start:f.end], f.reason) for f in plan.flags] == [
        ("number", "250 mg", "250 mg: the consultation says 500 mg")
    ]
    assert [s.text for s in report.unsupported] == ["Smoking cessation advice was given and he agreed to quit."]
    assert facts_to_check(report) == "1 fact to check: 250 mg: the consultation says 500 mg"
    assert report.as_dict()["sentences"][0]["text"] == cough.text  # the JSON of check-note and ask --json


def test_a_note_being_written_is_checked_up_to_its_last_complete_sentence() -> None:
    assert complete_part("Cough for 3 days. Temp 38.2 and ris") == "Cough for 3 days."
    assert complete_part("SUBJECTIVE\nCough") == "SUBJECTIVE\n"
    assert complete_part("No sentence yet") == ""
    partial = NOTE[: NOTE.index("Smoking") + 10]
    checked = check_draft(DICTATION, partial, complete=False)
    assert checked.note == NOTE[: NOTE.index(" Smoking")] and checked.note.endswith("review in one week.")
    assert [f.text for f in checked.flags] == ["250 mg"] and not checked.unsupported
    # It still describes the note as it grows, but not once an earlier part changes or the transcript does.
    assert checked.holds_for(NOTE, DICTATION)
    assert not checked.holds_for(NOTE.replace("250", "500"), DICTATION)
    assert not checked.holds_for(NOTE, DICTATION + " Addendum.")
    whole = check_draft(DICTATION, NOTE)
    assert whole.complete and whole.holds_for(NOTE, DICTATION) and not whole.holds_for(NOTE + " More.", DICTATION)
    assert check_draft(DICTATION, "Nothing complete", complete=False).report.sentences == []


def test_links_go_from_a_note_sentence_to_what_was_said_and_back() -> None:
    checked = check_draft(DICTATION, NOTE)
    at_cough = NOTE.index("productive")
    sources = checked.sources_at(at_cough)
    assert sources and "three days of productive cough" in DICTATION[sources[0].start:sources[0].end]
    span, users = checked.uses_of(sources[0].start + 5)
    assert span == sources[0] and [s.text for s in users] == ["Three days of productive cough and a low-grade fever."]
    assert checked.sources_at(NOTE.index("Smoking")) == []  # unsupported: nothing to show
    assert checked.uses_of(DICTATION.index("daughter")) == (None, [])  # said, but not in the note
    assert checked.sentence_at(NOTE.index("SUBJECTIVE")) is None  # a heading is not a sentence


def test_the_record_gives_the_patients_age_and_sex() -> None:
    assert demographics(date(1958, 3, 4), "male", date(2026, 3, 3)) == "67-year-old man"
    assert demographics(date(1958, 3, 4), "female", date(2026, 3, 4)) == "68-year-old woman"
    assert demographics(date(1958, 3, 4), "", date(2026, 3, 4)) == "68-year-old patient"
    assert demographics(None, "male", date(2026, 3, 4)) == ""
    report = check_answer("Cough for two days.", "68-year-old man with cough for 2 days.",
                          [demographics(date(1958, 3, 4), "male", date(2026, 3, 4))])
    assert report.flags == []
