"""Quantities as people say them: frequencies ("twice a day", "bid", "every 4 to 6 hours"), dates ("March 14",
"the 14th of March") and durations without digits ("a couple of weeks", "the past year"), plus the small helpers
quantities.py reads numbers with.
"""

from __future__ import annotations

from app.core.grounding.terms import Term

TIME = {  # unit -> days
    "second": 1 / 86400, "seconds": 1 / 86400, "sec": 1 / 86400, "secs": 1 / 86400, "minute": 1 / 1440,
    "minutes": 1 / 1440, "min": 1 / 1440, "mins": 1 / 1440, "hour": 1 / 24, "hours": 1 / 24, "hr": 1 / 24,
    "hrs": 1 / 24, "day": 1.0, "days": 1.0, "night": 1.0, "nights": 1.0, "week": 7.0, "weeks": 7.0, "wk": 7.0,
    "wks": 7.0, "month": 30.44, "months": 30.44, "mo": 30.44, "mos": 30.44, "year": 365.25, "years": 365.25,
    "yr": 365.25, "yrs": 365.25,
}
_VAGUE = {"couple": (2.0, 2.0), "few": (2.0, 4.0), "several": (3.0, 7.0), "a": (1.0, 1.0), "an": (1.0, 1.0),
          "one": (1.0, 1.0)}
# per-day rates
_PER = {"day": 1.0, "daily": 1.0, "night": 1.0, "nightly": 1.0, "morning": 1.0, "evening": 1.0, "week": 1 / 7,
        "weekly": 1 / 7, "month": 1 / 30.44, "monthly": 1 / 30.44, "hour": 24.0}
_TIMES = {"once": 1.0, "twice": 2.0, "thrice": 3.0, "three times": 3.0}
_ABBREVIATED = {"bid": 2.0, "b.i.d": 2.0, "tid": 3.0, "t.i.d": 3.0, "qid": 4.0, "q.i.d": 4.0, "qd": 1.0,
                "q.d": 1.0, "qhs": 1.0, "qam": 1.0, "qpm": 1.0, "daily": 1.0, "nightly": 1.0, "weekly": 1 / 7,
                "monthly": 1 / 30.44, "bedtime": 1.0}
_MONTHS = {m: i + 1 for i, m in enumerate(["january", "february", "march", "april", "may", "june", "july", "august",
                                            "september", "october", "november", "december"])}
_MONTHS |= {m[:3]: i for m, i in list(_MONTHS.items())} | {"sept": 9}
_RANGE_WORDS = {"to", "or", "through", "and"}
_RECENT = {"past", "last", "next"}  # "the past week": one week
_STARTERS = (set(_ABBREVIATED) | set(_TIMES) | set(_MONTHS) | set(_VAGUE) | _RECENT
             | {"as needed", "prn", "every", "per", "at", "the", "aged", "age", "half"})


def may_start(term: Term) -> bool:
    """Whether a quantity said in words may start at this term (most words start none)."""
    word = term.word.rstrip(".")
    return bool(term.num) or word in _STARTERS or term.norm in ("twice", "three times")


def number(num: str) -> float | None:
    """The value of a number as the terms write it ("12.5"), None for a ratio ("140/90")."""
    try:
        return float(num)
    except ValueError:
        return None


def words_at(terms: list[Term], i: int, n: int) -> list[str]:
    return [t.word for t in terms[i : i + n]]


def shown(amount: float) -> str:
    return f"{amount:g}"


def frequency_at(terms: list[Term], i: int) -> tuple[float, float, int] | None:
    """(low, high per day, terms used) for a frequency starting at terms[i]: "twice a day", "bid", "every 4 hours"."""
    word = terms[i].word.rstrip(".")
    if word in _ABBREVIATED:
        return _ABBREVIATED[word], _ABBREVIATED[word], 1
    if word in ("as needed", "prn"):
        return 0.0, 0.0, 1
    nxt = words_at(terms, i + 1, 3)
    times: tuple[float, float, int] | None = None
    if terms[i].norm in ("twice", "three times") or word in _TIMES:
        count = _TIMES.get(word, 2.0 if terms[i].norm == "twice" else 3.0)
        times = (count, count, 1)
    elif terms[i].num and nxt[:1] in (["times"], ["time"]) and number(terms[i].num) is not None:
        count = float(terms[i].num)
        times = (count, count, 2)
    elif terms[i].num and nxt[:1] and nxt[0] in _RANGE_WORDS and nxt[2:3] == ["times"] and i + 2 < len(terms):
        first, second = number(terms[i].num), number(terms[i + 2].num)  # "four to five times a week"
        if first is not None and second is not None:
            times = (min(first, second), max(first, second), 4)
    elif terms[i].num and i + 1 < len(terms) and terms[i + 1].num and nxt[1:2] == ["times"]:
        first, second = number(terms[i].num), number(terms[i + 1].num)  # "four five times a week", as it is said
        if first is not None and second is not None and 0 < second - first <= 2:
            times = (first, second, 3)
    if times is not None:
        low, high, used = times
        rest = words_at(terms, i + used, 2)
        if rest[:1] and rest[0] in ("a", "per", "each", "every", "an") and rest[1:] and rest[1] in _PER:
            return low * _PER[rest[1]], high * _PER[rest[1]], used + 2
        if rest[:1] and rest[0] in _PER:
            return low * _PER[rest[0]], high * _PER[rest[0]], used + 1
        return None
    counted = _days_a_week(terms, i)
    if counted is not None:
        return counted
    if word == "every" and nxt:
        if nxt[0] == "other" and nxt[1:2] == ["day"]:
            return 0.5, 0.5, 3
        if nxt[0] in ("day", "night", "morning", "evening"):
            return 1.0, 1.0, 2
        if terms[i + 1].num and len(nxt) >= 2:
            low = high = number(terms[i + 1].num) or 0.0
            used = 2
            if nxt[1] in _RANGE_WORDS and len(nxt) >= 3 and i + 3 < len(terms) and terms[i + 3].num:
                second = number(terms[i + 3].num) or low
                low, high, used = min(low, second), max(low, second), 4
            unit = terms[i + used].word if i + used < len(terms) else ""
            if unit in ("hour", "hours") and low > 0 and high > 0:
                return 24 / high, 24 / low, used + 1
    if word in ("a", "per") and nxt[:1] and nxt[0] in ("day", "week", "night") and i > 0 and terms[i - 1].unit:
        return _PER[nxt[0]], _PER[nxt[0]], 2  # "20 mg a day"
    if word == "at" and nxt[:1] == ["bedtime"]:
        return 1.0, 1.0, 2
    return None


_DAYS = {"day", "days", "night", "nights", "morning", "mornings", "evening", "evenings"}


def _days_a_week(terms: list[Term], i: int) -> tuple[float, float, int] | None:
    """ "a few nights a week", "three days per week": how many days of a week, as a rate per day."""
    said = words_at(terms, i, 5)
    skip = 1 if said[:1] == ["a"] and said[1:2] and said[1] in _VAGUE else 0
    if skip:
        low, high = _VAGUE[said[1]]
    elif terms[i].num and number(terms[i].num) is not None:
        low = high = number(terms[i].num) or 0.0
    else:
        return None
    rest = said[skip + 1 :]
    if rest[:1] and rest[0] in _DAYS and rest[1:2] and rest[1] in ("a", "per", "each", "every") and rest[2:3] and (
            rest[2] in ("week", "month")):
        per = _PER[rest[2]]
        return low * per, high * per, skip + 4
    return None


def frequency_shown(low: float, high: float) -> str:
    if low == high == 0:
        return "as needed"
    names = {1.0: "once daily", 2.0: "twice daily", 3.0: "three times daily", 4.0: "four times daily"}
    if low == high and low in names:
        return names[low]
    if low == high and abs(low * 7 - round(low * 7)) < 1e-6:
        return f"{round(low * 7)} times weekly"
    if high < 1 and abs(low * 7 - round(low * 7)) < 1e-6 and abs(high * 7 - round(high * 7)) < 1e-6:
        return f"{round(low * 7)}-{round(high * 7)} times weekly"
    return f"{shown(low)}-{shown(high)} times daily" if low != high else f"{shown(low)} times daily"


_MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December"]


def date_shown(key: str) -> str:
    """ "3-14" as a reason shows it: "March 14"."""
    month, _dash, day = key.partition("-")
    return f"{_MONTH_NAMES[int(month) - 1]} {day}"


def date_at(terms: list[Term], i: int) -> tuple[str, int] | None:
    """("month-day", terms used) for "March 14", "14th of March", "3/14/2023"."""
    word = terms[i].word.rstrip(".")
    if word in _MONTHS and i + 1 < len(terms) and terms[i + 1].num.isdigit():
        day = int(terms[i + 1].num)
        if 1 <= day <= 31:
            return f"{_MONTHS[word]}-{day}", 2
    if terms[i].num.isdigit() and i + 1 < len(terms):
        of = 1 if terms[i + 1].word == "of" else 0
        month = terms[i + 1 + of].word if i + 1 + of < len(terms) else ""
        if month in _MONTHS and 1 <= int(terms[i].num) <= 31:
            return f"{_MONTHS[month]}-{int(terms[i].num)}", 2 + of
    parts = word.split("/")
    if len(parts) == 3 and all(p.isdigit() for p in parts) and 1 <= int(parts[0]) <= 12:
        return f"{int(parts[0])}-{int(parts[1])}", 1
    return None


def duration_words(terms: list[Term], i: int) -> tuple[float, float, int] | None:
    """A duration said without digits: "a week", "a couple of days", "a few months", "the past year"."""
    said = words_at(terms, i, 4)
    skip = 1 if said[0] in ("a", "the") and said[1:2] and (said[1] in _VAGUE or said[1] in _RECENT) else 0
    word = said[skip] if skip < len(said) else ""
    if word in _RECENT:
        return (1.0, 1.0, skip + 1) if skip + 1 < len(said) and said[skip + 1] in TIME else None
    if word not in _VAGUE:
        return None
    low, high = _VAGUE[word]
    used = skip + 1 + (1 if skip + 1 < len(said) and said[skip + 1] == "of" else 0)
    if used >= len(said) or said[used] not in TIME:
        return None
    if words_at(terms, i + used + 1, 3) == ["and", "a", "half"]:  # "a year and a half": the half is in the unit
        return low + 0.5, high + 0.5, used
    return low, high, used
