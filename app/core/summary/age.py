"""A patient's age, as the patient view shows it; and how long ago (or how soon) a date is, in words."""

from __future__ import annotations

from datetime import date


def age_on(dob: date, day: date) -> int:
    """Completed years on `day` (a birthday on 29 February counts on 1 March in other years). A `day` before the
    date of birth is a caller's mistake: ValueError."""
    if day < dob:
        raise ValueError("the day is before the date of birth")
    had_birthday = (day.month, day.day) >= (dob.month, dob.day)
    return day.year - dob.year - (0 if had_birthday else 1)


def age_text(dob: date | None, day: date) -> str:
    """ "59 years", "7 months" under two years, "" without a date of birth (or one in the future)."""
    if dob is None or day < dob:
        return ""
    years = age_on(dob, day)
    if years >= 2:
        return f"{years} years"
    months = (day.year - dob.year) * 12 + day.month - dob.month - (1 if day.day < dob.day else 0)
    return f"{months} month{'s' if months != 1 else ''}"


def said_when(day: date, today: date) -> str:
    """ "today", "3 days ago", "5 weeks ago", "in 2 months", "3 years ago": how a doctor says when, aloud."""
    days = abs((today - day).days)
    if days == 0:
        return "today"
    if days < 14:
        amount, unit = days, "day"
    elif days < 60:
        amount, unit = round(days / 7), "week"
    elif days < 730:
        amount, unit = round(days / 30.44), "month"
    else:
        early, late = sorted((day, today))
        amount, unit = late.year - early.year - ((late.month, late.day) < (early.month, early.day)), "year"
    amount_text = f"{amount} {unit}{'s' if amount != 1 else ''}"
    return f"{amount_text} ago" if day < today else f"in {amount_text}"
