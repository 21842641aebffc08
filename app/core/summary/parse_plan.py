"""The encounter's assessment and plan (its sentences, as written) and the follow-ups it asks for: "review in 1 week",
"follow up in 3 months", "see him back in two weeks", "repeat a hemoglobin A1c in 4 months", "recheck annually".
The interval is read by grounding's quantities ("a couple of weeks", "2 to 3 weeks": the shorter); the due date is
the note's date plus the interval, worked out when the summary is built.
"""

from __future__ import annotations

import re

from app.core.summary.document import NoteDoc
from app.core.summary.facts import Fact, FactKind
from app.core.summary.sections import PLAN_SECTIONS

MAX_PLAN_SENTENCES = 40
_CUE = re.compile(
    r"\b(?:follow(?:[- ]?up|s? up|ing up)?|f/u|return(?:ing)?|come back|see (?:him|her|them|you|the patient) back|"
    r"back|recheck|re-check|re-?evaluat\w*|review|revisit|repeat|monitor|reassess\w*|check)\b", re.I
)
_ANNUAL = re.compile(r"\b(?:annually|yearly|annual|in a year)\b", re.I)
_PAST = re.compile(r"\bago\b|\blast\b|\bprevious(?:ly)?\b", re.I)
_FOLLOW_UP_SECTIONS = PLAN_SECTIONS | {"other"}


def plan_facts(doc: NoteDoc) -> list[Fact]:
    """The sentences of the assessment and plan, in order (the summary shows the last encounter's)."""
    out: list[Fact] = []
    for index, clause in enumerate(doc.clauses):
        if clause.section in PLAN_SECTIONS and len(out) < MAX_PLAN_SENTENCES:
            sentence = doc.clause_text(index)
            out.append(Fact(FactKind.PLAN, clause.section, clause.start, clause.end, sentence))
    return out


def follow_up_facts(doc: NoteDoc) -> list[Fact]:
    out = []
    for index, clause in enumerate(doc.clauses):
        if clause.section not in _FOLLOW_UP_SECTIONS:
            continue
        sentence = doc.clause_text(index)
        cue = _CUE.search(sentence)
        if cue is None or _PAST.search(sentence):
            continue
        days = _days(doc, index, cue.start())
        if days:
            out.append(Fact(FactKind.FOLLOW_UP, "follow-up", clause.start, clause.end, sentence, days=days))
    return out


def _days(doc: NoteDoc, index: int, cue_at: int) -> int:
    clause = doc.clauses[index]
    for q in doc.clause_quantities(index):
        if q.kind == "duration" and q.family == "time" and q.start >= clause.start + cue_at and q.low >= 1:
            return round(q.low)
    if _ANNUAL.search(doc.clause_text(index), cue_at):
        return 365
    return 0
