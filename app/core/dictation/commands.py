"""Spoken dictation commands, told apart from the same words in ordinary speech.

"new paragraph", "new line", "full stop" / "period", "comma", "scratch that". The words also occur in clinical
speech ("the period of illness", "a new line of treatment", "he tends to scratch that area"), so each command has a
context rule. The evidence used: the word before it (an article or a modifier makes it a noun), what follows it
(a command ends a thought: end of the utterance, punctuation Whisper put after it, a capitalised new sentence, or a
pause), and pauses measured from word timestamps.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from app.core.dictation.tokens import Token, spoken_at


class Command(enum.Enum):
    NEW_PARAGRAPH = "new paragraph"
    NEW_LINE = "new line"
    FULL_STOP = "full stop"
    COMMA = "comma"
    SCRATCH_THAT = "scratch that"


SPOKEN: dict[tuple[str, ...], Command] = {
    ("new", "paragraph"): Command.NEW_PARAGRAPH,
    ("new", "line"): Command.NEW_LINE,
    ("full", "stop"): Command.FULL_STOP,
    ("period",): Command.FULL_STOP,
    ("comma",): Command.COMMA,
    ("scratch", "that"): Command.SCRATCH_THAT,
}

PAUSE_S = 0.3  # a pause this long around a word sets it apart as a command
# Before a command word these make it part of a noun phrase: "a new line", "the period", "this comma".
DETERMINERS = {
    "a", "an", "the", "this", "that", "these", "those", "each", "every", "any", "no", "of", "his", "her", "their",
    "my", "your", "our", "its", "per", "same", "whole", "entire", "first", "second", "last", "next", "another",
}
# "menstrual period", "two-week period": a modifier makes "period" a noun.
PERIOD_MODIFIERS = {
    "menstrual", "postoperative", "post-operative", "perioperative", "postpartum", "neonatal", "incubation",
    "refractory", "trial", "waiting", "grace", "washout", "observation", "follow-up", "recovery", "short", "long",
    "brief", "extended", "prolonged", "initial", "study", "time", "treatment", "symptom-free", "asymptomatic",
    "latent", "window", "missed", "heavy", "light", "irregular", "painful", "late",
}
# "to scratch that", "you scratch that": the verb, not the command.
SCRATCH_BLOCKERS = {
    "to", "not", "don't", "didn't", "never", "can", "can't", "could", "would", "will", "did", "does", "do", "you",
    "i", "he", "she", "they", "we", "it", "may", "might", "should", "must",
}
NOUN_CONTINUATIONS = {"of", "for", "to", "in", "on", "with"}  # "a new line of treatment"


def _match(tokens: Sequence[Token], i: int) -> tuple[Command, int] | None:
    for spoken, command in SPOKEN.items():
        if spoken_at(tokens, i, spoken):
            return command, len(spoken)
    return None


def _boundary_before(tokens: Sequence[Token], i: int) -> bool:
    return i == 0 or bool(tokens[i - 1].trail) or tokens[i].pause_before >= PAUSE_S


def _boundary_after(tokens: Sequence[Token], end: int) -> bool:
    last = tokens[end - 1]
    if end >= len(tokens) or last.trail or last.pause_after >= PAUSE_S:
        return True
    following = tokens[end]
    starts_sentence = following.core[:1].isupper() and following.core != "I"
    return starts_sentence or _match(tokens, end) is not None


def _modified_noun(previous: Token) -> bool:
    if previous.formatted:  # a value ("140/90", "50 mg") ends a statement; it does not describe a period
        return False
    word = previous.lower
    if word in DETERMINERS or word in PERIOD_MODIFIERS:
        return True
    # "two-week period", "6-month period", "3 day period"
    return any(c.isdigit() for c in word) or word.endswith(("-week", "-day", "-month", "-year", "-hour"))


def find_command(tokens: Sequence[Token], i: int) -> tuple[Command, int] | None:
    """The command spoken at token i, if the context says it is one: (command, tokens used)."""
    matched = _match(tokens, i)
    if matched is None:
        return None
    command, used = matched
    end = i + used
    before = _boundary_before(tokens, i)
    previous = tokens[i - 1].lower if i > 0 else ""
    after = _boundary_after(tokens, end)
    if command in (Command.NEW_PARAGRAPH, Command.NEW_LINE):
        if previous in DETERMINERS and not before:
            return None
        if not after and tokens[end].lower in NOUN_CONTINUATIONS:
            return None
        return matched
    if command is Command.COMMA:
        return None if previous in DETERMINERS and not before else matched
    if command is Command.SCRATCH_THAT:
        if not after or (previous in SCRATCH_BLOCKERS and not before):
            return None
        return matched
    # Full stop: "period" must end a thought and not be a noun; "full stop" only fails after "a"/"the"/"to".
    if used == 1:
        if not after or (not before and i > 0 and _modified_noun(tokens[i - 1])):
            return None
        return matched
    return None if previous in ("a", "the", "to") and not before else matched
