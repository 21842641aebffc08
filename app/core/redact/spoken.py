"""Dictated numbers as digits, so one set of identifier rules reads typed and spoken text alike.

Speech recognisers often write what was said: "five five five one two one two", "march third nineteen fifty",
"ninety two year old". `ShadowText` is the input with each run of number words replaced by digits ("5551212",
"march 3rd 1950", "92 year old") plus the map back to the input's offsets, so a rule that matches the shadow reports
a span of the original words.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

UNITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15,
    "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}  # fmt: skip
MULTIPLIERS = {"hundred": 100, "thousand": 1000}
REPEATS = {"double": 2, "triple": 3}
ZERO_WORDS = {"oh", "o"}  # only inside a run: "nineteen oh five", "five oh two"

NUMBER_WORDS = set(UNITS) | set(TEENS) | set(TENS) | set(MULTIPLIERS) | set(REPEATS) | ZERO_WORDS
WORD_RE = re.compile(r"[A-Za-z]+")
# A quick test that saves the tokenising pass for texts with no number words at all (most typed notes).
_ANY_NUMBER_WORD = re.compile(
    r"\b(?:" + "|".join(sorted(set(UNITS) | set(TEENS) | set(TENS) | set(ORDINALS), key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)


def _suffix(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def _parse_run(words: list[str]) -> str:
    """Digits for a run of number words: digit-by-digit, paired ("fifty five"), years ("nineteen fifty")."""
    out: list[str] = []
    i = 0
    n = len(words)

    def at(k: int) -> str:
        return words[k] if k < n else ""

    while i < n:
        w = words[i]
        if w in REPEATS and at(i + 1) in UNITS:
            out.append(str(UNITS[at(i + 1)]) * REPEATS[w])
            i += 2
        elif w in UNITS or w in ZERO_WORDS:
            value = UNITS.get(w, 0)
            if at(i + 1) in MULTIPLIERS:
                total, i = _parse_hundreds(words, i)
                out.append(str(total))
                continue
            out.append(str(value))
            i += 1
        elif w in TEENS:
            nxt = at(i + 1)
            if nxt in TENS:  # nineteen fifty (four)
                year = TEENS[w] * 100 + TENS[nxt]
                i += 2
                if at(i) in UNITS and UNITS[at(i)] > 0:
                    year += UNITS[at(i)]
                    i += 1
                out.append(str(year))
            elif nxt in TEENS:  # nineteen nineteen
                out.append(str(TEENS[w] * 100 + TEENS[nxt]))
                i += 2
            elif nxt in ZERO_WORDS and at(i + 2) in UNITS:  # nineteen oh five
                out.append(f"{TEENS[w]}0{UNITS[at(i + 2)]}")
                i += 3
            elif nxt == "hundred":
                total, i = _parse_hundreds(words, i)
                out.append(str(total))
            else:
                out.append(str(TEENS[w]))
                i += 1
        elif w in TENS:
            nxt = at(i + 1)
            if nxt in UNITS and UNITS[nxt] > 0:
                out.append(str(TENS[w] + UNITS[nxt]))
                i += 2
            elif w == "twenty" and (nxt in TENS or nxt in TEENS):  # twenty twenty (three), twenty nineteen
                value = TENS.get(nxt, 0) or TEENS.get(nxt, 0)
                i += 2
                if nxt in TENS and at(i) in UNITS and UNITS[at(i)] > 0:
                    value += UNITS[at(i)]
                    i += 1
                out.append(f"20{value:02d}")
            else:
                out.append(str(TENS[w]))
                i += 1
        else:  # a stray multiplier or "and": keep the run's digits honest by skipping it
            i += 1
    return "".join(out)


def _parse_hundreds(words: list[str], i: int) -> tuple[int, int]:
    """'two thousand and three' -> 2003, 'one hundred twenty' -> 120; returns (value, next index)."""
    total = 0
    current = 0
    n = len(words)
    while i < n:
        w = words[i]
        if w in UNITS:
            current += UNITS[w]
        elif w in TEENS:
            current += TEENS[w]
        elif w in TENS:
            current += TENS[w]
        elif w == "hundred":
            current = max(current, 1) * 100
        elif w == "thousand":
            total += max(current, 1) * 1000
            current = 0
        elif w == "and":
            pass
        else:
            break
        i += 1
    return total + current, i


@dataclass(frozen=True)
class _Replacement:
    orig_start: int
    orig_end: int
    shadow_start: int
    shadow_end: int


class ShadowText:
    """The text with spoken numbers as digits, and the way back to the original offsets."""

    def __init__(self, original: str) -> None:
        self.original = original
        self._repl: list[_Replacement] = []
        self.text = self._build(original) if _ANY_NUMBER_WORD.search(original) else original
        self._starts = [r.shadow_start for r in self._repl]

    @property
    def changed(self) -> bool:
        return bool(self._repl)

    def _build(self, text: str) -> str:
        tokens = [(m.start(), m.end(), m.group().lower()) for m in WORD_RE.finditer(text)]
        pieces: list[str] = []
        pos = 0  # original offset copied so far
        shadow_len = 0
        i = 0
        while i < len(tokens):
            j, digits = self._run_at(text, tokens, i)
            if not digits:
                i += 1
                continue
            start, end = tokens[i][0], tokens[j - 1][1]
            pieces.append(text[pos:start])
            shadow_len += start - pos
            pieces.append(digits)
            self._repl.append(_Replacement(start, end, shadow_len, shadow_len + len(digits)))
            shadow_len += len(digits)
            pos = end
            i = j
        pieces.append(text[pos:])
        return "".join(pieces)

    @staticmethod
    def _run_at(text: str, tokens: list[tuple[int, int, str]], i: int) -> tuple[int, str]:
        """The run of number words starting at token i: (index after it, digits), or (i, "") if none."""
        words: list[str] = []
        j = i
        ordinal = ""
        while j < len(tokens):
            _start, _end, word = tokens[j]
            if j > i:
                gap = text[tokens[j - 1][1] : tokens[j][0]]
                # Words of one number are separated by spaces, a hyphen or a comma ("five five five, one two").
                if len(gap) > 3 or gap.strip(" ,-") or "\n" in gap:
                    break
            if word in ORDINALS:
                ordinal = word
                j += 1
                break
            if word in NUMBER_WORDS or (word == "and" and words and words[-1] in MULTIPLIERS):
                words.append(word)
                j += 1
                continue
            break
        while words and (words[-1] == "and" or words[-1] in REPEATS):
            words.pop()
            j -= 1
        # "oh" and "o" alone are interjections, not zeros.
        if not ordinal and (not words or all(w in ZERO_WORDS for w in words)):
            return i, ""
        if ordinal:
            prefix = _parse_run(words) if words else ""
            tens = int(prefix) if prefix.isdigit() and words and words[-1] in TENS else 0
            value = tens + ORDINALS[ordinal] if tens else ORDINALS[ordinal]
            lead = prefix if prefix and not tens else ""
            digits = (lead + " " if lead else "") + f"{value}{_suffix(value)}"
            return j, digits
        return j, _parse_run(words)

    def spoken_numbers(self) -> list[tuple[int, int]]:
        """Shadow ranges of the numbers that were spoken in words."""
        return [(r.shadow_start, r.shadow_end) for r in self._repl]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Original offsets of the shadow range [start, end)."""
        if not self._repl:
            return start, end
        return self._map(start, is_end=False), self._map(end, is_end=True)

    def _map(self, x: int, is_end: bool) -> int:
        k = bisect_right(self._starts, x if not is_end else x - 1) - 1
        if k < 0:
            return x
        r = self._repl[k]
        if r.shadow_start <= (x - 1 if is_end else x) < r.shadow_end:
            return r.orig_end if is_end else r.orig_start
        return x - r.shadow_end + r.orig_end
