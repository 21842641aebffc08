"""Spoken numbers and units written the way a clinical note writes them.

"fifty milligrams" -> "50 mg", "one forty over ninety" -> "140/90", "point five" -> "0.5" (always a leading zero:
".5 mg" is read as "5 mg"), and a dose never gets a trailing zero ("5.0 mg" is read as "50 mg"; both are on the
ISMP list of error-prone abbreviations). Whisper often writes digits itself ("500 milligrams", "140 over 90",
"gift.5 mg"), so every rule accepts digits as well as words.

Bare counts are left alone ("one of the patients", "two weeks"): only numbers with a unit, decimals and
blood-pressure readings are rewritten, where the meaning is unambiguous.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from app.core.dictation.tokens import Token, merge, spoken_at

SMALL = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
DIGIT_WORDS = {**{k: v for k, v in SMALL.items() if v < 10}, "oh": 0, "o": 0}

# Spoken unit (lower-case words) -> written unit. Longest spoken form wins.
UNITS: dict[tuple[str, ...], str] = {}
for _written, _spoken_forms in {
    "mg": ["milligram", "milligrams", "mg", "mgs"],
    "mcg": ["microgram", "micrograms", "mcg", "µg", "μg", "ug"],
    "g": ["gram", "grams", "g", "gm"],
    "kg": ["kilogram", "kilograms", "kilo", "kilos", "kg", "kgs"],
    "mL": ["milliliter", "milliliters", "millilitre", "millilitres", "ml", "mls", "cc"],
    "L": ["liter", "liters", "litre", "litres"],
    "mmol": ["millimole", "millimoles", "mmol"],
    "mEq": ["milliequivalent", "milliequivalents", "meq"],
    "units": ["unit", "units"],
    "%": ["percent", "per cent", "%"],
    "mmHg": ["millimeters of mercury", "millimetres of mercury", "mmhg"],
    "bpm": ["beats per minute", "bpm"],
    "°C": ["degrees celsius", "degree celsius", "degrees centigrade"],
    "cm": ["centimeter", "centimeters", "centimetre", "centimetres", "cm"],
    "mm": ["millimeter", "millimeters", "millimetre", "millimetres", "mm"],
}.items():
    for _form in _spoken_forms:
        UNITS[tuple(_form.split())] = _written
PER_UNITS = {
    "kilogram": "kg", "kilograms": "kg", "kilo": "kg", "kg": "kg", "hour": "h", "hr": "h", "day": "day",
    "minute": "min", "min": "min", "deciliter": "dL", "decilitre": "dL", "dl": "dL", "liter": "L", "litre": "L",
    "l": "L", "dose": "dose",
}
# A dose in these units never carries a trailing zero.
DOSE_UNITS = {"mg", "mcg", "g", "mL", "units", "mmol", "mEq"}
# Before a bare "point five" these mean "point" is a noun ("at this point five patients...").
NOT_A_DECIMAL_BEFORE = {"this", "that", "the", "a", "an", "which", "what", "some", "any", "each", "every", "no", "one"}
BP_SYSTOLIC = range(50, 301)
BP_DIASTOLIC = range(20, 201)

_DIGITS = re.compile(r"^\d{1,3}(?:,\d{3})+$|^\d+$")
_DECIMAL = re.compile(r"^\d*\.\d+$")
_CLOCK = re.compile(r"^([12]):([0-5]\d)$")  # Whisper writes a spoken "one forty" as "1:40"


def _words(token: Token) -> list[str]:
    return token.lower.split("-")


def _a_counts_one(tokens: Sequence[Token], i: int) -> bool:
    """ "a" is the number one before "hundred" or "thousand" ("a hundred and eighty over eighty")."""
    return (
        i + 1 < len(tokens) and not tokens[i].trail and not tokens[i + 1].formatted
        and tokens[i + 1].lower in ("hundred", "thousand")
    )


def _cardinal(tokens: Sequence[Token], i: int) -> tuple[int, int] | None:
    """A number spelled in words starting at token i: (value, tokens used), or None."""
    total = current = 0
    last = ""  # kind of the last word: small, tens, hundred, thousand, and
    used = 0
    state = (0, 0, "")
    for index, token in enumerate(tokens[i:], start=i):
        if token.formatted:
            break
        total, current, last = state
        ok = True
        for word in _words(token):
            starts_group = last in ("", "hundred", "thousand", "and")
            if word == "a" and last == "" and _a_counts_one(tokens, index):
                current, last = 1, "small"
            elif word in SMALL and (starts_group or (last == "tens" and 0 < SMALL[word] < 10)):
                current += SMALL[word]
                last = "small"
            elif word in TENS and starts_group:
                current += TENS[word]
                last = "tens"
            elif word == "hundred" and last == "small" and current < 10:
                current *= 100
                last = "hundred"
            elif word == "thousand" and last in ("small", "tens", "hundred"):
                total += current * 1000
                current = 0
                last = "thousand"
            elif word == "and" and last in ("hundred", "thousand"):
                last = "and"
            else:
                ok = False
                break
        if not ok:
            break
        state = (total, current, last)
        used += 1
    total, current, last = state
    if last == "and":
        used -= 1
    if used == 0:
        return None
    return total + current, used


def _digits_value(token: Token) -> str | None:
    if token.formatted or token.lead:
        return None
    core = token.core
    if _DIGITS.match(core):
        return core.replace(",", "")
    if _DECIMAL.match(core):
        return ("0" + core) if core.startswith(".") else core
    return None


def _fraction_digits(tokens: Sequence[Token], i: int) -> tuple[str, int]:
    """Digits spoken after "point": words ("five", "oh") one by one, or one digit token ("2 point 5")."""
    digits = ""
    used = 0
    for token in tokens[i:]:
        if token.formatted:
            break
        if token.lower in DIGIT_WORDS:
            digits += str(DIGIT_WORDS[token.lower])
        elif token.core.isdigit() and not digits:
            digits = token.core
            used += 1
            break
        else:
            break
        used += 1
        if token.trail:
            break
    return digits, used


def _number(tokens: Sequence[Token], i: int) -> tuple[str, int] | None:
    """A number (digits or words, with an optional spoken decimal part) at token i: (written value, tokens used)."""
    digits = _digits_value(tokens[i])
    if digits is not None:
        value, used = digits, 1
    else:
        spelled = _cardinal(tokens, i)
        if spelled is None:
            return None
        value, used = str(spelled[0]), spelled[1]
    point = i + used
    if "." not in value and point < len(tokens) and tokens[point].lower == "point" and not tokens[point - 1].trail:
        fraction, fraction_used = _fraction_digits(tokens, point + 1)
        if fraction:
            value, used = f"{value}.{fraction}", used + 1 + fraction_used
    return value, used


def _unit(tokens: Sequence[Token], i: int) -> tuple[str, int] | None:
    """A unit at token i, with any "per kilogram" / "per day" suffixes: (written unit, tokens used)."""
    best: tuple[str, int] | None = None
    for spoken, written in UNITS.items():
        if spoken_at(tokens, i, spoken) and (best is None or len(spoken) > best[1]):
            best = (written, len(spoken))
    if best is None:
        return None
    written, used = best
    while (
        i + used + 1 < len(tokens)
        and not tokens[i + used - 1].trail
        and tokens[i + used].lower == "per"
        and tokens[i + used + 1].lower in PER_UNITS
    ):
        written += "/" + PER_UNITS[tokens[i + used + 1].lower]
        used += 2
    return written, used


def _strip_trailing_zero(value: str) -> str:
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value or "0"


def _bp_part(tokens: Sequence[Token], i: int, systolic: bool) -> tuple[int, int] | None:
    token = tokens[i]
    clock = _CLOCK.match(token.core) if systolic and not token.formatted else None
    if clock:
        return int(clock.group(1)) * 100 + int(clock.group(2)), 1
    # "one forty", "one oh five": a hundreds digit, then the rest, as readings are spoken.
    if systolic and token.lower in ("one", "two") and i + 1 < len(tokens) and not token.trail:
        rest = tokens[i + 1]
        if rest.lower == "oh" and i + 2 < len(tokens) and tokens[i + 2].lower in DIGIT_WORDS:
            return SMALL[token.lower] * 100 + DIGIT_WORDS[tokens[i + 2].lower], 3
        below_hundred = _cardinal(tokens, i + 1)
        if below_hundred is not None and 10 <= below_hundred[0] < 100:
            return SMALL[token.lower] * 100 + below_hundred[0], 1 + below_hundred[1]
    number = _number(tokens, i)
    if number is None or not number[0].isdigit():
        return None
    return int(number[0]), number[1]


def _blood_pressure(tokens: Sequence[Token], i: int) -> tuple[str, int] | None:
    first = _bp_part(tokens, i, systolic=True)
    if first is None:
        return None
    over = i + first[1]
    if over + 1 >= len(tokens) or tokens[over].lower != "over" or tokens[over - 1].trail:
        return None
    second = _bp_part(tokens, over + 1, systolic=False)
    if second is None or first[0] not in BP_SYSTOLIC or second[0] not in BP_DIASTOLIC:
        return None
    return f"{first[0]}/{second[0]}", first[1] + 1 + second[1]


def format_numbers(tokens: Sequence[Token]) -> list[Token]:
    """Rewrite numbers with units, decimals and blood pressures; everything else passes through unchanged."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.formatted:
            out.append(token)
            i += 1
            continue
        reading = _blood_pressure(tokens, i)
        if reading is not None:
            out.append(merge(tokens[i : i + reading[1]], reading[0]))
            i += reading[1]
            continue
        bare_point = token.lower == "point"
        if bare_point:
            fraction, fraction_used = _fraction_digits(tokens, i + 1) if not token.trail else ("", 0)
            number: tuple[str, int] | None = ("0." + fraction, 1 + fraction_used) if fraction else None
        else:
            number = _number(tokens, i)
        if number is None:
            out.append(token)
            i += 1
            continue
        value, used = number
        unit = _unit(tokens, i + used) if not tokens[i + used - 1].trail else None
        if bare_point and unit is None and out and out[-1].lower in NOT_A_DECIMAL_BEFORE:
            out.append(token)
            i += 1
            continue
        if unit is not None:
            written, unit_used = unit
            if written.split("/")[0] in DOSE_UNITS:
                value = _strip_trailing_zero(value)
            if written == "units" and value == "1":
                written = "unit"
            text = f"{value}%" if written == "%" else f"{value} {written}"
            out.append(merge(tokens[i : i + used + unit_used], text))
            i += used + unit_used
        elif "." in value:
            out.append(merge(tokens[i : i + used], value))
            i += used
        else:
            out.append(token)  # a bare count: leave it as spoken
            i += 1
    return out
