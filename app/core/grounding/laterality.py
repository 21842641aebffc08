"""Laterality check: a "left" or "right" in the note must be the side the consultation gives the same thing.

A side is compared by what it is the side of: the body part beside it ("left ankle", "right-sided"), or else the
words and readings around it ("4/5 on the right" is "the right is four out of five"). Among the consultation's
mentions of a side, those that share the most of those words say which side was meant, a word counting for more
the fewer of those mentions have it ("sharp" says more than "face" where every side named is one of the face); when
none does, a consultation that only ever names one side still contradicts a note that names the other. "All
right", "right now" and "left the room" are not sides: a side needs a body part near it, or "the"/"your"/"on"
before it. A side the note denies ("no left-sided pain") agrees with the consultation denying it too. A side where
the consultation names none at all is flagged as not said.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Set
from dataclasses import dataclass

from app.core.grounding.evidence import Evidence, NoteSentence
from app.core.grounding.quantities import Quantity
from app.core.grounding.report import Flag
from app.core.grounding.terms import Term, Text

_BOTH = frozenset({"left", "right"})
_SIDES = {"left": frozenset({"left"}), "right": frozenset({"right"}), "bilateral": _BOTH, "bilaterally": _BOTH,
          "both": _BOTH}
REACH = 4  # words either side of a side word that say what it is the side of ("right side of my face")
_BEFORE_A_SIDE = {"the", "your", "my", "his", "her", "their", "on", "to", "at", "of"}
_NOT_A_SIDE_AFTER = {"now", "away", "here", "there", "thing", "way", "time", "one", "dose", "dosing", "choice",
                     "answer", "track", "place", "amount", "medication", "medicine", "person", "size", "spot", "after",
                     "before", "back", "over", "off", "home", "work", "office", "hospital", "room"}
_PART_WEIGHT = 2  # a shared body part says more than a shared word
_CLAUSE_END = {",", ";"}
_JOINS = {"and", "or", "but", "while", "whereas"}


def side_of(term: Term) -> frozenset[str] | None:
    """The sides a word names ("bilateral": both; "right-sided": right), or None."""
    return _SIDES.get(term.word.split("-")[0])


@dataclass(frozen=True, slots=True)
class SideMention:
    sentence: int
    sides: frozenset[str]
    parts: frozenset[str]  # norms of the body parts beside it
    words: frozenset[str]  # norms of the other content words beside it
    negated: bool = False  # said absent: "not on the left side"


def readings(found: list[Quantity]) -> dict[int, Quantity]:
    """The readings of a text that say what a side is of ("4/5"), by the index of each of their terms."""
    return {k: q for q in found if q.key for k in range(q.first, q.last + 1)}


def _clause_near(text: Text, index: int, first: int, last: int) -> list[Term]:
    """The terms within reach of terms[index] on both sides, up to a comma or a semicolon ("the right side of my face
    feels dull, on my left side it feels cold": the left is not the dull one)."""
    near = []
    k = index - 1
    while k >= max(first, index - REACH) and not _CLAUSE_END & set(text.terms[k].punct):
        near.append(text.terms[k])
        k -= 1
    k = index + 1
    while k < min(last, index + REACH + 1) and not _CLAUSE_END & set(text.terms[k - 1].punct):
        near.append(text.terms[k])
        k += 1
    return near


def _readings_near(text: Text, index: int, first: int, last: int, by_term: dict[int, Quantity]) -> set[str]:
    """The readings within reach of a side and in its clause: one past a comma is about something else ("the right
    is 4 out of 5, the left is 3 out of 5"). One before it must be whole within reach."""
    out = set()
    k = index - 1
    while k >= max(first, index - REACH) and "," not in text.terms[k].punct:
        quantity = by_term.get(k)
        if quantity is not None and quantity.first >= index - REACH:
            out.add("=" + quantity.key)
        k -= 1
    k = index + 1
    while k < min(last, index + REACH + 1) and "," not in text.terms[k - 1].punct:
        if text.terms[k].word in _JOINS:
            break  # "4/5 on the right and 3/5 on the left": what follows "and" is the next item's
        quantity = by_term.get(k)
        if quantity is not None:
            out.add("=" + quantity.key)
        k += 1
    return out


def _mention(text: Text, index: int, evidence: Evidence, by_term: dict[int, Quantity]) -> SideMention | None:
    """The side named at terms[index] with what it is the side of, or None when the word is no side there."""
    term = text.terms[index]
    sides = side_of(term)
    if sides is None:
        return None
    first, last = text.ranges[term.sentence]
    parts, words = set(), _readings_near(text, index, first, last, by_term)
    for other in _clause_near(text, index, first, last):
        if side_of(other) is not None:
            continue
        words_of = tuple(other.word.split())
        singular = tuple(w[:-1] if w.endswith("s") else w for w in words_of)
        if words_of in evidence.lexicon.body_parts or singular in evidence.lexicon.body_parts:
            parts.add(other.norm)
        elif other.content and not other.num:  # numbers are too common to say what a side is of
            words.add(other.norm)
    if "-" in term.word:  # "right-sided"
        parts.add("sid")
    before = text.terms[index - 1].word if index > first else ""
    after = text.terms[index + 1].word if index + 1 < last else ""
    if after in _NOT_A_SIDE_AFTER or (not parts and (before not in _BEFORE_A_SIDE or term.word == "both")):
        return None
    negated = text is evidence.transcript and evidence.polarity[index] == "neg"
    return SideMention(term.sentence, sides, frozenset(parts), frozenset(words), negated)


@dataclass(frozen=True)
class Sides:
    """The sides of the body a consultation names, and how much each word beside them tells them apart."""

    mentions: list[SideMention]
    weights: dict[str, float]  # norm -> log inverse of the share of mentions that have it

    def weight(self, norm: str) -> float:
        return self.weights.get(norm, 0.0)


def side_mentions(evidence: Evidence) -> Sides:
    """Every side of the body the consultation names (found once per check)."""
    transcript = evidence.transcript
    by_term = readings(evidence.quantities)
    found = []
    for index in range(len(transcript.terms)):
        mention = _mention(transcript, index, evidence, by_term)
        if mention is not None:
            found.append(mention)
    counts = Counter(word for m in found for word in m.parts | m.words)
    weights = {word: math.log((len(found) + 1) / (count + 0.5)) for word, count in counts.items()}
    return Sides(found, weights)


def _said_sides(written: SideMention, sides_said: Sides) -> frozenset[str]:
    """The sides of the consultation's mentions that share the most with the note's, each shared word weighted by
    how few mentions have it."""
    weight = sides_said.weight
    best, sides = 0.0, frozenset[str]()
    for mention in sides_said.mentions:
        score = _PART_WEIGHT * sum(weight(p) for p in written.parts & mention.parts) + sum(
            weight(w) for w in written.words & mention.words)
        if score > best + 1e-9:
            best, sides = score, mention.sides
        elif score and abs(score - best) <= 1e-9:
            sides = sides | mention.sides
    return sides


def _denied_too(written: SideMention, sides_said: Sides) -> bool:
    """Whether the consultation says the same side absent about something the note's mention shares ("not on the
    left side" for "denies left-sided pain")."""
    return any(m.negated and m.sides == written.sides and (m.parts & written.parts or m.words & written.words)
               for m in sides_said.mentions)


def _name(sides: frozenset[str]) -> str:
    return "both sides" if sides == _BOTH else next(iter(sides))


def check_laterality(sentence: NoteSentence, evidence: Evidence, sides_said: Sides,
                     note_readings: dict[int, Quantity], negated: Set[int] = frozenset()) -> list[Flag]:
    """Flags for the sides a note sentence names; `note_readings` is `readings` of the note's quantities. A side in
    `negated` (note terms inside a negation: "denies left-sided pain") agrees with the consultation saying the same
    side absent about the same thing ("not on the left side")."""
    flags = []
    every_side = frozenset().union(*(m.sides for m in sides_said.mentions))
    for offset, term in enumerate(sentence.terms):
        written = _mention(sentence.note, sentence.first + offset, evidence, note_readings)
        if written is None:
            continue
        if sentence.first + offset in negated and _denied_too(written, sides_said):
            continue  # that the pain is on the right does not contradict its denial on the left
        if not sides_said.mentions and written.sides != _BOTH:
            # a side where the consultation names none at all is a fact not said ("my arm hurts right here")
            reason = f"{sentence.note.text[term.start:term.end]}: the consultation names no side"
            flags.append(sentence.flag("laterality", term.start, term.end, reason))
            continue
        said = _said_sides(written, sides_said)
        if not said and len(every_side) == 1:
            said = every_side  # the consultation only ever speaks of one side
        if not said or written.sides & said:
            continue  # "bilateral" where only the left was examined aloud is incomplete, not contradicted
        reason = f"{sentence.note.text[term.start:term.end]}: the consultation says {_name(said)}"
        flags.append(sentence.flag("laterality", term.start, term.end, reason))
    return flags
