"""Grounding, support links: sentences of notes and transcripts, links between them, offsets. No Qt, no model."""

from __future__ import annotations

from app.core.grounding import GroundingReport, ground
from app.core.grounding.sentences import note_sentences, transcript_sentences

TRANSCRIPT = """[doctor] good morning , what brings you in today ?
[patient] i've had a cough for about five days and some shortness of breath when i climb stairs .
[doctor] any fever ?
[patient] no , no fever .
[doctor] are you still taking the lisinopril ?
[patient] yes , ten milligrams every morning .
[doctor] okay . your blood pressure is one thirty two over eighty four today .
[doctor] your lungs have some wheezes on the left side .
[doctor] i'll start you on an albuterol inhaler , two puffs every four to six hours as needed .
"""

NOTE = """SUBJECTIVE:
Cough for 5 days with dyspnea on exertion. Denies fever.
Medications:
- Lisinopril 10 mg daily.
OBJECTIVE
BP 132/84. Wheezes over the left lung.
Plan: Albuterol inhaler, 2 puffs every 4-6 hours as needed.
He enjoys sailing on weekends.
"""


def _by_text(report: GroundingReport) -> dict[str, object]:
    return {s.text: s for s in report.sentences}


def test_note_sentences_skip_headings_bullets_and_labels() -> None:
    texts = [NOTE[s.start : s.end] for s in note_sentences(NOTE)]
    assert texts == [
        "Cough for 5 days with dyspnea on exertion.",
        "Denies fever.",
        "Lisinopril 10 mg daily.",
        "BP 132/84.",
        "Wheezes over the left lung.",
        "Albuterol inhaler, 2 puffs every 4-6 hours as needed.",
        "He enjoys sailing on weekends.",
    ]
    plan = note_sentences(NOTE)[5]
    assert plan.context is not None and NOTE[plan.context[0] : plan.context[1]] == "Plan"


def test_transcript_sentences_drop_speaker_labels_and_pair_questions_with_replies() -> None:
    sentences = transcript_sentences(TRANSCRIPT)
    texts = [TRANSCRIPT[s.start : s.end] for s in sentences]
    assert "[doctor]" not in " ".join(texts)
    fever = next(s for s in sentences if TRANSCRIPT[s.start : s.end] == "any fever ?")
    assert fever.speaker == "doctor" and fever.question and fever.answer == "neg"
    taking = next(s for s in sentences if "lisinopril" in TRANSCRIPT[s.start : s.end])
    assert taking.question and taking.answer == "pos"


def test_long_unpunctuated_speech_is_cut_but_not_inside_a_number() -> None:
    talk = ("[doctor] okay so let me look at your vitals your temperature is fine your heart rate is seventy two "
            "and your breathing is sixteen per minute blood pressure is one ten over sixty five okay so now let us "
            "talk about the plan for your knee which has been hurting for two weeks alright")
    pieces = [talk[s.start : s.end] for s in transcript_sentences(talk)]
    assert len(pieces) > 1
    assert any("one ten over sixty five" in p for p in pieces)


def test_each_sentence_is_linked_to_what_was_said() -> None:
    report = ground(NOTE, TRANSCRIPT)
    sentences = _by_text(report)
    cough = sentences["Cough for 5 days with dyspnea on exertion."]
    linked = [TRANSCRIPT[p.start : p.end] for p in cough.support]  # type: ignore[attr-defined]
    assert any("cough for about five days" in text for text in linked)
    inhaler = sentences["Albuterol inhaler, 2 puffs every 4-6 hours as needed."]
    assert any("albuterol" in TRANSCRIPT[p.start : p.end] for p in inhaler.support)  # type: ignore[attr-defined]


def test_a_sentence_nothing_supports_is_unsupported_and_not_flagged_for_it() -> None:
    report = ground(NOTE, TRANSCRIPT)
    sailing = _by_text(report)["He enjoys sailing on weekends."]
    assert sailing.support == []  # type: ignore[attr-defined]
    assert sailing in report.unsupported


def test_offsets_point_into_the_note_and_the_transcript() -> None:
    report = ground(NOTE, TRANSCRIPT)
    for sentence in report.sentences:
        assert NOTE[sentence.start : sentence.end] == sentence.text
        for span in sentence.support:
            assert 0 <= span.start < span.end <= len(TRANSCRIPT)
            assert "[doctor]" not in TRANSCRIPT[span.start : span.end]
        for flag in sentence.flags:
            assert NOTE[flag.start : flag.end] == flag.text
            assert sentence.start <= flag.start < flag.end <= sentence.end


def test_as_dict_is_the_json_of_the_command_line() -> None:
    data = ground(NOTE, TRANSCRIPT).as_dict()
    assert set(data) == {"sentences"}
    for sentence in data["sentences"]:
        assert set(sentence) == {"text", "start", "end", "support", "flags"}
        for span in sentence["support"]:
            assert set(span) == {"start", "end"}
        for flag in sentence["flags"]:
            assert set(flag) == {"kind", "text", "start", "end", "reason"}


def test_a_faithful_note_has_no_flags() -> None:
    report = ground(NOTE, TRANSCRIPT)
    assert report.flags == []


def test_a_faithful_note_of_the_sample_dictation_is_all_supported_and_unflagged() -> None:
    from app.core.paths import resource

    dictation = resource("sample", "dictation.txt").read_text(encoding="utf-8")
    note = (
        "SUBJECTIVE:\nMr. Tredgold presents with 3 days of productive cough and low-grade fever.\n"
        "Medications: metformin 500 mg BID, lisinopril 10 mg daily.\n\nOBJECTIVE:\n"
        "Temp 38.2 °C, HR 96, BP 140/90, SpO2 94% on room air.\nCrackles at the right lung base.\n\n"
        "ASSESSMENT:\nCommunity-acquired pneumonia.\n\nPLAN:\n- Amoxicillin 500 mg TID for 5 days.\n"
        "- Chest X-ray.\n- Follow up in 1 week.\n"
    )
    report = ground(note, dictation)
    assert report.flags == []
    assert report.unsupported == []
