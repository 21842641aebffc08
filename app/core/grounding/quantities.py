"""Numbers with what they measure: doses, vital signs, durations, frequencies, ages and dates, read from the terms
of a text so that "a couple of weeks" equals "2 weeks", "1 g" equals "1000 mg", "bid" equals "twice daily" and
"fifty nine year old" equals "59-year-old".

Each quantity has a family (mass, time, rate...) and a value range in that family's base unit: "2 to 3 weeks" is
14-21 days, "a few days" 2-4 days. A bare number ("A1c 8") has no family and compares by the value as stated.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from app.core.grounding.spoken import (
    TIME,
    date_at,
    date_shown,
    duration_words,
    frequency_at,
    frequency_shown,
    may_start,
    number,
    shown,
    words_at,
)
from app.core.grounding.terms import Term

Kind = Literal["number", "duration", "frequency", "age", "date"]

# stated unit -> (family, factor to the family's base unit)
_UNITS: dict[str, tuple[str, float]] = {
    "mg": ("mass", 1.0), "mcg": ("mass", 0.001), "g": ("mass", 1000.0), "kg": ("weight", 1.0),
    "lb": ("weight", 0.4536), "mL": ("volume", 1.0), "L": ("volume", 1000.0), "%": ("percent", 1.0),
    "mmHg": ("pressure", 1.0), "bpm": ("rate", 1.0), "°C": ("temperature", 1.0), "°": ("temperature", 1.0),
    "cm": ("length", 10.0), "mm": ("length", 1.0), "in": ("length", 25.4), "units": ("units", 1.0),
    "unit": ("units", 1.0), "mmol": ("mmol", 1.0), "mEq": ("meq", 1.0), "oz": ("ounce", 1.0),
}
# things counted by a number: a unit of their own, so that "2 puffs" and "one puff" are compared ("puff"), but not
# with a bare number
_COUNTED = {"puff": "puff", "puffs": "puff", "tablet": "tablet", "tablets": "tablet", "tab": "tablet",
            "tabs": "tablet", "pill": "tablet", "pills": "tablet", "capsule": "capsule", "capsules": "capsule",
            "drop": "drop", "drops": "drop", "spray": "spray", "sprays": "spray", "cigarette": "cigarette",
            "cigarettes": "cigarette", "pack": "pack", "packs": "pack", "drink": "drink", "drinks": "drink",
            "beer": "drink", "beers": "drink"}
# words after a number that the dictation formatter does not treat as units
_UNIT_WORDS = {
    "degree": "°", "degrees": "°", "pound": "lb", "pounds": "lb", "lbs": "lb", "lb": "lb", "inch": "in",
    "inches": "in", "ounce": "oz", "ounces": "oz", "oz": "oz", "percent": "%",
}
_AGE_YEARS = {"year": 1.0, "years": 1.0, "yr": 1.0, "yrs": 1.0, "month": 1 / 12, "months": 1 / 12,
              "week": 1 / 52, "weeks": 1 / 52, "day": 1 / 365, "days": 1 / 365}
_RANGE_WORDS = {"to", "or", "through", "and"}
_UNIT_NEEDED = {"time", "frequency", "date"}
_TOLERANCE = {"time": 0.1, "rate": 0.05}
_EXACT = 1e-6  # only rounding: 1000 mg is not 1001 mg


@dataclass(frozen=True, slots=True)
class Quantity:
    kind: Kind
    family: str  # "mass", "time", "rate", "age", "bp", "ratio", "date", ... ; "" for a bare number
    low: float  # value range in the family's base unit (days, mg, per day, years); the stated value when bare
    high: float
    key: str  # exact comparisons (blood pressure "140/90", dates "3-14"); "" otherwise
    start: int  # character offsets of the words it was read from
    end: int
    first: int  # index of its first and last term
    last: int
    shown: str  # how a reason shows it: "500 mg", "twice daily", "59-year-old"
    unit: str = ""  # the unit as stated ("week", "mg"): the same unit compares exactly, another one converted
    factor: float = 1.0  # stated value x factor = value in the family's base unit
    vague: bool = False  # "a few days": a range that overlapping is enough for
    when: str = ""  # a duration's direction: "back" (3 days ago), "ahead" (in 3 months), "for" (how long), or ""


def _equal(x: float, y: float, tolerance: float) -> bool:
    return abs(x - y) <= tolerance * max(abs(x), abs(y)) + 1e-9


def _endpoints(a: tuple[float, float], b: tuple[float, float], tolerance: float) -> bool:
    """A range in the note ("2 to 3 weeks") needs the same range; a single value in the note is found in a range
    that it ends ("3 months" in "two to three months")."""
    a_range, b_range = not _equal(*a, 0.0), not _equal(*b, 0.0)
    if a_range:
        return b_range and _equal(a[0], b[0], tolerance) and _equal(a[1], b[1], tolerance)
    if b_range:
        return _equal(a[0], b[0], tolerance) or _equal(a[0], b[1], tolerance)
    return _equal(a[0], b[0], tolerance)


def directions_agree(a: Quantity, b: Quantity) -> bool:
    """Whether two durations can be one: "for 3 weeks" is "3 weeks ago" (how long it has lasted), but neither is
    "in 3 weeks" (when something will happen)."""
    return not a.when or not b.when or a.when == b.when or {a.when, b.when} == {"for", "back"}


def same(a: Quantity, b: Quantity) -> bool:
    """Whether `b` (said) can be the fact `a` (written). A bare number said matches a dose or reading by its value
    ("lisinopril twenty" for "20 mg"), but not a duration, a frequency or a date, which speech keeps units for."""
    if a.key or b.key:
        return a.key == b.key and a.family == b.family
    if not directions_agree(a, b):  # "in 3 days" is not "3 days ago"
        return False
    if a.family and b.family and a.family != b.family:
        return False
    if not (a.family and b.family) and (a.family in _UNIT_NEEDED or b.family in _UNIT_NEEDED):
        return False
    stated = (a.low / a.factor, a.high / a.factor), (b.low / b.factor, b.high / b.factor)
    if a.vague or b.vague:
        tolerance = _TOLERANCE.get(a.family, _EXACT)
        return a.low <= b.high * (1 + tolerance) + 1e-9 and b.low <= a.high * (1 + tolerance) + 1e-9
    if a.family and b.family and a.unit != b.unit:
        return _endpoints((a.low, a.high), (b.low, b.high), _TOLERANCE.get(a.family, _EXACT))
    return _endpoints(*stated, _EXACT)


def quantities(terms: list[Term], ranges: list[tuple[int, int]]) -> list[Quantity]:
    """Every quantity of a text, sentence by sentence (a quantity never spans two), with indices into `terms`."""
    out: list[Quantity] = []
    for first, last in ranges:
        sentence = terms[first:last]
        i = 0
        while i < len(sentence):
            found = _read(sentence, i)
            if found is None:
                i += 1
                continue
            if found.kind == "duration":
                found = replace(found, when=_direction(sentence, found.first, found.last))
            out.append(replace(found, first=found.first + first, last=found.last + first))
            i = found.last + 1
    return out


def _direction(terms: list[Term], first: int, last: int) -> str:
    """Which way a duration points from now: back ("3 days ago", "the past six months"), ahead ("in 3 months", "the
    next 2 weeks"), or how long something lasts ("for 3 days"); "" when it says none of these."""
    before = terms[first - 1].word if first > 0 else ""
    if (last + 1 < len(terms) and terms[last + 1].word == "ago") or before in ("past", "last"):
        return "back"
    if before in ("in", "next"):
        return "ahead"
    return "for" if before in ("for", "over") else ""


def _make(kind: Kind, family: str, low: float, high: float, terms: list[Term], first: int, last: int,
          shown: str, key: str = "", unit: str = "", factor: float = 1.0, vague: bool = False) -> Quantity:
    return Quantity(kind, family, low, high, key, terms[first].start, terms[last].end, first, last, shown, unit,
                    factor, vague)


def _read(terms: list[Term], i: int) -> Quantity | None:
    term = terms[i]
    if not may_start(term):
        return None
    frequency = frequency_at(terms, i)
    if frequency is not None:
        low, high, used = frequency
        return _make("frequency", "frequency", low, high, terms, i, i + used - 1, frequency_shown(low, high))
    date = date_at(terms, i)
    if date is not None:
        key, used = date
        return _make("date", "date", 0, 0, terms, i, i + used - 1, date_shown(key), key)
    if term.word in ("aged", "age") and i + 1 < len(terms) and term.num == "" and terms[i + 1].num:
        years = number(terms[i + 1].num)
        if years is not None:
            return _make("age", "age", years, years, terms, i, i + 1, f"{shown(years)}-year-old", unit="year")
    spoken = duration_words(terms, i)
    if spoken is not None:
        low, high, used = spoken
        unit = terms[i + used].word
        after = words_at(terms, i + used + 1, 2)
        if unit in _AGE_YEARS and (after[:1] == ["old"] or after == ["of", "age"]):  # "under a year of age"
            years = _AGE_YEARS[unit]
            end = i + used + (1 if after[:1] == ["old"] else 2)
            return _make("age", "age", low * years, high * years, terms, i, end,
                         f"{' '.join(words_at(terms, i, used + 1))} old", unit=unit.rstrip("s"), factor=years,
                         vague=low != high)
        factor = TIME[unit]
        return _make("duration", "time", low * factor, high * factor, terms, i, i + used,
                     " ".join(words_at(terms, i, used + 1)), unit=unit.rstrip("s"), factor=factor, vague=low != high)
    if term.word == "half" and not (i > 0 and terms[i - 1].word == "a" and i > 1 and terms[i - 2].word == "and"):
        return _make("number", "", 0.5, 0.5, terms, i, i, "0.5")  # "half a teaspoon"
    if not term.num:
        return None
    return _number(terms, i)


def _number(terms: list[Term], i: int) -> Quantity | None:
    term = terms[i]
    if "/" in term.num:
        top, _slash, bottom = term.num.partition("/")
        is_bp = term.unit == "mmHg" or (50 <= int(top) <= 300 and 20 <= int(bottom) <= 200)
        return _make("number", "bp" if is_bp else "ratio", 0, 0, terms, i, i, term.num, term.num)
    value = number(term.num)
    if value is None:
        return None
    if words_at(terms, i + 1, 2) == ["out", "of"] and i + 3 < len(terms) and terms[i + 3].num.isdigit():
        key = f"{term.num}/{terms[i + 3].num}"  # "two out of six" is the "2/6" a note writes
        return _make("number", "ratio", 0, 0, terms, i, i + 3, key, key)
    if words_at(terms, i + 1, 1)[:1] in (["x"], ["by"]) and i + 2 < len(terms) and terms[i + 2].num:
        key = f"{term.num}x{terms[i + 2].num}"  # "1 x 2 inch", said "one by two inches"
        return _make("number", "size", 0, 0, terms, i, i + 2, key.replace("x", " x "), key)
    if words_at(terms, i + 1, 1) == ["over"] and i + 2 < len(terms) and terms[i + 2].num.isdigit() and value < 50:
        key = f"{term.num}/{terms[i + 2].num}"  # "two over six" (a murmur's grade; readings are formatted already)
        return _make("number", "ratio", 0, 0, terms, i, i + 2, key, key)
    low = high = value
    last = i
    # "2 to 3 weeks", "1-2 puffs": the first number takes the unit of the second
    if i + 2 < len(terms) and terms[i + 1].word in _RANGE_WORDS and terms[i + 2].num and not term.unit:
        second = number(terms[i + 2].num)
        if second is not None and second != value and "/" not in terms[i + 2].num:
            low, high = min(value, second), max(value, second)
            last = i + 2
            term = terms[i + 2]
    after = words_at(terms, last + 1, 4)
    if after[:3] == ["and", "a", "half"]:  # "one and a half packs"
        low, high, last = low + 0.5, high + 0.5, last + 3
        after = words_at(terms, last + 1, 4)
    if any(c in terms[last].punct for c in ",;:"):
        after = []  # "RR 20, HR 80": the word after a comma is no unit of the number before it
    unit = term.unit.split("/")[0] if term.unit else ""
    shown_value = shown(low) if low == high else f"{shown(low)}-{shown(high)}"
    if unit in _UNITS and "/" not in term.unit:
        family, factor = _UNITS[unit]
        written = f"{shown_value}%" if unit == "%" else f"{shown_value} {unit}"
        return _make("number", family, low * factor, high * factor, terms, i, last, written,
                     unit=unit, factor=factor)
    if term.unit:
        return _make("number", term.unit, low, high, terms, i, last, f"{shown_value} {term.unit}", unit=term.unit)
    if after and after[0] in TIME:
        singular = after[0].rstrip("s")
        age_words = after[1:3]
        if age_words[:1] == ["old"] or age_words == ["of", "age"]:
            years = _AGE_YEARS.get(after[0], 1.0)
            end = last + (2 if age_words[:1] == ["old"] else 3)
            return _make("age", "age", low * years, high * years, terms, i, end, f"{shown_value}-{singular}-old",
                         unit=singular, factor=years)
        factor = TIME[after[0]]
        return _make("duration", "time", low * factor, high * factor, terms, i, last + 1,
                     f"{shown_value} {after[0]}", unit=singular, factor=factor)
    if after and after[0] in ("yo", "y/o", "y.o"):
        return _make("age", "age", low, high, terms, i, last + 1, f"{shown_value}-year-old", unit="year")
    if after and after[0] in _COUNTED:
        thing = _COUNTED[after[0]]
        return _make("number", thing, low, high, terms, i, last + 1, f"{shown_value} {after[0]}", unit=thing)
    if after and after[0] in _UNIT_WORDS:
        unit = _UNIT_WORDS[after[0]]
        family, factor = _UNITS[unit]
        return _make("number", family, low * factor, high * factor, terms, i, last + 1,
                     f"{shown_value} {after[0]}", unit=unit, factor=factor)
    return _make("number", "", low, high, terms, i, last, shown_value)
