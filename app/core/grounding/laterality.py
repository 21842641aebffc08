"""Laterality check: a "left" or "right" in the note must be the side the consultation gives the same thing.

A side is compared by what it is the side of: the body part beside it ("left ankle", "right-sided"), or else the
words around it ("4/5 on the right"). Among the consultation's mentions of a side, those that share the most of
those words say which side was meant; when none does, a consultation that only ever names one side still
contradicts a note that names the other. "All right", "right now" and "left the room" are not sides: a side needs a
body part near it, or "the"/"your"/"on" before it.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.grounding.evidence import Evidence, NoteSentence
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


def side_of(term: Term) -> frozenset[str] | None:
    """The sides a word names ("bilateral": both; "right-sided": right), or None."""
    return _SIDES.get(term.word.split("-")[0])


@dataclass(frozen=True, slots=True)
class SideMention:
    sentence: int
    sides: frozenset[str]
    parts: frozenset[str]  # norms of the body parts beside it
    words: frozenset[str]  # norms of the other content words beside it


def _mention(text: Text, index: int, evidence: Evidence) -> SideMention | None:
    """The side named at terms[index] with what it is the side of, or None when the word is no side there."""
    term = text.terms[index]
    sides = side_of(term)
    if sides is None:
        return None
    first, last = text.ranges[term.sentence]
    near = text.terms[max(first, index - REACH) : min(last, index + REACH + 1)]
    parts, words = set(), set()
    for other in near:
        if other is term or side_of(other) is not None:
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
    return SideMention(term.sentence, sides, frozenset(parts), frozenset(words))


def side_mentions(evidence: Evidence) -> list[SideMention]:
    """Every side of the body the consultation names (found once per check)."""
    transcript = evidence.transcript
    found = []
    for index in range(len(transcript.terms)):
        mention = _mention(transcript, index, evidence)
        if mention is not None:
            found.append(mention)
    return found


def _said_sides(written: SideMention, mentions: list[SideMention]) -> frozenset[str]:
    """The sides of the consultation's mentions that share the most with the note's."""
    best, sides = 0, frozenset[str]()
    for mention in mentions:
        score = _PART_WEIGHT * len(written.parts & mention.parts) + len(written.words & mention.words)
        if score > best:
            best, sides = score, mention.sides
        elif score == best and score:
            sides = sides | mention.sides
    return sides


def _name(sides: frozenset[str]) -> str:
    return "both sides" if sides == _BOTH else next(iter(sides))


def check_laterality(sentence: NoteSentence, evidence: Evidence, mentions: list[SideMention]) -> list[Flag]:
    flags = []
    every_side = frozenset().union(*(m.sides for m in mentions))
    for offset, term in enumerate(sentence.terms):
        written = _mention(sentence.note, sentence.first + offset, evidence)
        if written is None:
            continue
        said = _said_sides(written, mentions)
        if not said and len(every_side) == 1:
            said = every_side  # the consultation only ever speaks of one side
        if not said or written.sides & said:
            continue  # "bilateral" where only the left was examined aloud is incomplete, not contradicted
        reason = f"{sentence.note.text[term.start:term.end]}: the consultation says {_name(said)}"
        flags.append(sentence.flag("laterality", term.start, term.end, reason))
    return flags
