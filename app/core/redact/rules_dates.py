"""Dates: every element but a bare year. Written ("May 30th, 2022", "12th April 2022", "02/14/2022",
"2021-09-30 14:11"), dictated ("march third nineteen fifty" via the shadow text), partial ("Jan 5th",
"March 2023", "on Saturday"). `parse_date` turns a detected date back into parts so the placeholders can carry day
offsets instead of dates.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date

from app.core.redact.base import Kind, Span
from app.core.redact.lexicon import MEDICAL_ENDINGS
from app.core.redact.spoken import ShadowText

MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
    "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10,
    "nov": 11, "dec": 12,
}  # fmt: skip
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Month and weekday names: words that are never a name or a place on their own ("seen in May", "Friday clinic").
CALENDAR_WORDS = frozenset([*(m for m in MONTHS if len(m) > 3), *WEEKDAYS])
# Timetables abbreviate: "dialysis Mon, Wed and Fri".
WEEKDAY_ABBREVIATIONS = frozenset({"mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun"})
_MONTH = r"(?P<mon>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?"
# A month written with no full stop, for dates whose separator is a dash or slash ("14-Feb-2019").
_MONTH_BARE = r"(?P<mon>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")"
_YEAR = r"(?P<year>(?:1[89]|20)\d\d|['’]\d\d)"
_SEP = r"(?:\s*,\s*|\s+)"

DATE_PATTERNS: list[tuple[re.Pattern[str], float]] = [
    # May 30th, 2022 / Jan 22, '24 / march 3rd 1950 / June 3rd of 2021
    (re.compile(rf"\b{_MONTH}\s+(?:the\s+)?{_DAY}\b(?:{_SEP}(?:of\s+)?{_YEAR}\b)?", re.I), 0.95),
    # 12th April 2022 / the 3rd of March / 21st of june 2003
    (re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}(?![a-z])(?:{_SEP}{_YEAR}\b)?", re.I), 0.95),
    # March 2023 / Sept, 2021
    (re.compile(rf"\b{_MONTH}{_SEP}(?:of\s+)?{_YEAR}\b", re.I), 0.85),
    # 2021-09-30, 2000-04-16 11:34:35
    (
        re.compile(
            r"\b(?P<year>(?:19|20)\d\d)[-/.](?P<mon>1[0-2]|0?[1-9])[-/.](?P<day>3[01]|[12]\d|0?[1-9])"
            r"(?:[T ]\d{1,2}:\d{2}(?::\d{2})?)?\b"
        ),
        0.95,
    ),
    # 14-Feb-2019, 14/feb/19, 14FEB2019 (one separator throughout, or none)
    (
        re.compile(
            rf"(?<![\w/.-]){_DAY}(?P<dsep>[-/.]?){_MONTH_BARE}(?P=dsep)(?P<year>(?:1[89]|20)\d\d|\d\d)(?![\w/-])",
            re.I,
        ),
        0.9,
    ),
    # Feb-14-2019, Feb/14/19
    (
        re.compile(
            rf"(?<![\w/.-]){_MONTH_BARE}(?P<dsep>[-/]){_DAY}(?P=dsep)(?P<year>(?:1[89]|20)\d\d|\d\d)(?![\w/-])",
            re.I,
        ),
        0.9,
    ),
    # 02/14/2022, 5/25/23, 14.02.2022
    (
        re.compile(
            r"(?<![\d/.-])(?P<a>[0-3]?\d)(?P<sep>[/.-])(?P<b>[0-3]?\d)(?P=sep)"
            r"(?P<year>(?:19|20)\d\d|\d\d)(?![\d/-]|\.\d)"
        ),
        0.9,
    ),
    # 07/2025, 3-2021: a month and a year (the four-digit year keeps most fractions and ratios out)
    (MONTH_YEAR := re.compile(r"(?<![\d/.,-])(?P<mon>0?[1-9]|1[0-2])[/-](?P<year>(?:19|20)\d\d)(?![\d/-]|\.\d)"), 0.8),
]
# What makes "1-2000" or "1/2048" a dose, a range or a ratio: a unit or a count after it, a ratio word before it.
_QUANTITY_AFTER = re.compile(
    r"\s*(?:ml|mls|l|units?|iu|mg|mcg|micrograms?|milligrams?|g|grams?|kg|mmol|meq|risk|chance|odds|dilution|"
    r"copies|cells|births|live\s+births|people|patients|pregnancies|per|/|%)\b",
    re.IGNORECASE,
)
_RATIO_BEFORE = re.compile(
    r"\b(?:risk|titres?|titers?|dilutions?|chance|odds|ratio|incidence|prevalence|probability)\b(?:\W+\w+){0,2}\W*$",
    re.IGNORECASE,
)
# 8/10 without a year: only after a word that announces a date.
SHORT_NUMERIC = re.compile(
    r"\b(?:on|dated|since|from|until|till|by|dob|born|seen|of)\s*:?\s*(?P<a>[01]?\d)/(?P<b>[0-3]?\d)(?![\d/])", re.I
)
# Month/day without a year in a chart ("last BM 11/28", "dressing change due 10/22", "expires 5/27"): after a word
# that announces a date, with at most one word between that is no measurement's. A pain score, a strength, a blood
# pressure or a fraction has no such word before it ("Pain 4/10", "5/5 BUE", "3/4 of meals", "1/2 NS").
_CHART_CUES = (
    r"due|expires?|expiring|expired|exp|changed?|placed|inserted|started|stopped|removed|discontinued|dc'?d|d/c'?d|done|"
    r"last|lbm|lmp|next|through|thru|after|before|effective|scheduled|appt|appointment|f/u|admitted|admit|adm|"
    r"discharged|drawn|collected|performed|dated|dos|doi|edd|s/p|ct|mri|cxr|xr|echo|tte|tee|ekg|ecg|egd|cath|surgery|"
    r"op|procedure|cultures?|cx|labs|swab|biopsy|scan|dx|diagnosed|sent|given|received|transfused|extubated|"
    r"intubated|ordered|for|planned|booked"
)
_MEASURE_BETWEEN = re.compile(
    r"pain|score|scale|bp|hr|rr|sats?|spo2|temp|strength|ratio|rass|gcs|cam|fio2|peep|vent|intake|output|meals?|"
    r"amps?|ns|dose|doses|of|x",
    re.I,
)
CHART_DATE_CUE = re.compile(
    rf"\b(?:{_CHART_CUES})\b\.?(?:\s+(?P<between>[A-Za-z]{{1,12}}))?\s*:?\s*$",
    re.I,
)
# Every month/day without a year; the cue before it is checked only where one is found.
MONTH_DAY = re.compile(
    r"(?<![\w/.,-])(?P<a>1[0-2]|0?[1-9])/(?P<b>3[01]|[12]\d|0?[1-9])(?![\d/.,]\d|[\d/]|\s*(?:mmhg|%|of\b))", re.I
)
# A month/day with a time after it ("11/28 0700", "12/3 @ 14:30") or two of them as a range ("11/20-11/28").
_TIME = r"(?:[01]\d|2[0-3]):?[0-5]\d"
DATE_WITH_TIME = re.compile(
    r"(?<![\d/.])(?P<a>1[0-2]|0?[1-9])/(?P<b>3[01]|[12]\d|0?[1-9])(?=\s+(?:@\s*|at\s+)?" + _TIME + r"\b)"
)
DATE_RANGE = re.compile(
    r"(?<![\d/.])(?P<a>1[0-2]|0?[1-9])/(?P<b>3[01]|[12]\d|0?[1-9])\s?-\s?(?:1[0-2]|0?[1-9])/(?:3[01]|[12]\d|0?[1-9])"
    r"(?![\d/])"
)
# A month/day whose day is past 10, with no word announcing it ("BM 11/28", "Foley out 11/27"): a score or a fraction
# has a small denominator ("Pain 4/10", "5/5", "2/6 murmur"), a blood pressure or a larger score cannot be a date
# ("120/80", "MMSE 28/30"); what remains is a date unless a measurement's word or a unit is beside it ("GCS 3/15",
# "Braden 12/23", "Lotrel 5/20 mg").
BARE_MONTH_DAY = re.compile(
    r"(?<![\w/.,:#+-])(?P<a>1[0-2]|0?[1-9])/(?P<b>1[1-9]|2\d|3[01])"
    r"(?![\w/%+-]|[.,]\d|\s*(?:mm\s?hg|mg|mcg|ml|tabs?|units?|of|x|%)\b)",
    re.IGNORECASE,
)
_SCORE_BEFORE = re.compile(
    r"\b(?:gcs|braden|morse|phq-?\d?|gad-?\d?|mmse|moca|nihss|apgar|score|scale|bp|b/p|map|vent|bipap|cpap|peep|"
    r"ps|fio2|ratio|i\s?/\s?o|i&o|intake|output|ate|eaten|strength|pain|rass|cam|cpot|dose|bottles?|x|q)"
    r"\b\W{0,3}(?:\w+\W{1,3})?$",
    re.IGNORECASE,
)
# "28-Nov", "Nov-28": a day and a month joined by a dash, no year.
DAY_DASH_MONTH = re.compile(
    rf"(?<![\w/.-])(?:{_DAY}-{_MONTH_BARE}|(?P<mon2>{_MONTH_BARE[7:-1]})-(?P<day2>3[01]|[12]\d|0?[1-9]))(?![\w/-])",
    re.IGNORECASE,
)
# "done 4/6 cycles", "given 2/3 doses": a count of a course, not a date.
_COUNT_AFTER = re.compile(
    r"\s*(?:cycles?|sessions?|doses?|treatments?|fractions?|courses?|rounds?|visits?|tabs?|tablets?|bags?|units?)\b",
    re.IGNORECASE,
)
_FRACTIONS = frozenset({("1", "2"), ("1", "3"), ("1", "4"), ("2", "3"), ("3", "4"), ("1", "8")})
WEEKDAY = re.compile(r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\b", re.I)
# A month alone is a date element when a preposition introduces it ("in March", "since last October").
# Written in full, in any case ("back in march" in a transcript); abbreviated, only with its capital ("in Mar").
MONTH_ALONE = re.compile(
    r"\b(?i:in|since|during|until|till|by|from|early|mid|late|last|next|this|of|before|after)\s+(?:-\s*)?"
    r"(?P<mon>(?i:January|February|April|June|July|August|September|October|November|December)|May|March|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\b"
)
# "may" and "march" in lower case are verbs too ("this may help", "of march"): only after a word of time.
MAY_MARCH = re.compile(r"\b(?:in|since|until|till|early|mid|late|last|next|during)\s+(?P<mon>may|march)\b")
# A holiday with its year is a full date ("Christmas 2021"); alone it is not an identifier.
HOLIDAY = re.compile(
    r"\b(?:christmas(?: day| eve)?|thanksgiving(?: day)?|new year'?s(?: day| eve)|easter(?: sunday| monday)?|"
    r"halloween|independence day|valentine'?s day|memorial day|labor day|boxing day)(?:,?\s+(?:of\s+)?(?:19|20)\d\d)\b",
    re.I,
)
BIRTH_CONTEXT = re.compile(r"(?:dob|d\.o\.b\.?|date of birth|birth ?date|born(?: on)?)\W{0,3}$", re.I)


@dataclass(frozen=True)
class DateParts:
    year: int | None
    month: int | None
    day: int | None

    def as_date(self, fallback_year: int | None = None) -> date | None:
        year = self.year or fallback_year
        if year is None or self.month is None or self.day is None:
            return None
        try:
            return date(year, self.month, self.day)
        except ValueError:
            return None


def _year(value: str | None) -> int | None:
    if not value:
        return None
    digits = value.strip("'’")
    year = int(digits)
    if len(digits) == 2:
        year += 2000 if year < 50 else 1900
    return year


def _numeric_parts(a: str, b: str, year: str | None) -> DateParts | None:
    first, second = int(a), int(b)
    # US order (month/day) unless the first number cannot be a month.
    month, day = (first, second) if first <= 12 else (second, first)
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return DateParts(_year(year), month, day)


def _parts(m: re.Match[str]) -> DateParts | None:
    groups = m.groupdict()
    if "a" in groups and groups["a"] is not None:
        return _numeric_parts(groups["a"], groups["b"], groups.get("year"))
    mon = groups.get("mon")
    month = MONTHS.get(mon.lower().rstrip(".")) if mon else None
    if mon and month is None:
        month = int(mon) if mon.isdigit() else None
    day = int(groups["day"]) if groups.get("day") else None
    return DateParts(_year(groups.get("year")), month, day)


def _quantity_not_month(text: str, m: re.Match[str]) -> bool:
    """'1-2000 units', 'Rh 1/2000 risk', 'Titre 1/2048': a dose or a ratio shaped like a month and a year."""
    year = int(m.group("year"))
    if year > date.today().year + 1 or _QUANTITY_AFTER.match(text, m.end()):
        return True
    return int(m.group("mon")) == 1 and bool(_RATIO_BEFORE.search(text[max(0, m.start() - 40) : m.start()]))


def find_dates(shadow: ShadowText) -> list[Span]:
    text = shadow.text
    found: list[tuple[int, int, float]] = []

    def add(start: int, end: int, confidence: float) -> None:
        if BIRTH_CONTEXT.search(text[max(0, start - 20) : start]):
            confidence = max(confidence, 0.95)
        found.append((start, end, confidence))

    for regex, confidence in DATE_PATTERNS:
        for m in regex.finditer(text):
            if _parts(m) is None or (regex is MONTH_YEAR and _quantity_not_month(text, m)):
                continue
            mon = (m.groupdict().get("mon") or "").lower()
            if mon == "may" and not m.groupdict().get("year") and m.group()[0] == "m":
                confidence_here = confidence * 0.7  # "may 3" in lower case could be "may 3 times"
            else:
                confidence_here = confidence
            add(m.start(), m.end(), confidence_here)
    for m in SHORT_NUMERIC.finditer(text):
        if _numeric_parts(m.group("a"), m.group("b"), None) is not None:
            add(m.start("a"), m.end("b"), 0.7)
    for m in MONTH_DAY.finditer(text):
        cue = CHART_DATE_CUE.search(text, max(0, m.start() - 40), m.start())
        if cue is None or (m.group("a").lstrip("0"), m.group("b")) in _FRACTIONS or _COUNT_AFTER.match(text, m.end()):
            continue
        between = cue.group("between")
        if between and _MEASURE_BETWEEN.fullmatch(between):
            continue
        add(m.start("a"), m.end("b"), 0.7)
    for m in DATE_WITH_TIME.finditer(text):
        add(m.start("a"), m.end("b"), 0.7)
    for m in DATE_RANGE.finditer(text):
        add(m.start(), m.end(), 0.7)
    for m in BARE_MONTH_DAY.finditer(text):
        before = text[max(0, m.start() - 24) : m.start()]
        if not _SCORE_BEFORE.search(before) and not MEDICAL_ENDINGS.search(before.rstrip()):
            add(m.start(), m.end(), 0.6)
    for m in DAY_DASH_MONTH.finditer(text):
        add(m.start(), m.end(), 0.8)
    for m in WEEKDAY.finditer(text):
        if not _recurring_day(text, m):
            add(m.start(), m.end(), 0.6)
    for m in [*MONTH_ALONE.finditer(text), *MAY_MARCH.finditer(text)]:
        add(m.start("mon"), m.end("mon"), 0.6)
    for m in HOLIDAY.finditer(text):
        add(m.start(), m.end(), 0.5)
    spans: list[Span] = []
    for start, end, confidence in found:
        a, b = shadow.to_original(start, end)
        spans.append(Span(a, b, Kind.DATE, shadow.original[a:b], confidence, "rule:date"))
    return spans


_EVERY_BEFORE = re.compile(r"\b(?:every|each|alternate|other|on\s+alternate)\s+$", re.IGNORECASE)
_DAY_LIST_GAP = r"\s*(?:,|/|&|\band\b|\bor\b|-)\s*(?:and\s+|or\s+)?"
_ANY_DAY = r"\b(?:" + "|".join(sorted(WEEKDAY_ABBREVIATIONS)) + r"|(?:mon|tues|wednes|thurs|fri|satur|sun)days?)\b\.?"
_NEXT_DAY = re.compile(_DAY_LIST_GAP + _ANY_DAY, re.IGNORECASE)
_PREVIOUS_DAY = re.compile(_ANY_DAY + _DAY_LIST_GAP + "$", re.IGNORECASE)


def _recurring_day(text: str, m: re.Match[str]) -> bool:
    """A schedule, not a date: "every Monday", "Mondays", "Monday, Wednesday and Friday" (a dosing or dialysis
    timetable says nothing about the patient and the model needs it)."""
    if m.group().lower().endswith("days") or _EVERY_BEFORE.search(text[max(0, m.start() - 20) : m.start()]):
        return True
    return bool(_NEXT_DAY.match(text, m.end()) or _PREVIOUS_DAY.search(text[max(0, m.start() - 30) : m.start()]))


@functools.lru_cache(maxsize=512)  # called for every date mention while placeholders are assigned
def parse_date(text: str) -> DateParts | None:
    """Year, month and day of a detected date's text, as far as the text tells them."""
    shadow = ShadowText(text).text
    best: DateParts | None = None
    for regex, _confidence in DATE_PATTERNS:
        m = regex.search(shadow)
        if m:
            parts = _parts(m)
            if parts and (best is None or _completeness(parts) > _completeness(best)):
                best = parts
    if best is None:
        m2 = re.search(r"(?P<a>[01]?\d)/(?P<b>[0-3]?\d)", shadow)
        if m2:
            best = _numeric_parts(m2.group("a"), m2.group("b"), None)
    return best


def _completeness(parts: DateParts) -> int:
    return sum(x is not None for x in (parts.year, parts.month, parts.day))
