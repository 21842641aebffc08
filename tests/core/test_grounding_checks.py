"""Grounding, the finer rules of each check: negation scopes and cues on both sides (glosses, questions asked but
not answered, open questions, clauses a negation does not reach), sides compared by readings and by the words that
tell them apart, spoken numbers with hesitations, types, durations that point back or ahead, and the words that
speech recognition cuts or joins. Dialogues written for these tests (not from the benchmark). No Qt, no model."""

from __future__ import annotations

from app.core.grounding import Flag, ground
from app.core.grounding.lexicon import lexicon
from app.core.grounding.negation import scopes
from app.core.grounding.sentences import note_sentences, transcript_sentences
from app.core.grounding.terms import analyse, stem


def _flags(note: str, transcript: str, sources: tuple[str, ...] = ()) -> list[Flag]:
    report = ground(note, transcript, sources)
    for flag in report.flags:
        assert note[flag.start : flag.end] == flag.text
    return report.flags


def _kinds(note: str, transcript: str) -> list[str]:
    return [f.kind for f in _flags(note, transcript)]


# --- negation -------------------------------------------------------------------------------------------------------

def test_a_gloss_is_said_the_way_the_word_it_explains_is() -> None:
    dialogue = ("[doctor] looking at your shin there is no erythema , which means redness , and the skin is warm .\n"
                "[patient] okay .\n")
    assert _flags("Shin: no redness, skin warm.", dialogue) == []
    flag = _flags("Shin: redness, skin warm.", dialogue)
    assert [f.kind for f in flag] == ["negation"]
    assert flag[0].reason == "redness: the consultation says no redness"


def test_words_asked_about_before_the_question_the_reply_answers_are_not_said() -> None:
    dialogue = ("[doctor] is it a low fat diet , i mean are you on the paleo diet or anything ?\n"
                "[patient] no .\n")
    # "a low fat diet" was asked, never said: no reading of it as present
    assert _flags("Does not follow a low fat diet.", dialogue) == []
    assert _kinds("Follows a paleo diet.", dialogue) == ["negation"]


def test_the_reply_to_an_open_question_is_no_yes_or_no() -> None:
    dialogue = ("[doctor] what have your headaches been like since the new glasses ?\n"
                "[patient] not too bad , maybe one a week .\n")
    assert _flags("Reports headaches since new glasses.", dialogue) == []


def test_a_reply_that_opens_with_an_interjection_still_says_no() -> None:
    dialogue = "[doctor] did you buy the glucometer we talked about ?\n[patient] what ? no .\n"
    assert _kinds("Got the glucometer.", dialogue) == ["negation"]
    assert _flags("Did not get the glucometer.", dialogue) == []


def test_a_negation_does_not_reach_into_the_next_clause_or_past_a_time() -> None:
    dialogue = ("[doctor] you do n't need an operation for this . the physiotherapy will help you .\n"
                "[patient] i had the steroid injection last week and it was fine .\n")
    assert _flags("An operation is not needed and that physiotherapy will help.", dialogue) == []
    assert _flags("No pain since the steroid injection.", dialogue) == []


def test_a_list_item_that_says_something_of_its_own_ends_the_negation() -> None:
    dialogue = ("[doctor] your neck is fine , no swelling , your thyroid feels normal , your lungs are clear .\n"
                "[doctor] keep taking the amlodipine . any side effects from the metformin ?\n[patient] no .\n")
    assert _flags("Neck: no swelling, thyroid feels normal, lungs are clear.", dialogue) == []
    assert _flags("No side effects from the metformin or amlodipine.", dialogue) == []


def test_a_stop_word_right_after_a_cue_in_a_note_does_not_end_its_scope() -> None:
    words = lexicon()
    note = "Walks without some of the stiffness."
    text = analyse(note, note_sentences(note), words)
    (scope,) = scopes(text, 0, words.negation)
    assert "stiffness" in [t.word for t in text.terms[scope.first : scope.last]]


def test_where_a_finding_is_does_not_say_whether_it_is_there() -> None:
    dialogue = "[doctor] and your left eye ?\n[patient] my left eye , i do n't have any itching there at all .\n"
    assert _kinds("Left eye itching.", dialogue) == ["negation"]
    assert _flags("No itching of the left eye.", dialogue) == []


def test_a_word_of_place_is_part_of_the_finding() -> None:
    dialogue = ("[patient] my wrist is swollen and it hurts .\n"
                "[doctor] any pain above the wrist , in your forearm or elbow ?\n[patient] no , just the wrist .\n")
    assert _flags("Wrist pain and swelling; no pain above the wrist.", dialogue) == []
    assert _kinds("Wrist pain and swelling; pain above the wrist.", dialogue) == ["negation"]


def test_one_word_of_an_unsupported_sentence_is_looked_for_beside_its_other_words() -> None:
    dialogue = ("[doctor] so it is a sprain . i want you to rest it for a few days and take naproxen with food .\n"
                "[patient] will do .\n")
    flags = _flags("Treat conservatively without rest and naproxen.", dialogue)
    assert "negation" in [f.kind for f in flags]


def test_the_words_of_a_phrase_are_said_too() -> None:
    dialogue = "[doctor] there is pain to palpation over the medial elbow .\n"
    assert _kinds("Palpation of the medial elbow is not painful.", dialogue) == ["negation"]


def test_a_word_the_recogniser_cut_in_two_or_misspelt_is_still_found() -> None:
    dialogue = "[doctor] your belly is soft , no lymph adenopathy , and no erythmateous patches .\n"
    assert _kinds("Lymphadenopathy noted.", dialogue) == ["negation"]
    assert _kinds("Erythematous patches on the trunk.", dialogue) == ["negation"]
    assert _flags("No lymphadenopathy. No erythematous patches.", dialogue) == []


def test_a_cue_after_its_words_governs_them_and_the_flag_shows_it() -> None:
    dialogue = "[doctor] you will need stitches for this cut .\n"
    flags = _flags("Stitches are not needed for the cut.", dialogue)
    assert [(f.kind, f.text) for f in flags] == [("negation", "Stitches are not needed")]
    assert _flags("Stitches are needed for the cut.", dialogue) == []


def test_a_denied_side_is_not_contradicted_by_the_thing_said_without_a_side() -> None:
    dialogue = ("[doctor] what brings you in ?\n[patient] jaw pain , it is all on the right side .\n"
                "[doctor] any jaw pain on the left ?\n[patient] no .\n")
    assert _flags("Denies left-sided jaw pain.", dialogue) == []
    assert "negation" in _kinds("Denies right-sided jaw pain.", dialogue)


# --- laterality -----------------------------------------------------------------------------------------------------

HIPS = "[doctor] hip flexion strength , the left is four out of five , the right is five out of five .\n"


def test_a_side_is_told_apart_by_the_reading_beside_it() -> None:
    assert _flags("Hip flexion strength 4/5 on the left and 5/5 on the right.", HIPS) == []
    flags = _flags("Hip flexion strength 5/5 on the left and 4/5 on the right.", HIPS)
    assert [(f.kind, f.reason) for f in flags] == [("laterality", "left: the consultation says right"),
                                                    ("laterality", "right: the consultation says left")]


def test_the_words_that_tell_the_sides_apart_count_more_than_those_every_side_has() -> None:
    dialogue = ("[patient] it's the right side of my face , the right side of my face is where it burns .\n"
                "[doctor] and when i touch here ?\n"
                "[patient] the right side of my face feels dull , on my left side it feels cold .\n")
    assert _flags("Cold on the left side of the face; dull on the right side of the face.", dialogue) == []


def test_a_side_where_the_consultation_names_none_is_not_said() -> None:
    dialogue = "[patient] my wrist hurts right here when i bend it .\n"
    flags = _flags("Left wrist pain on flexion.", dialogue)
    assert [(f.kind, f.reason) for f in flags] == [("laterality", "Left: the consultation names no side")]
    assert _flags("Wrist pain on flexion, both sides examined: bilateral wrists normal.", dialogue) == []


def test_a_denied_side_agrees_with_the_consultation_denying_it() -> None:
    dialogue = "[patient] the ache is in the right hip , not in the left hip at all .\n"
    assert _flags("Denies left hip ache.", dialogue) == []
    assert _kinds("Left hip ache.", dialogue) == ["laterality"]


# --- numbers, types, durations --------------------------------------------------------------------------------------

def test_spoken_numbers_with_a_hundred_and_hesitations() -> None:
    dialogue = ("[doctor] your pressure was a hundred and thirty over uh seventy five and your pulse ninety .\n"
                "[doctor] take a thousand milligrams of paracetamol when needed .\n")
    assert _flags("BP 130/75. Paracetamol 1 g as needed.", dialogue) == []
    assert _kinds("BP 150/75.", dialogue) == ["number"]


def test_a_common_type_need_not_be_said_but_another_one_must() -> None:
    said_nothing = "[doctor] how is the diabetes going ?\n[patient] fine .\n"
    assert _flags("Type 2 diabetes, stable.", said_nothing) == []
    assert _flags("Type 1 diabetes, stable.", said_nothing)[0].reason == "1: not mentioned"
    said_one = "[doctor] how is the type one diabetes going ?\n[patient] fine .\n"
    assert _flags("Type 2 diabetes, stable.", said_one)[0].reason == "2: the consultation says type 1"


def test_a_number_labelled_by_a_word_must_be_the_one_said_after_that_word() -> None:
    dialogue = "[doctor] use a sunscreen , spf fifty , every day .\n"
    assert _flags("Sunscreen SPF 50 daily.", dialogue) == []
    assert _flags("Sunscreen SPF 15 daily.", dialogue)[0].reason == "15: the consultation says 50"


def test_the_patients_age_in_the_record_does_not_ground_a_count() -> None:
    dialogue = "[doctor] we will give you fifteen sachets .\n"
    assert _flags("Given 20 sachets.", dialogue, ("20-year-old woman",))[0].reason == "20: not mentioned"


def test_a_duration_ahead_is_not_one_back() -> None:
    dialogue = ("[patient] the cough started about three weeks ago .\n"
                "[doctor] okay , come back and see me in six weeks .\n")
    assert _flags("Cough for 3 weeks. Follow up in 6 weeks.", dialogue) == []
    flag = _flags("Cough for 3 weeks. Follow up in 3 weeks.", dialogue)
    assert [f.reason for f in flag] == ["3 weeks: the consultation says 6 weeks"]


def test_a_duration_beside_the_same_words_is_the_one_meant() -> None:
    dialogue = ("[patient] i had a rash two weeks ago .\n"
                "[doctor] i'll prescribe cephalexin , take it for ten days .\n")
    assert _flags("Cephalexin for 10 days.", dialogue) == []
    assert _flags("Cephalexin for 14 days.", dialogue)[0].reason == "14 days: the consultation says 10 days"


def test_a_frequency_said_as_two_numbers_and_one_never_said() -> None:
    dialogue = "[doctor] how often do you check your sugar ?\n[patient] three four times a week .\n"
    assert _flags("Checks blood sugar 3-4 times per week.", dialogue) == []
    assert _flags("Checks blood sugar 3-4 times per week. Walks 2 times per week.", dialogue)[0].text == (
        "2 times per week")


def test_things_counted_are_compared_like_units() -> None:
    dialogue = "[doctor] use the inhaler , one puff twice a day , and take two tablets at night .\n"
    assert _flags("Inhaler 1 puff twice daily; 2 tablets at night.", dialogue) == []
    assert _flags("Inhaler 2 puffs twice daily.", dialogue)[0].reason == "2 puffs: the consultation says 1 puff"


def test_days_of_a_week_are_a_frequency() -> None:
    dialogue = "[doctor] use the tretinoin cream a few nights a week at first .\n"
    assert _flags("Apply tretinoin cream a few nights a week.", dialogue) == []
    assert _flags("Apply tretinoin cream every night.", dialogue)[0].reason == (
        "every night: the consultation says 2-4 times weekly")


def test_under_a_year_of_age_is_an_age_but_not_the_patients() -> None:
    dialogue = "[doctor] do not give honey to children under a year of age .\n"
    assert _flags("No honey for children under 1 year old.", dialogue) == []
    assert _flags("1-year-old boy with a cough.", dialogue)[0].reason == "1-year-old: not mentioned"


# --- the words on both sides ----------------------------------------------------------------------------------------

def test_the_stemmer_meets_adjectives_nouns_and_adverbs() -> None:
    assert stem("severity") == stem("severe") == stem("severely")
    assert stem("weakness") == stem("weak")
    assert stem("abnormalities") == stem("abnormality") == stem("abnormal")
    assert stem("frequently") == stem("frequent")
    for short in ("daily", "family", "weekly", "illness", "city"):
        assert stem(short) == short or len(stem(short)) >= 4


def test_hyphenated_words_are_compared_word_by_word_except_negative_prefixes() -> None:
    words = lexicon()
    note = "Light-headed with skin-colored papules, non-tender."
    text = analyse(note, note_sentences(note), words)
    assert [t.word for t in text.terms] == ["light headed", "with", "skin", "colored", "papules", "non-tender"]
    assert text.terms[0].norm == "dizziness"


def test_a_long_run_of_speech_is_cut_where_a_clause_starts() -> None:
    said = ("[doctor] so we went over the scan together this morning with the radiologist and the scan of your "
            "lower back from the other hospital did n't show any disc bulging at all but i think the nerve is "
            "irritated anyway\n")
    pieces = [said[s.start : s.end] for s in transcript_sentences(said)]
    assert any("did n't show any disc bulging" in piece for piece in pieces), pieces
