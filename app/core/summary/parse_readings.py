"""Vital signs and laboratory results a note states with a value: "Blood pressure: 120/70 mmHg", "BP 102/60 P 70
RR 20 T 98.2", "Hemoglobin A1c is elevated at 8.", "creatinine of 1.8". Only a value written right after its name (or
after "is", "was", "of", "at"...) counts, so "repeat a hemoglobin A1c in 4 months" states no result. The first
reading of each kind in a note is kept: a note's later mentions are usually comparisons or other positions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from app.core.summary.document import NoteDoc
from app.core.summary.facts import Fact, FactKind
from app.core.summary.sections import Clause
from app.core.summary.words import result_names

# words allowed between a name and its value ("A1c is elevated at 8", "creatinine of 1.8", "BP today 120/80")
_GAP_WORDS = ("is", "was", "were", "of", "at", "around", "about", "approximately", "today", "in office", "elevated",
              "high", "low", "up", "down", "to", "levels?", "total", "count", "measured", "checked", "now", "still",
              "reading")
_GAP = r"(?:\s*(?:[:=]|-|" + "|".join(rf"\b{w}\b" for w in _GAP_WORDS) + r"))*\s*"
_NUMBER = r"(\d{1,4}(?:\.\d+)?)"
# kind, name shown, pattern (group 1: the value, group 2: a second value or a unit), unit, plausible range
_VITALS: tuple[tuple[str, re.Pattern[str], str, tuple[float, float]], ...] = (
    ("blood pressure", re.compile(rf"\b(?:blood pressures?|b\.?p\.?){_GAP}(\d{{2,3}})\s*/\s*(\d{{2,3}})", re.I),
     "mmHg", (50, 300)),
    ("heart rate", re.compile(rf"\b(?:heart rate|pulse(?: rate)?|hr|p){_GAP}{_NUMBER}\b(?!\s*/|\s*%)", re.I), "bpm",
     (20, 250)),
    ("respiratory rate", re.compile(rf"\b(?:respiratory rate|respirations?|rr|resp){_GAP}{_NUMBER}\b(?!\s*/)", re.I),
     "/min", (4, 80)),
    ("temperature", re.compile(rf"\b(?:temperature|temp|t){_GAP}{_NUMBER}\s*(?:degrees?|°)?\s*([cf])?\b", re.I), "",
     (30, 110)),
    ("oxygen saturation", re.compile(
        rf"\b(?:o2 saturation|oxygen saturation|spo2|o2 sats?|sats?|saturation|pulse ox){_GAP}{_NUMBER}\s*%", re.I),
     "%", (50, 100)),
    ("weight", re.compile(rf"\b(?:weight|weighs|wt){_GAP}{_NUMBER}\s*(pounds|lbs?|kg|kilograms)\b", re.I), "",
     (1, 700)),
    ("height", re.compile(rf"\b(?:height|ht){_GAP}{_NUMBER}\s*(inches|in|cm|centimeters)\b", re.I), "", (20, 250)),
    ("bmi", re.compile(rf"\b(?:bmi|body mass index){_GAP}{_NUMBER}\b", re.I), "kg/m2", (8, 100)),
)
_BARE_SATURATION = re.compile(r"\b(\d{2,3})\s*%\s+on\s+room\s+air", re.I)
_UNITS = {"pounds": "lb", "lbs": "lb", "lb": "lb", "kilograms": "kg", "kg": "kg", "inches": "in", "in": "in",
          "cm": "cm", "centimeters": "cm", "c": "°C", "f": "°F"}
# one-letter names (P, T) only in a vital signs line, where "T 98.2" can mean nothing else
_SHORT_NAMES_OK = {"vitals", "exam"}
_NO_RESULTS = {"medications", "allergies", "family"}
_DOSE_AFTER = re.compile(r"\s*(?:mg|mcg|meq|g|ml|units?|tablets?)\b", re.I)


Found = Iterator[tuple[str, str, str]]  # (name, value, unit) of each reading in a sentence


def vital_facts(doc: NoteDoc) -> list[Fact]:
    return _first_readings(doc, FactKind.VITAL, lambda sentence, clause: _vitals_in(
        sentence, clause.section in _SHORT_NAMES_OK))


def result_facts(doc: NoteDoc) -> list[Fact]:
    return _first_readings(doc, FactKind.RESULT, lambda sentence, _clause: _results_in(sentence))


def _first_readings(doc: NoteDoc, kind: FactKind, find: Callable[[str, Clause], Found]) -> list[Fact]:
    """The first reading of each name in the note."""
    out: list[Fact] = []
    seen: set[str] = set()
    for index, clause in enumerate(doc.clauses):
        if clause.section in _NO_RESULTS:
            continue
        sentence = doc.clause_text(index)
        for name, value, unit in find(sentence, clause):
            if name not in seen:
                seen.add(name)
                out.append(Fact(kind, name, clause.start, clause.end, sentence, value=value, unit=unit))
    return out


def _vitals_in(sentence: str, short_names: bool) -> Found:
    for kind, pattern, unit, (low, high) in _VITALS:
        for match in pattern.finditer(sentence):
            name = sentence[match.start() : match.start() + 2].strip().lower()
            if len(name) == 1 and name in "pt" and not short_names:
                continue
            if not short_names and name == "t" and not sentence[match.start() + 1 : match.start() + 2].isspace():
                continue
            first = float(match.group(1))
            if not low <= first <= high:
                continue
            if kind == "blood pressure":
                if not 20 <= float(match.group(2)) <= 200 or float(match.group(2)) >= first:
                    continue
                yield kind, f"{match.group(1)}/{match.group(2)}", unit
            else:
                extra = match.group(2) if match.lastindex and match.lastindex >= 2 else None
                shown_unit = _UNITS.get((extra or "").lower(), unit) if extra else unit
                if kind == "temperature" and not shown_unit:
                    shown_unit = "°C" if first < 45 else "°F"
                yield kind, match.group(1), shown_unit
            break
    bare = _BARE_SATURATION.search(sentence)
    if bare and 50 <= float(bare.group(1)) <= 100:
        yield "oxygen saturation", bare.group(1), "%"


def _results_in(sentence: str) -> Found:
    lowered = sentence.lower()
    taken: list[tuple[int, int]] = []  # "hemoglobin a1c 8" is not also "hemoglobin 8"
    for spelling, name in result_names():
        pattern = rf"\b{re.escape(spelling)}\b{_GAP}{_NUMBER}(\s*%)?(?!\s*(?:to\s+\d+\s+)?times)"
        for match in re.finditer(pattern, lowered):
            if any(s <= match.start() < e for s, e in taken) or _DOSE_AFTER.match(lowered, match.end()):
                continue
            taken.append((match.start(), match.end()))
            yield name, match.group(1), "%" if match.group(2) or name == "hemoglobin a1c" else ""
