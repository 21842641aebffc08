"""SentenceStreamer: complete sentences out of a token stream, as soon as each one ends, and never too early."""

from __future__ import annotations

import pytest

from app.core.errors import Cancelled, CancelToken
from app.core.tts.sentences import SentenceStreamer, split_lead, split_sentences

ANSWER = (
    "Dr. Smith reviewed the chart. Give 0.5 mg IV b.i.d. Then reassess, e.g. at 2 p.m. tomorrow. "
    "BP 140/90 mmHg! Is that ok?\n- Start metformin 500 mg\n1. Check labs. J. Doe agreed."
)
EXPECTED = [
    "Dr. Smith reviewed the chart.",
    "Give 0.5 mg IV b.i.d.",
    "Then reassess, e.g. at 2 p.m. tomorrow.",
    "BP 140/90 mmHg!",
    "Is that ok?",
    "- Start metformin 500 mg",
    "1. Check labs.",
    "J. Doe agreed.",
]


def test_abbreviations_decimals_and_lists_are_not_sentence_ends() -> None:
    assert split_sentences(ANSWER) == EXPECTED


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8])
def test_any_tokenisation_gives_the_same_sentences(size: int) -> None:
    tokens = [ANSWER[i : i + size] for i in range(0, len(ANSWER), size)]
    assert list(SentenceStreamer().sentences(tokens)) == EXPECTED


def test_a_sentence_is_released_by_the_next_token_not_the_end_of_the_answer() -> None:
    streamer = SentenceStreamer()
    assert streamer.feed("Give 0") == []
    assert streamer.feed(".") == []  # "0." could still be "0.5"
    assert streamer.feed("5 mg now.") == []  # the "." could still be "now.5" — wait for what follows
    assert streamer.feed(" Then") == ["Give 0.5 mg now."]
    assert streamer.feed(" rest.") == []
    assert streamer.finish() == ["Then rest."]


def test_dosing_abbreviation_waits_for_the_next_word_to_decide() -> None:
    streamer = SentenceStreamer()
    assert streamer.feed("Take 5 mg b.i.d. ") == []  # a capital next would end it; a lower-case word would not
    assert streamer.feed("with") == []
    assert streamer.feed(" food. Next") == ["Take 5 mg b.i.d. with food."]
    streamer = SentenceStreamer()
    assert streamer.feed("Take 5 mg b.i.d. ") == []
    assert streamer.feed("Review") == ["Take 5 mg b.i.d."]


def test_titles_never_end_a_sentence_even_before_a_capital() -> None:
    assert split_sentences("Ask Dr. Jones. Or Mrs. Lee, e.g. Tuesday.") == [
        "Ask Dr. Jones.", "Or Mrs. Lee, e.g. Tuesday."
    ]


def test_abbreviation_case_matters_where_it_changes_the_meaning() -> None:
    assert split_sentences("Known MS. Review. E.g. Monday.") == ["Known MS.", "Review.", "E.g. Monday."]
    assert split_sentences("Give it B.I.D. Review soon.") == ["Give it B.I.D.", "Review soon."]


def test_question_exclamation_ellipsis_and_quotes() -> None:
    assert split_sentences('He said "stop." Then left... Why? Now!') == [
        'He said "stop."', "Then left...", "Why?", "Now!"
    ]


def test_a_run_on_sentence_is_cut_at_a_comma_so_speech_is_not_delayed() -> None:
    clause = "the patient reports intermittent chest tightness on exertion"
    text = ", ".join([clause] * 8) + "."
    parts = list(SentenceStreamer(max_chars=150).sentences([text]))
    assert len(parts) > 1
    assert all(len(p) <= 150 for p in parts)
    assert " ".join(parts).replace(" ,", ",") == text
    assert all(p.endswith((",", ".")) for p in parts)


def test_empty_lines_and_whitespace_give_no_sentences() -> None:
    assert split_sentences("\n\n   \n") == []
    assert split_sentences("One line only") == ["One line only"]


def test_cancel_is_checked_between_tokens() -> None:
    cancel = CancelToken()
    consumed: list[str] = []

    def tokens() -> object:
        for token in ["First.", " Second", ".", " Third."]:
            consumed.append(token)
            yield token

    stream = SentenceStreamer().sentences(tokens(), cancel)  # type: ignore[arg-type]
    assert next(stream) == "First."
    cancel.cancel()
    with pytest.raises(Cancelled):
        next(stream)
    assert len(consumed) < 4


def test_split_lead_cuts_a_long_opening_sentence_at_a_natural_pause() -> None:
    spoken = "Start amlodipine five milligrams once daily, for example in the morning, and recheck in two weeks."
    lead, rest = split_lead(spoken, 9) or ("", "")
    assert lead == "Start amlodipine five milligrams once daily,"
    assert f"{lead} {rest}" == spoken
    assert split_lead("A short sentence.", 9) is None
    # No comma and no clause word within reach: left whole rather than cut mid-phrase.
    assert split_lead("The blood pressure of one hundred fifty two over ninety six is high.", 9) is None
    lead2, _ = split_lead("The patient should rest at home and drink plenty of fluids today.", 9) or ("", "")
    assert lead2 == "The patient should rest at home"
