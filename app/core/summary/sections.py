"""A note cut into clauses that know their section: "MEDICATIONS", "ASSESSMENT AND PLAN", "FAMILY HISTORY"...

Headings come on their own line ("CHIEF COMPLAINT", "HPI:") or inline in upper case ("...penicillin.,MEDICATION
HISTORY:, None." as transcribed reports run them together). A known heading sets the section; an unknown upper-case
label ("SKIN:", "HEENT:") is a subsection of the one it is in. Between headings the text is cut into sentences by
grounding's note splitter, and also where a transcribed report glues sentences with ".," and numbers its items.
Every clause is a span of the original text: offsets are never shifted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from app.core.grounding.sentences import Sentence, note_sentences

Section = str  # one of SECTIONS
SECTIONS = ("hpi", "pmh", "surgical", "family", "social", "history", "medications", "allergies", "ros", "exam",
            "vitals", "results", "assessment", "assessment_plan", "plan", "instructions", "other")
# Sections a label can open for its own clause ("Allergies: penicillin." written inside the plan).
_LABEL_SECTIONS = frozenset({"allergies", "medications", "pmh", "family", "social"})
# Where the assessment and plan of an encounter are written.
PLAN_SECTIONS = frozenset({"assessment", "assessment_plan", "plan", "instructions"})

_LINE_HEADING = re.compile(r"^[ \t]*([A-Za-z][A-Za-z0-9 ,/&()'\-]{0,60}?)[ \t]*(?:\(\d+/\d+\))?[ \t]*:?[ \t]*$")
_INLINE_HEADING = re.compile(
    r"(?:^|(?<=[.,:;\n]))[ \t,]*([A-Z][A-Z0-9 ,/&()'\-]{1,60}?)[ \t]*(?:\(\d+/\d+\))?[ \t]*:(?=[ \t,]|$)[ \t]*,?", re.M
)
# a transcribed report's glued sentence end (".,") and its numbered items (",2.  Hypertension")
_GLUE = re.compile(r"(?<=[.:]),(?=\s*\S)|,(?=\s*\d{1,2}\.\s+[A-Za-z])")


@dataclass(frozen=True, slots=True)
class Clause:
    start: int
    end: int
    section: Section
    heading: str  # the nearest heading or subsection label, lower case ("" before the first)
    label: str  # the label the clause starts with ("blood pressure" in "Blood pressure: 120/70"), lower case
    alone: bool  # the clause is the whole of its line or list item (after a bullet or number): a heading-like line
    item: bool  # it follows a bullet or an item number


def section_of(heading: str) -> Section | None:
    """The section a heading names, None for a subsection label."""
    h = " ".join(heading.upper().replace("&", " AND ").split())
    if h.startswith("FAMILY"):
        return "history" if ("SOCIAL" in h or "ALLERG" in h) else "family"
    checks: tuple[tuple[tuple[str, ...], Section], ...] = (
        (("ALLERG",), "allergies"),
        (("MEDICATION", "MEDS", "PRESCRIPTION", "CURRENT MEDICINES"), "medications"),
        (("SOCIAL",), "social"),
        (("SURGICAL",), "surgical"),
        (("RESULT", "LAB", "DIAGNOSTIC", "DATA", "IMAGING", "STUDIES"), "results"),
        (("PAST MEDICAL", "MEDICAL HISTORY", "PMH", "PROBLEM", "DIAGNOS"), "pmh"),
        (("REVIEW OF SYSTEMS",), "ros"),
        (("VITAL",), "vitals"),
        (("ASSESSMENT AND PLAN", "IMPRESSION AND PLAN", "A/P", "ASSESSMENT/PLAN"), "assessment_plan"),
        (("ASSESSMENT", "IMPRESSION"), "assessment"),
        (("INSTRUCTION", "FOLLOW"), "instructions"),
        (("PLAN", "RECOMMENDATION", "TREATMENT", "COURSE", "DISPOSITION"), "plan"),
        (("EXAM", "OBJECTIVE"), "exam"),
        (("CHIEF COMPLAINT", "HPI", "HISTORY OF PRESENT", "PRESENT ILLNESS", "SUBJECTIVE", "REASON FOR", "INTERVAL"),
         "hpi"),
    )
    for words, section in checks:
        if any(w in h for w in words):
            return section
    if h in ("CC", "ROS", "S", "O", "A", "P"):
        return {"CC": "hpi", "ROS": "ros", "S": "hpi", "O": "exam", "A": "assessment", "P": "plan"}[h]
    return None


def _is_line_heading(text: str, start: int, end: int) -> str | None:
    line = text[start:end]
    match = _LINE_HEADING.match(line)
    if match is None:
        return None
    words = match.group(1).split()
    letters = [c for c in match.group(1) if c.isalpha()]
    if not words or len(words) > 8:
        return None
    if line.rstrip().endswith(":") or (letters and all(c.isupper() for c in letters) and len(letters) > 1):
        return match.group(1).strip()
    return None


def _headings(text: str) -> list[tuple[int, int, str]]:
    """(start, end, heading) of every heading: whole lines, then inline upper-case labels."""
    found: list[tuple[int, int, str]] = []
    for line in re.finditer(r"[^\n]+", text):
        heading = _is_line_heading(text, line.start(), line.end())
        if heading is not None:
            found.append((line.start(), line.end(), heading))
    covered = [(s, e) for s, e, _h in found]
    for match in _INLINE_HEADING.finditer(text):
        name = match.group(1).strip(" ,")
        letters = [c for c in name if c.isalpha()]
        if len(letters) < 2 or not all(c.isupper() for c in letters) or len(name.split()) > 8:
            continue
        if any(s <= match.start(1) < e for s, e in covered):
            continue
        found.append((match.start(1), match.end(), name))
    return sorted(found)


def _pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """text[start:end] cut where a transcribed report glues sentences (".,") or starts a numbered item."""
    pieces, begin = [], start
    for match in _GLUE.finditer(text, start, end):
        pieces.append((begin, match.start()))
        begin = match.end()
    pieces.append((begin, end))
    trimmed = []
    for s, e in pieces:
        while s < e and text[s] in " \t\n,":
            s += 1
        while e > s and text[e - 1] in " \t\n,":
            e -= 1
        if s < e:
            trimmed.append((s, e))
    return trimmed


_BULLET = re.compile(r"[ \t]*(?:[•\-*·▪◦–]|\d{1,2}[.)])[ \t]+")


def clauses(text: str) -> list[Clause]:
    out: list[Clause] = []
    section: Section = "other"
    heading = ""
    bounds = [*_headings(text), (len(text), len(text), "")]
    position = 0
    for h_start, h_end, name in bounds:
        for p_start, p_end in _pieces(text, position, h_start):
            out.extend(_piece_clauses(text, p_start, p_end, section, heading))
        named = section_of(name) if name else None
        section = named or section
        heading = name.lower()
        position = h_end
    return out


# "Seroquel 50 mg p.o. q.h.s., 25 mg p.o. q.a.m.": a dotted dosing abbreviation does not end the sentence when what
# follows goes on in lower case or with a number.
_DOTTED_END = re.compile(r"\b(?:[a-z]\.){2,}$")
_GOES_ON = re.compile(r"[a-z0-9]")


def _sentences(piece: str) -> list[Sentence]:
    merged: list[Sentence] = []
    for sentence in note_sentences(piece):
        previous = merged[-1] if merged else None
        if (previous is not None and previous.turn == sentence.turn and _GOES_ON.match(piece, sentence.start)
                and _DOTTED_END.search(piece, previous.start, previous.end)):
            merged[-1] = replace(previous, end=sentence.end)
        else:
            merged.append(sentence)
    if not merged and any(c.isalnum() for c in piece):  # a last line the splitter took for a heading ("... Sig:")
        merged.append(Sentence(len(piece) - len(piece.lstrip()), len(piece.rstrip())))
    return merged


def _piece_clauses(text: str, start: int, end: int, section: Section, heading: str) -> list[Clause]:
    piece = text[start:end]
    out = []
    item_start = _BULLET.match(piece)
    for sentence in _sentences(piece):
        # the label belongs to the line's first clause ("Blood pressure: 120/70" is the sentence a reading comes from)
        first = sentence.context is not None and piece[sentence.context[1] : sentence.start].strip(" \t:") == ""
        s = start + (sentence.context[0] if sentence.context and first else sentence.start)
        e = start + sentence.end
        label = piece[sentence.context[0] : sentence.context[1]].lower() if sentence.context else ""
        line_start = text.rfind("\n", 0, s) + 1
        line_end = text.find("\n", e)
        line_end = len(text) if line_end < 0 else line_end
        before = text[max(line_start, start) : s]
        lead = _BULLET.match(before)
        bare_before = before.strip() == "" or (lead is not None and lead.end() == len(before))
        alone = bare_before and text[e:min(line_end, end)].strip(" \t,.") == ""
        item = lead is not None or (item_start is not None and s - start <= item_start.end())
        labelled = section_of(label) if label else None  # "Allergies: penicillin." inside another section
        out.append(Clause(s, e, labelled if labelled in _LABEL_SECTIONS else section, heading, label, alone, item))
    return out
