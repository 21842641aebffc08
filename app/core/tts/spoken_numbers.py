"""Numbers as US English words, so the voice never guesses: "0.5" -> "zero point five", "2024" -> "twenty twenty four".

Words are separated by spaces, not hyphens ("forty two"): espeak-ng reads both the same, and plain words are what
the round-trip tests compare.
"""

from __future__ import annotations

_ONES = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL_IRREGULAR = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)


def _below_thousand(n: int) -> list[str]:
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words += [_ONES[hundreds], "hundred"]
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(_TENS[tens])
        if ones:
            words.append(_ONES[ones])
    elif rest or not words:
        words.append(_ONES[rest])
    return words


def cardinal(n: int) -> str:
    """142 -> "one hundred forty two"; -3 -> "minus three"."""
    if n < 0:
        return "minus " + cardinal(-n)
    if n < 1000:
        return " ".join(_below_thousand(n))
    words: list[str] = []
    for scale, name in _SCALES:
        if n >= scale:
            count, n = divmod(n, scale)
            words += [cardinal(count), name]
    if n:
        words += _below_thousand(n)
    return " ".join(words)


def ordinal(n: int) -> str:
    """3 -> "third", 21 -> "twenty first", 40 -> "fortieth"."""
    words = cardinal(n).split()
    last = words[-1]
    if last in _ORDINAL_IRREGULAR:
        words[-1] = _ORDINAL_IRREGULAR[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def digits(text: str) -> str:
    """Each digit on its own: "05" -> "zero five" (decimal places, codes)."""
    return " ".join(_ONES[int(d)] for d in text if d.isdigit())


def decimal(text: str) -> str:
    """A written number with optional thousands commas and decimals: "1,250.75" -> "one thousand two hundred fifty
    point seven five"; ".5" -> "point five"."""
    whole, _, fraction = text.replace(",", "").partition(".")
    spoken = cardinal(int(whole)) if whole else ""
    if fraction:
        spoken = (spoken + " point " + digits(fraction)).strip()
    return spoken


def year(n: int) -> str:
    """How a year is said: 2024 -> "twenty twenty four", 2005 -> "two thousand five", 1905 -> "nineteen oh five"."""
    if 2000 <= n <= 2009 or n < 1100 or n % 1000 == 0:
        return cardinal(n)
    high, low = divmod(n, 100)
    if low == 0:
        return cardinal(high) + " hundred"
    if low < 10:
        return cardinal(high) + " oh " + _ONES[low]
    return cardinal(high) + " " + cardinal(low)


def clock_time(hours: int, minutes: int) -> str:
    """08:30 -> "eight thirty", 14:05 -> "fourteen oh five", 9:00 -> "nine o'clock"."""
    if minutes == 0:
        return cardinal(hours) + " o'clock"
    if minutes < 10:
        return cardinal(hours) + " oh " + _ONES[minutes]
    return cardinal(hours) + " " + cardinal(minutes)
