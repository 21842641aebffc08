"""Voice commands and the dictation document (dictation/commands.py, document.py)."""

from __future__ import annotations

import pytest

from app.core.asr.base import Word
from app.core.dictation.document import DictationDocument, DictationOptions


def words(text: str, probability: float = 0.9) -> list[Word]:
    return [Word(" " + w, 0.0, 0.0, probability) for w in text.split()]


def dictate(*utterances: str, options: DictationOptions | None = None) -> str:
    document = DictationDocument(options)
    for utterance in utterances:
        document.add(words(utterance))
    return document.text


@pytest.mark.parametrize(
    ("utterances", "text"),
    [
        (["Patient is stable period next review in a week"], "Patient is stable period next review in a week"),
        (["Patient is stable period", "Review in a week."], "Patient is stable. Review in a week."),
        (["Patient is stable. Period. Review in a week."], "Patient is stable. Review in a week."),
        (["Patient is stable full stop review in a week"], "Patient is stable. Review in a week"),
        (["Alert comma oriented"], "Alert, oriented"),
        (["Alert. Comma. Oriented."], "Alert, oriented."),
        (["History new paragraph Examination normal"], "History\n\nExamination normal"),
        (["History, new paragraph, examination normal."], "History\n\nExamination normal."),
        (["Allergies none new line medications none"], "Allergies none\nMedications none"),
        # Whisper's "two weeks, new paragraph" comma is dropped at the break
        (["Two weeks, new line, continue"], "Two weeks\nContinue"),
    ],
)
def test_commands_act(utterances: list[str], text: str) -> None:
    assert dictate(*utterances) == text


@pytest.mark.parametrize(
    "ordinary",
    [
        "The period of illness was two weeks.",
        "She reports a menstrual period last week.",
        "Symptoms for a two-week period.",
        "We started a new line of treatment.",
        "He tends to scratch that area.",
        "Do not scratch that.",
        "There is a comma missing.",
        "The car came to a full stop.",
    ],
)
def test_commands_do_not_fire_inside_ordinary_speech(ordinary: str) -> None:
    assert dictate(ordinary) == ordinary


def test_period_after_a_pause_fires_even_after_a_modifier() -> None:
    document = DictationDocument()
    document.add([Word(" Mild", 0.0, 0.3, 0.9), Word(" pain", 0.3, 0.6, 0.9), Word(" period", 1.2, 1.5, 0.9)])
    assert document.text == "Mild pain."


def timed(text: str, pause_after: int) -> list[Word]:
    """Words 0.3 s apart, with a 0.5 s pause after word number `pause_after`."""
    out: list[Word] = []
    start = 0.0
    for index, word in enumerate(text.split()):
        out.append(Word(" " + word, start, start + 0.25, 0.9))
        start += 0.3 + (0.5 if index == pause_after else 0.0)
    return out


def test_scratch_that_removes_the_phrase_being_spoken() -> None:
    document = DictationDocument()
    document.add(timed("Patient has a rash scratch that patient has hives", pause_after=5))
    assert document.text == "Patient has hives"
    # Without the pause (or punctuation, or a capital) after it, "scratch that" is ordinary speech.
    assert dictate("Patient has a rash scratch that patient has hives") == (
        "Patient has a rash scratch that patient has hives"
    )


def test_scratch_that_on_its_own_removes_the_previous_utterance() -> None:
    assert dictate("Blood pressure is fine.", "Patient has a rash", "Scratch that.", "Hives.") == (
        "Blood pressure is fine. Hives."
    )


def test_scratch_that_removes_the_last_sentence_inside_an_utterance() -> None:
    assert dictate("BP 120 over 80. Patient has a rash. Scratch that. Patient has hives.") == (
        "BP 120/80. Patient has hives."
    )


def test_scratch_that_can_undo_a_paragraph_break_and_repeat() -> None:
    assert dictate("One.", "Two.", "Scratch that.", "Scratch that.") == ""
    assert dictate("History.", "New paragraph.", "Scratch that.", "Exam normal.") == "History. Exam normal."


def test_scratch_that_on_an_empty_document_does_nothing() -> None:
    assert dictate("Scratch that.") == ""


def test_commands_can_be_switched_off() -> None:
    options = DictationOptions(commands=False)
    assert dictate("Stable period new paragraph scratch that", options=options) == (
        "Stable period new paragraph scratch that"
    )


def test_low_confidence_spans_point_at_the_words() -> None:
    document = DictationDocument(DictationOptions(low_confidence=0.5))
    document.add([Word(" Start", 0, 0, 0.9), Word(" amlodipine,", 0, 0, 0.3), Word(" new", 0, 0, 0.9),
                  Word(" line", 0, 0, 0.9), Word(" review", 0, 0, 0.2)])
    rendered = document.render()
    assert rendered.text == "Start amlodipine\nReview"
    assert [rendered.text[a:b] for a, b in rendered.low_confidence] == ["amlodipine", "Review"]


def test_preview_formats_without_changing_the_document() -> None:
    document = DictationDocument()
    document.add(words("Blood pressure is fine."))
    preview = document.preview(words("fifty milligrams scratch that"))
    assert preview.text == ""
    assert document.preview(words("start fifty milligrams")).text == "Start 50 mg"
    assert document.text == "Blood pressure is fine."


def test_words_whisper_glues_without_a_space_stay_one_word() -> None:
    document = DictationDocument()
    document.add([Word(" a", 0, 0, 0.9), Word(" 42", 0, 0, 0.9), Word("-line", 0, 0, 0.9), Word(" Bible", 0, 0, 0.9),
                  Word(" of", 0, 0, 0.9), Word(" the", 0, 0, 0.9), Word(" 15", 0, 0, 0.9), Word("th", 0, 0, 0.9),
                  Word(" century.", 0, 0, 0.9)])
    assert document.text == "A 42-line Bible of the 15th century."
