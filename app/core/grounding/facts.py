"""Checks of the quantities in a note sentence: doses, readings, counts, durations, frequencies, ages and dates.

A value is grounded when the consultation says the same value near where the sentence comes from (its supporting
sentences and their neighbours), or anywhere next to a word that says what the value is about ("lisinopril" for
"20 mg"), or when an extra source says it. Otherwise it is flagged, with the value the consultation gives for the
same thing when there is one ("500 mg: the consultation says 250 mg") or "not mentioned".

A frequency the consultation never gives is not flagged: notes write "daily" for "a day" or for nothing said at all
often enough that only a conflicting frequency is worth the doctor's attention.
"""

from __future__ import annotations

from app.core.grounding.evidence import (
    Evidence,
    NoteSentence,
    anchor_distance,
    anchored,
    close_by,
    region_quantities,
    replies_to,
)
from app.core.grounding.quantities import Quantity, same
from app.core.grounding.report import Flag, FlagKind

_AGE_WORDS = {"old", "age", "year"}
_NOT_THE_PATIENT = {"his", "her", "their", "my", "your", "our", "under", "over", "above", "below", "than", "until",
                    "since", "at"}


def check_quantities(sentence: NoteSentence, found: list[Quantity], evidence: Evidence) -> list[Flag]:
    """Flags for the quantities of one note sentence (`found`, with indices into the note's terms)."""
    region = region_quantities(evidence, sentence)
    flags = []
    for q in found:
        # the patient's age may come from anywhere (the record's demographics too); another person's, like any
        # other value, from where the sentence comes from
        patient = q.kind == "age" and not _someone_else(sentence, q)
        reason = _age(q, evidence) if patient else _value(q, sentence, region, evidence)
        if reason is not None:
            kind: FlagKind = "age" if q.kind == "age" else "date" if q.kind == "date" else "number"
            text = sentence.note.text[q.start : q.end]
            flags.append(sentence.flag(kind, q.start, q.end, f"{text}: {reason}"))
    return flags


def _someone_else(sentence: NoteSentence, q: Quantity) -> bool:
    """"her 4-year-old son", "children under 1 year old": an age that is not the patient's."""
    before = sentence.note.terms[q.first - 1].word if q.first > sentence.first else ""
    return before in _NOT_THE_PATIENT


def _age(q: Quantity, evidence: Evidence) -> str | None:
    ages = [t for t in evidence.quantities + evidence.extra_quantities if t.kind == "age"]
    if any(same(q, t) for t in ages):
        return None
    # "how old are you?" "fifty nine": a bare number beside the words of age
    if any(t.family == "" and same(q, t) and anchored(evidence, t.first, t.last, _AGE_WORDS)
           for t in evidence.quantities):
        return None
    if any(t.family == "" and same(q, t) for t in evidence.extra_quantities):
        return None
    return f"the consultation says {ages[0].shown}" if ages else "not mentioned"


def _value(q: Quantity, sentence: NoteSentence, region: list[Quantity], evidence: Evidence) -> str | None:
    anchors = sentence.anchors(q.first, q.last)
    if any(same(q, t) for t in evidence.extra_quantities):
        return None
    # A bare number ("8", "2 views") is common enough that one nearby proves little: it must be in a supporting
    # sentence itself, or have the sentence's words beside it.
    # A frequency is about one medicine: "twice daily" said of another one nearby is not it.
    loose = q.family and q.kind != "frequency"
    supporting = set(sentence.support) | replies_to(evidence, sentence.support)
    for t in region:
        if same(q, t) and (loose or not anchors or evidence.transcript.terms[t.first].sentence in supporting
                           or close_by(evidence, t.first, t.last, anchors)):
            return None
    if q.kind in ("date", "duration"):  # "2 years ago", "March 3": specific enough to be the same wherever said
        if any(same(q, t) for t in evidence.quantities):
            return None
    elif any(same(q, t) and (anchored(evidence, t.first, t.last, anchors) if loose
                             else close_by(evidence, t.first, t.last, anchors)) for t in evidence.quantities):
        return None
    rival = _rival(q, region, anchors, evidence)
    if rival is not None:
        return f"the consultation says {rival.shown}"
    lenient = q.kind == "frequency" and q.high <= 1  # "daily", "as needed": see the module's note
    return None if lenient else "not mentioned"


def _comparable(q: Quantity, t: Quantity) -> bool:
    """Two quantities about the same kind of thing, so that a different value contradicts."""
    return t.kind == q.kind and t.family == q.family and not same(q, t)


def _rival(q: Quantity, region: list[Quantity], anchors: set[str], evidence: Evidence) -> Quantity | None:
    """What the consultation says instead: a comparable value beside the same words, or else in the region.
    A frequency contradicts only one given for the same medicine, and "as needed" goes with any. A bare number
    has no rival: too many numbers are said near any word to pick one as "what was said"."""
    if not q.family:
        return None
    if q.kind == "frequency":
        anchors = {a for a in anchors if a.startswith("rx:")}
        if not anchors or q.low == 0:
            return None
    best: tuple[int, Quantity] | None = None
    for t in region + evidence.quantities:
        if (q.kind == "frequency" and t.low == 0) or not _comparable(q, t):
            continue
        distance = anchor_distance(evidence, t.first, t.last, anchors)
        if distance is not None and (best is None or distance < best[0]):
            best = (distance, t)  # the value said closest to the same words ("amoxicillin five hundred")
    if best is not None:
        return best[1]
    if q.kind != "frequency":
        for t in region:
            if _comparable(q, t):
                return t
    return None
