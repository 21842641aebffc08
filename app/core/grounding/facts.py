"""Checks of the quantities in a note sentence: doses, readings, counts, durations, frequencies, ages and dates.

A value is grounded when the consultation says the same value near where the sentence comes from (its supporting
sentences and their neighbours), or anywhere next to a word that says what the value is about ("lisinopril" for
"20 mg"), or when an extra source says it. Otherwise it is flagged, with the value the consultation gives for the
same thing when there is one ("500 mg: the consultation says 250 mg") or "not mentioned".

A daily or as-needed frequency the consultation never gives is not flagged: notes write "daily" for "a day" or for
nothing said at all often enough that only a conflicting one is worth the doctor's attention ("3 times per week"
must be said). Likewise "type 2 diabetes" where only "diabetes" was said; any other type must be said.

A duration may be said anywhere ("two weeks ago" is specific), unless where the sentence comes from another one
is said beside its words ("clindamycin for seven days" against "clindamycin for 14 days"); "in 3 days" is never "3
days ago".
"""

from __future__ import annotations

from app.core.grounding.evidence import (
    ANCHOR_REACH,
    Evidence,
    NoteSentence,
    anchor_distance,
    anchored,
    close_by,
    region_quantities,
    replies_to,
)
from app.core.grounding.quantities import Quantity, directions_agree, same
from app.core.grounding.report import Flag, FlagKind
from app.core.grounding.terms import Term

_AGE_WORDS = {"old", "age", "year"}
_COMMON_TYPES = {2.0}  # an unqualified "diabetes" is type 2 nine times in ten; type 1 is a claim to check
LABEL_GAP = 2  # words with no content ("of", "is a") that may come between a label and its number
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
    terms = evidence.transcript.terms
    # "children under a year of age", "his 4-year-old": said, but not the patient's
    said = [t for t in evidence.quantities if t.kind == "age" and (
        t.first == 0 or terms[t.first - 1].word not in _NOT_THE_PATIENT)]
    ages = said + [t for t in evidence.extra_quantities if t.kind == "age"]
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
    if q.first > sentence.first and sentence.note.terms[q.first - 1].word == "type" and not q.family:
        return _type(q, evidence)
    anchors = sentence.anchors(q.first, q.last)
    # the patient's age in the record grounds an age, not a dose or a count that happens to equal it
    if any(same(q, t) for t in evidence.extra_quantities if t.kind != "age" or q.kind == "age"):
        return None
    if not q.family:
        labelled = _labelled(q, sentence.note.terms, sentence.first, evidence)
        if labelled is not None:
            return labelled or None
    if q.kind == "duration":
        # where the sentence comes from, the duration said beside its words is the one meant ("clindamycin for
        # seven days" against "clindamycin for 14 days", whatever else lasted 14 days); else one said anywhere
        nearest = _nearest(q, region, evidence, anchors)
        if nearest is not None:
            return None if same(q, nearest) else f"the consultation says {nearest.shown}"
    # A bare number ("8", "2 views") is common enough that one nearby proves little: it must be in a supporting
    # sentence itself, or have the sentence's words beside it.
    # A frequency of a medicine is about that one: "twice daily" said of another one nearby is not it.
    loose = q.family and (q.kind != "frequency" or not any(a.startswith("rx:") for a in anchors))
    supporting = set(sentence.support) | replies_to(evidence, sentence.support)
    for t in region:
        if same(q, t) and (loose or not anchors or evidence.transcript.terms[t.first].sentence in supporting
                           or close_by(evidence, t.first, t.last, anchors)):
            return None
    if q.kind in ("duration", "date") or q.family == "bp":
        # "two weeks ago", "March 3", "180/80": specific enough to be the same wherever said
        if any(same(q, t) for t in evidence.quantities):
            return None
    elif any(same(q, t) and (anchored(evidence, t.first, t.last, anchors) if loose
                             else close_by(evidence, t.first, t.last, anchors)) for t in evidence.quantities):
        return None
    rival = _rival(q, region, anchors, evidence)
    if rival is not None:
        return f"the consultation says {rival.shown}"
    lenient = q.kind == "frequency" and q.high in (0.0, 1.0)  # "daily", "as needed": see the module's note
    return None if lenient else "not mentioned"


def label_of(terms: list[Term], first: int, begin: int) -> str:
    """The word a bare number is the value of, right before it ("SPF 30", "A1c of 8"), or ""."""
    for index in range(first - 1, max(begin, first - 1 - LABEL_GAP) - 1, -1):
        term = terms[index]
        if term.num:
            return ""
        if term.content:
            return term.norm
    return ""


def _labelled(q: Quantity, terms: list[Term], begin: int, evidence: Evidence) -> str | None:
    """For a bare number with a label ("SPF 15"): "" when the consultation gives the same label the same value,
    the reason when it gives that label only other values ("the consultation says 30"), None when it never puts a
    number right after that label (the other checks decide)."""
    label = label_of(terms, q.first, begin)
    if not label:
        return None
    transcript = evidence.transcript
    said = [t for t in evidence.quantities if not t.family and label_of(
        transcript.terms, t.first, transcript.ranges[transcript.terms[t.first].sentence][0]) == label]
    if not said:
        return None
    if any(same(q, t) for t in said):
        return ""
    return f"the consultation says {said[0].shown}"


def _type(q: Quantity, evidence: Evidence) -> str | None:
    """A common type ("type 2 diabetes") is flagged only when the consultation gives another one (see the module's
    note); any other type must be said."""
    terms = evidence.transcript.terms
    said = [t for t in evidence.quantities
            if not t.family and t.first > 0 and terms[t.first - 1].word == "type"]
    if any(same(q, t) for t in said):
        return None
    if said:
        return f"the consultation says type {said[0].shown}"
    return None if q.low == q.high and q.low in _COMMON_TYPES else "not mentioned"


def _nearest(q: Quantity, region: list[Quantity], evidence: Evidence, anchors: set[str]) -> Quantity | None:
    """Of the quantities of `region` the same as `q` or comparable with it (and pointing the same way) and said
    within reach of its anchor words, one the same as `q`, else the one nearest them; None when there is none.
    ("once about three years ago but it went away after a day": both are beside the note's words.)"""
    best: tuple[int, Quantity] | None = None
    for t in region:
        if not (same(q, t) or (_comparable(q, t) and directions_agree(q, t))):
            continue
        distance = _distance_in_sentence(evidence, t, anchors)
        if distance is not None and same(q, t):
            return t
        if distance is not None and (best is None or distance < best[0]):
            best = (distance, t)
    return None if best is None else best[1]


def _distance_in_sentence(evidence: Evidence, t: Quantity, anchors: set[str]) -> int | None:
    """How many terms from `t` the nearest anchor word of its own sentence is, None beyond reach."""
    terms = evidence.transcript.terms
    first, last = evidence.transcript.ranges[terms[t.first].sentence]
    for distance in range(1, ANCHOR_REACH + 1):
        for index in (t.first - distance, t.last + distance):
            if first <= index < last and terms[index].norm in anchors:
                return distance
    return None


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
