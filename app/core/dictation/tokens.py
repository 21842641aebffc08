"""Recognised words split into tokens the dictation rules can reason about: the word, the punctuation around it, its
probability and the pauses around it (spoken commands are told from ordinary speech partly by pauses)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from app.core.asr.base import Word

LEADING = "\"'“‘¿¡([{"
TRAILING = "\"'”’.,!?:;)]}…"
SENTENCE_END = ".!?"

# "gift.5" (Whisper glued a spoken "point five" to the word before it) -> "gift" + ".5"
_GLUED_DECIMAL = re.compile(r"^([^\d\s.]+)(\.\d+)$")
# "50mg", "2.5ml" -> "50" + "mg" (only unit abbreviations: "15th" and "3rd" stay whole)
_GLUED_UNIT = re.compile(r"^(\d+(?:\.\d+)?)(mg|mcg|µg|μg|ug|g|gm|kg|ml|mls|l|mmol|meq|mmhg|cm|mm)$", re.IGNORECASE)


@dataclass(frozen=True)
class Token:
    core: str  # the word without surrounding punctuation; may hold a formatted value ("50 mg", "140/90")
    lead: str = ""
    trail: str = ""
    probability: float = 1.0
    start: float = 0.0
    end: float = 0.0
    pause_before: float = 0.0  # seconds of silence before this token (0 when unknown)
    pause_after: float = 0.0
    formatted: bool = False  # produced by a formatting rule: never parsed again

    @property
    def lower(self) -> str:
        return self.core.lower()

    @property
    def ends_sentence(self) -> bool:
        return any(c in SENTENCE_END for c in self.trail)

    def with_core(self, core: str) -> Token:
        return replace(self, core=core)


def _split_punctuation(text: str) -> tuple[str, str, str]:
    lead_end = 0
    while lead_end < len(text) and text[lead_end] in LEADING:
        lead_end += 1
    trail_start = len(text)
    while trail_start > lead_end and text[trail_start - 1] in TRAILING:
        trail_start -= 1
    core = text[lead_end:trail_start]
    # A decimal point belongs to the number (".5"), an abbreviation's dot stays with it ("e.g").
    return text[:lead_end], core, text[trail_start:]


def _pieces(text: str) -> list[str]:
    lead, core, trail = _split_punctuation(text)
    glued = _GLUED_DECIMAL.match(core)
    if glued:
        return [lead + glued.group(1), glued.group(2) + trail]
    glued = _GLUED_UNIT.match(core)
    if glued:
        return [lead + glued.group(1), glued.group(2) + trail]
    return [text]


def _glued(words: Sequence[Word]) -> list[Word]:
    """Join word pieces Whisper emits without a leading space ("42" + "-line", "15" + "th") into one word."""
    out: list[Word] = []
    for word in words:
        if out and word.text and not word.text[0].isspace():
            last = out[-1]
            out[-1] = Word(last.text + word.text, last.start, word.end, min(last.probability, word.probability))
        else:
            out.append(word)
    return out


def tokenize(words: Sequence[Word]) -> list[Token]:
    """Tokens from recognised words, keeping probabilities and the pauses between words."""
    tokens: list[Token] = []
    previous_end: float | None = None
    for word in _glued(words):
        parts = [p for piece in word.text.split() for p in _pieces(piece)]
        for index, part in enumerate(parts):
            lead, core, trail = _split_punctuation(part)
            if not core:
                # Bare punctuation ("-", "..."): attach it to the previous token.
                if tokens:
                    tokens[-1] = replace(tokens[-1], trail=tokens[-1].trail + lead + trail)
                continue
            pause = 0.0
            if index == 0 and previous_end is not None:
                pause = max(0.0, word.start - previous_end)
                if tokens:
                    tokens[-1] = replace(tokens[-1], pause_after=pause)
            tokens.append(Token(core, lead, trail, word.probability, word.start, word.end, pause))
        previous_end = word.end
    return tokens


def words_from_text(text: str, probability: float = 1.0) -> list[Word]:
    """Words for a segment recognised without word timestamps: every word gets the segment's probability."""
    return [Word(" " + part, 0.0, 0.0, probability) for part in text.split()]


def spoken_at(tokens: Sequence[Token], i: int, spoken: tuple[str, ...]) -> bool:
    """True when the words `spoken` (lower case) are said at token i in one breath: unformatted, and with no
    punctuation between them (a comma inside "new, line" means two thoughts, not a command or a unit)."""
    window = tokens[i : i + len(spoken)]
    return (
        len(window) == len(spoken)
        and tuple(t.lower for t in window) == spoken
        and not any(t.formatted for t in window)
        and not any(t.trail for t in window[:-1])
    )


def merge(tokens: Sequence[Token], core: str) -> Token:
    """One formatted token standing for several spoken ones; it is as doubtful as its least certain part."""
    first, last = tokens[0], tokens[-1]
    return Token(
        core=core,
        lead=first.lead,
        trail=last.trail,
        probability=min(t.probability for t in tokens),
        start=first.start,
        end=last.end,
        pause_before=first.pause_before,
        pause_after=last.pause_after,
        formatted=True,
    )
