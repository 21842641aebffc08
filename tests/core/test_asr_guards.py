"""Hallucination guards (asr/guards.py), the hint vocabulary (asr/vocabulary.py) and WER normalisation (asr/wer.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.asr.base import Segment, Word
from app.core.asr.guards import (
    GuardThresholds,
    compression_ratio,
    drop_reason,
    guard_segment,
    remove_prompt_echo,
    split_sentences,
    trim_loop,
)
from app.core.asr.vocabulary import Vocabulary, load_vocabulary, read_terms
from app.core.asr.wer import normalise, word_error_rate
from app.core.config import AsrSettings
from app.core.errors import ConfigError

LIMITS = GuardThresholds()
VOCABULARY = Vocabulary(
    ("amlodipine", "atorvastatin", "metformin", "lisinopril", "levothyroxine", "atrial fibrillation")
)


def segment(text: str, probability: float = 0.9, **stats: float) -> Segment:
    words = tuple(Word(" " + w, i * 0.5, i * 0.5 + 0.4, probability) for i, w in enumerate(text.split()))
    base = {"no_speech_prob": 0.01, "avg_logprob": -0.2, "compression_ratio": compression_ratio(text)}
    base.update(stats)
    return Segment(0.0, len(words) * 0.5, " " + text, 0.8, words, **base)


def test_each_guard_drops_what_it_is_for() -> None:
    assert drop_reason(segment("Take amlodipine daily."), LIMITS) is None
    assert drop_reason(segment("..."), LIMITS) == "empty"
    assert drop_reason(segment("you", no_speech_prob=0.9), LIMITS) == "no_speech"
    assert drop_reason(segment("I'm going to use the air conditioner.", no_speech_prob=0.81), LIMITS) == "no_speech"
    assert drop_reason(segment("and the pomegranate", avg_logprob=-2.05), LIMITS) == "low_logprob"
    assert drop_reason(segment("I'm not sure what's going on", probability=0.1), LIMITS) == "improbable"
    assert drop_reason(segment("ointment, " * 30), LIMITS) == "repetition"


def test_a_loop_at_the_end_is_cut_back_and_the_speech_before_it_kept() -> None:
    looped = segment("Continue metformin twice daily " + "ointment, " * 20)
    kept, reason = guard_segment(looped, Vocabulary(), LIMITS)
    assert reason is None and kept is not None
    assert kept.text.strip() == "Continue metformin twice daily ointment,"
    assert trim_loop(segment("one two three")).text == " one two three"


def test_a_read_back_hint_list_is_removed_but_a_dictated_drug_is_kept() -> None:
    echoed = segment("Patient stable. Amlodipine, atorvastatin, metformin, lisinopril.")
    cleaned = remove_prompt_echo(echoed, VOCABULARY, LIMITS)
    assert cleaned is not None and cleaned.text == " Patient stable."
    dictated = segment("Start metformin and amlodipine today.")
    assert remove_prompt_echo(dictated, VOCABULARY, LIMITS) == dictated


def test_a_segment_of_only_hint_terms_goes_when_the_model_doubted_speech() -> None:
    assert remove_prompt_echo(segment("Metformin.", no_speech_prob=0.4), VOCABULARY, LIMITS) is None
    assert remove_prompt_echo(segment("Metformin.", probability=0.3), VOCABULARY, LIMITS) is None
    confident = segment("Metformin.")
    assert remove_prompt_echo(confident, VOCABULARY, LIMITS) == confident


def test_with_vad_evidence_hint_terms_in_silence_go_and_other_words_stay() -> None:
    # Speech from 0 to 1.2 s only: "metformin" at 1.5-1.9 s was never spoken.
    def evidence(start: float, end: float) -> float:
        return 0.9 if start < 1.2 else 0.1

    heard = segment("Patient stable today metformin")
    cleaned = remove_prompt_echo(heard, VOCABULARY, LIMITS, evidence)
    assert cleaned is not None and cleaned.text == " Patient stable today"
    _, reason = guard_segment(segment("metformin"), VOCABULARY, LIMITS)
    assert reason is None  # without evidence, one confident term is believed
    assert remove_prompt_echo(segment("metformin"), VOCABULARY, LIMITS, lambda s, e: 0.0) is None


def test_long_clips_are_split_into_sentences() -> None:
    parts = split_sentences(segment("Chest clear. Heart sounds normal. Plan review"))
    assert [p.text for p in parts] == [" Chest clear.", " Heart sounds normal.", " Plan review"]
    assert parts[1].start == pytest.approx(1.0) and parts[1].end == pytest.approx(2.4)


def test_vocabulary_order_dedupe_cap_and_prompt_style(tmp_path: Path) -> None:
    terms_file = tmp_path / "terms.txt"
    terms_file.write_text("# comment\n\nmetformin\nramipril\n  apixaban  \nRamipril\n", encoding="utf-8")
    assert read_terms(terms_file) == ["metformin", "ramipril", "apixaban", "Ramipril"]
    asr = AsrSettings(vocabulary=["Lasix", "metformin"], prompt_max_terms=3)
    vocabulary = load_vocabulary(asr, terms_file)
    assert vocabulary.terms == ("Lasix", "metformin", "ramipril")
    assert vocabulary.prompt == "Lasix, metformin, ramipril."
    assert "METFORMIN," in vocabulary and "apixaban" not in vocabulary
    assert load_vocabulary(AsrSettings(use_vocabulary_file=False)).terms == ()


def test_the_shipped_vocabulary_loads_and_an_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    shipped = load_vocabulary(AsrSettings())
    assert len(shipped.terms) == AsrSettings().prompt_max_terms
    assert shipped.prompt.startswith("Amlodipine, ") and shipped.prompt.endswith(".")
    binary = tmp_path / "terms.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError):
        read_terms(binary)
    assert read_terms(tmp_path / "missing.txt") == []


@pytest.mark.parametrize(
    ("reference", "hypothesis", "rate"),
    [
        ("one two three", "1, 2, 3.", 0.0),
        ('or "forty-two line Bible" of about 1455,', "or 42-line Bible, of about fourteen fifty-five.", 0.0),
        ("in the middle of the fifteenth century", "In the middle of the 15th century", 0.0),
        ("a b c d", "a x c", 0.5),
    ],
)
def test_wer_after_normalisation(reference: str, hypothesis: str, rate: float) -> None:
    assert word_error_rate(reference, hypothesis) == pytest.approx(rate)
    assert normalise("It's OK!") == ["it's", "ok"]
