"""Guards against invented text. Whisper writes fluent sentences into silence and noise, and repeats its hint list.

The first line of defence is voice-activity detection (silence never reaches the model) and decoding each chunk
without the previous text as context (one invented sentence cannot seed the next). What still gets through is
judged here, per segment, from the model's own numbers:

- no speech: the model's no-speech probability is above the threshold. Whisper itself keeps such a segment when
  its log-probability is high, because a 30 s window may open on silence and still hold speech; our windows start
  where the VAD heard speech, so that rescue mostly rescues confident inventions ("I'm going to use the air
  conditioner." over white noise scored no-speech 0.81 with log-probability -0.27).
- repetition: the text compresses too well (gzip ratio), the signature of a decoding loop ("ointment, ointment, …").
  A loop that takes over the end of a passage is first cut back to its first occurrence, so the speech before it
  is kept; only a passage that still compresses too well is dropped.
- low log-probability: the model was unsure of most of it.
- improbable words: the words' mean probability is very low (inventions over noise score 0.05-0.2; speech 0.6+).
- prompt echo: vocabulary terms in a stretch without speech (see `remove_prompt_echo`).

Every drop is counted by guard name so the UI can say "1 unclear passage left out" rather than lose words silently.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace

from app.core.asr.base import Segment, Word
from app.core.asr.vocabulary import Vocabulary, normalise_word

# Returns the highest voice-activity probability heard between two times (seconds), 0..1.
SpeechEvidence = Callable[[float, float], float]

# A run of this many hint terms, adjacent in the hint list, is the list read back, not dictation (a doctor naming four
# drugs in exactly the list's order is far less likely than Whisper copying its prompt).
ECHO_RUN = 4
IMPROBABLE = 0.25  # mean word probability under which a passage is taken for an invention
LOOP_MIN_REPEATS = 3  # a phrase said this many times in a row at the end of a passage is a decoding loop
LOOP_MAX_WORDS = 10
SENTENCE_GAP_S = 1.0  # a pause this long between words starts a new segment


@dataclass(frozen=True)
class GuardThresholds:
    no_speech: float = 0.6
    log_prob: float = -1.0
    compression_ratio: float = 2.4
    speech: float = 0.5  # VAD probability that counts as speech (echo guard with evidence)


def compression_ratio(text: str) -> float:
    """Whisper's repetition measure: bytes over gzip-compressed bytes."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def _words_text(words: list[Word] | tuple[Word, ...]) -> str:
    return "".join(w.text for w in words).strip()


def _with_words(segment: Segment, words: list[Word] | tuple[Word, ...]) -> Segment:
    text = " " + _words_text(words)
    return replace(
        segment, start=words[0].start, end=words[-1].end, text=text, words=tuple(words),
        compression_ratio=compression_ratio(text.strip()),
    )


def trim_loop(segment: Segment) -> Segment:
    """Cut a decoding loop at the end of the segment back to its first occurrence (needs word timestamps)."""
    words = segment.words
    keys = [normalise_word(w.text) for w in words]
    for size in range(1, LOOP_MAX_WORDS + 1):
        unit = keys[len(keys) - size :]
        if len(unit) < size or not all(unit):
            continue
        repeats, end = 1, len(keys) - size
        while end - size >= 0 and keys[end - size : end] == unit:
            repeats += 1
            end -= size
        if repeats >= LOOP_MIN_REPEATS:
            return _with_words(segment, words[: end + size])
    return segment


def drop_reason(segment: Segment, limits: GuardThresholds) -> str | None:
    """The name of the guard that rejects this segment, or None to keep it."""
    if not normalise_word(segment.text):
        return "empty"
    if segment.compression_ratio > limits.compression_ratio:
        return "repetition"
    if segment.no_speech_prob > limits.no_speech:
        return "no_speech"
    if segment.avg_logprob < limits.log_prob:
        return "low_logprob"
    if segment.words and sum(w.probability for w in segment.words) / len(segment.words) < IMPROBABLE:
        return "improbable"
    return None


def split_sentences(segment: Segment) -> list[Segment]:
    """One segment per sentence (or per stretch between long pauses): a 30 s clip is too coarse to show or edit."""
    words = segment.words
    if len(words) < 2:
        return [segment]
    pieces: list[Segment] = []
    first = 0
    for i in range(len(words) - 1):
        ends_sentence = words[i].text.rstrip()[-1:] in ".?!"
        if ends_sentence or words[i + 1].start - words[i].end >= SENTENCE_GAP_S:
            pieces.append(_with_words(segment, words[first : i + 1]))
            first = i + 1
    pieces.append(_with_words(segment, words[first:]))
    return pieces


def _echo_indexes(words: tuple[Word, ...], vocabulary: Vocabulary) -> set[int]:
    """Indexes of words that are part of a run of ECHO_RUN terms adjacent in the hint list, in either direction."""
    ranks = [vocabulary.rank(w.text) for w in words]
    echo: set[int] = set()
    start = 0
    while start < len(words):
        end = start + 1
        while (
            end < len(words)
            and ranks[end] is not None
            and ranks[end - 1] is not None
            and abs(ranks[end] - ranks[end - 1]) <= 1  # type: ignore[operator]
        ):
            end += 1
        distinct_terms = {ranks[i] for i in range(start, end)}
        if ranks[start] is not None and len(distinct_terms) >= ECHO_RUN:
            echo.update(range(start, end))
        start = end
    return echo


def remove_prompt_echo(
    segment: Segment,
    vocabulary: Vocabulary,
    limits: GuardThresholds,
    speech_evidence: SpeechEvidence | None = None,
) -> Segment | None:
    """Remove hint terms the model wrote where nobody spoke them. None when nothing is left.

    A hint term goes when (a) the VAD heard no speech under it (live dictation, where the VAD probabilities are at
    hand), or (b) it belongs to a run of terms in hint-list order, or (c) the segment holds nothing but hint terms
    and the model itself doubted there was speech (no-speech probability above half the threshold, or the words'
    mean probability under one half). Ordinary words are never removed here.
    """
    if not vocabulary.terms or not segment.words:
        return segment
    words = segment.words
    is_term = [w.text.strip() != "" and w.text in vocabulary for w in words]
    if not any(is_term):
        return segment
    echo = _echo_indexes(words, vocabulary)
    if speech_evidence is not None:
        for i, w in enumerate(words):
            if is_term[i] and speech_evidence(w.start, w.end) < limits.speech:
                echo.add(i)
    content = [i for i, w in enumerate(words) if normalise_word(w.text)]
    if content and all(is_term[i] for i in content):
        mean_probability = sum(words[i].probability for i in content) / len(content)
        if segment.no_speech_prob > limits.no_speech / 2 or mean_probability < 0.5:
            echo.update(content)
    if not echo:
        return segment
    kept = [w for i, w in enumerate(words) if i not in echo]
    if not normalise_word(_words_text(kept)):
        return None
    return _with_words(segment, kept)


def guard_segment(
    segment: Segment,
    vocabulary: Vocabulary,
    limits: GuardThresholds,
    speech_evidence: SpeechEvidence | None = None,
) -> tuple[Segment | None, str | None]:
    """Apply every guard: (the segment to keep or None, the name of the guard that dropped it)."""
    if segment.compression_ratio > limits.compression_ratio and segment.words:
        segment = trim_loop(segment)
    reason = drop_reason(segment, limits)
    if reason is not None:
        return None, reason
    kept = remove_prompt_echo(segment, vocabulary, limits, speech_evidence)
    if kept is None:
        return None, "prompt_echo"
    return kept, None
