"""Clinical text -> what the voice should say.

Piper (through espeak-ng) reads "mg" as "m g", "IV" as "Roman four", "140/90" as "one hundred forty slash ninety",
and a decimal point can end a sentence. The rules table (resources/tts/normalisation.toml) says what to say instead;
this module applies it in an order that keeps the rules from fighting:

placeholders -> markdown -> dates and times -> dotted abbreviations -> dosing intervals -> "N/M" -> ranges and
minus signs -> units after numbers -> words -> symbols -> ordinals -> numbers -> tidy.

Dates come before ranges (2024-03-12 is not "2024 to 03 to 12"), units before numbers (so "1 mg" can be singular),
and numbers last, so every rule sees digits and the voice sees only words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from app.core.tts import spoken_numbers as sn
from app.core.tts.rules import SpeechRules, load_rules

DateOrder = Literal["month_first", "day_first"]

_NUMBER = r"\d+(?:\.\d+)?"
_PLACEHOLDER = re.compile(r"\[([A-Z]+(?:_[A-Z]+)*)(?:_\d+)?(?:\s*\([^)\]\n]*\))?\]")
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\([^)\n]*\)")
_MD_LINE_START = re.compile(r"^[ \t]*(?:#{1,6}[ \t]+|[-*•+][ \t]+|>[ \t]*)", re.MULTILINE)
_MD_MARKS = re.compile(r"\*\*|__|`+|(?<!\w)\*(?=\S)|(?<=\S)\*(?!\w)")
_TABLE_PIPES = re.compile(r"[ \t]*\|[ \t]*")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_SLASH_DATE = re.compile(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{4}|\d{2})\b")
_MONTH_NUMBER = {m[:3]: i + 1 for i, m in enumerate(sn.MONTHS)}
_MONTH = (
    r"(January|February|March|April|May|June|July|August|September|October|November|December|"
    r"(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?)"
)
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r"(?:,?\s+(\d{4}))?\b")
_MONTH_DAY = re.compile(r"\b" + _MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(\d{4})\b)?")
_CLOCK = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b(?!:)")
_EVERY_HOURS = re.compile(r"\bq\.?\s?(\d+)(?:\s*[-–]\s*(\d+))?\s*(?:h|hr|hrs|hours?)\b\.?", re.IGNORECASE)
_SLASH_NUMBERS = re.compile(rf"(?<![\w/.])({_NUMBER})\s*/\s*({_NUMBER})(?![\w/]|\.\d)")
_RANGE_DASH = re.compile(r"(?<=\d)\s*[-–—]\s*(?=\.?\d)")
_MINUS = re.compile(r"(?<![\w)\]])[-−–](?=\.?\d)")
_WORD_DASH_NUMBER = re.compile(r"(?<=[A-Za-z])-(?=\d)")  # "COVID-19" -> "COVID 19"
_LOOSE_DASH = re.compile(r"\s[-–—]+\s")  # " - " between words is a pause
_ORDINAL = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b")
_DIGITS = re.compile(r"(?<![\d.])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?!\d)|(?<![\d.])\.\d+(?!\d)")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?])")
_REPEATED_PUNCT = re.compile(r"([,;:])(?:\s*[,;:])+")
_TERMINAL = re.compile(r"[.!?…][\"')\]”’*]*$")


def _alternation(keys: Iterable[str]) -> str:
    return "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))


class ClinicalNormaliser:
    """Turns one sentence (or any text) of an answer into words a voice reads correctly. Pure; thread-safe."""

    def __init__(self, rules: SpeechRules | None = None, date_order: DateOrder = "month_first") -> None:
        self.rules = rules or load_rules()
        self.date_order = date_order
        r = self.rules
        self._inside = r.inside_forms()
        self._inside_re = re.compile(r"(?<![\w.])(" + _alternation(self._inside) + r")(?!\w)")
        # Dosing abbreviations in any case (B.I.D.), and the last full stop of "b.i.d." is optional.
        self._final = {k.lower().rstrip("."): v for k, v in r.final_abbreviations.items()}
        optional_stop = [re.escape(k.rstrip(".")) + (r"\.?" if k.count(".") > 1 else r"\.") for k in
                         sorted(r.final_abbreviations, key=len, reverse=True)]
        self._final_re = re.compile(r"(?<![\w.])(" + "|".join(optional_stop) + r")(?!\w)", re.IGNORECASE)
        unit = "(?:" + _alternation(r.units) + ")"
        self._unit_re = re.compile(
            rf"(?<![\w.])({_NUMBER}|\d{{1,3}}(?:,\d{{3}})+)(\s?)({unit}(?:/{unit})*|(?:/{unit})+)(?!\w)"
        )
        self._words_re = re.compile(r"(?<![\w/])(" + _alternation(r.words) + r")(?![\w/])")
        self._symbols_re = re.compile(_alternation(r.symbols))

    def normalise(self, text: str) -> str:
        ended = bool(_TERMINAL.search(text.strip()))
        text = _PLACEHOLDER.sub(self._placeholder, text)
        text = self._markdown(text)
        text = _ISO_DATE.sub(self._iso_date, text)
        text = _SLASH_DATE.sub(self._slash_date, text)
        text = _DAY_MONTH.sub(self._day_month, text)
        text = _MONTH_DAY.sub(self._month_day, text)
        text = _CLOCK.sub(lambda m: sn.clock_time(int(m[1]), int(m[2])), text)
        text = self._inside_re.sub(lambda m: self._inside[m[1]], text)
        text = self._final_re.sub(lambda m: self._final[m[1].lower().rstrip(".")], text)
        text = _EVERY_HOURS.sub(self._every_hours, text)
        text = _SLASH_NUMBERS.sub(self._slash_numbers, text)
        text = _RANGE_DASH.sub(" to ", text)
        text = _WORD_DASH_NUMBER.sub(" ", text)
        text = _MINUS.sub("minus ", text)
        text = self._unit_re.sub(self._units, text)
        text = self._words_re.sub(lambda m: self.rules.words[m[1]], text)
        text = self._symbols_re.sub(lambda m: " " + self.rules.symbols[m[0]] + " ", text)
        text = _ORDINAL.sub(lambda m: sn.ordinal(int(m[1])), text)
        text = _DIGITS.sub(lambda m: " " + sn.decimal(m[0]) + " ", text)
        return self._tidy(text, ended)

    __call__ = normalise

    # -- steps ---------------------------------------------------------------------------------------------------

    def _placeholder(self, match: re.Match[str]) -> str:
        kind = match[1]
        words = self.rules.placeholders.get(kind)
        if words is None:
            words = self.rules.placeholders.get(kind.split("_")[0], "")
        return words

    @staticmethod
    def _markdown(text: str) -> str:
        text = _MD_LINK.sub(r"\1", text)
        text = _MD_LINE_START.sub("", text)
        text = _MD_MARKS.sub("", text)
        return _TABLE_PIPES.sub(", ", text) if "|" in text else text

    @staticmethod
    def _date_words(year: int | None, month: int, day: int, day_first: bool) -> str:
        month_name = sn.MONTHS[month - 1]
        spoken = f"the {sn.ordinal(day)} of {month_name}" if day_first else f"{month_name} {sn.ordinal(day)}"
        return spoken + (f", {sn.year(year)}" if year is not None else "")

    def _iso_date(self, m: re.Match[str]) -> str:
        year, month, day = int(m[1]), int(m[2]), int(m[3])
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return m[0]
        return self._date_words(year, month, day, self.date_order == "day_first")

    def _slash_date(self, m: re.Match[str]) -> str:
        a, b, year = int(m[1]), int(m[2]), int(m[3])
        if len(m[3]) == 2:
            year += 2000 if year < 50 else 1900
        month_first = self.date_order == "month_first"
        if month_first and a > 12 >= b:
            month_first = False  # 25/12/2024 can only be day first
        elif not month_first and b > 12 >= a:
            month_first = True
        month, day = (a, b) if month_first else (b, a)
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return m[0]
        return self._date_words(year, month, day, not month_first)

    def _day_month(self, m: re.Match[str]) -> str:
        day, month = int(m[1]), _MONTH_NUMBER[m[2][:3]]
        if not 1 <= day <= 31:
            return m[0]
        return self._date_words(int(m[3]) if m[3] else None, month, day, True)

    def _month_day(self, m: re.Match[str]) -> str:
        month, day = _MONTH_NUMBER[m[1][:3]], int(m[2])
        if not 1 <= day <= 31:
            return m[0]
        return self._date_words(int(m[3]) if m[3] else None, month, day, False)

    @staticmethod
    def _every_hours(m: re.Match[str]) -> str:
        hours = m[1] if m[2] is None else f"{m[1]} to {m[2]}"
        unit = "hour" if hours == "1" else "hours"
        return f"every {hours} {unit}"

    def _slash_numbers(self, m: re.Match[str]) -> str:
        fraction = self.rules.fractions.get(f"{m[1]}/{m[2]}")
        return fraction if fraction else f"{m[1]} over {m[2]}"

    def _units(self, m: re.Match[str]) -> str:
        number, written = m[1], m[3]
        # "1 mg" is singular, but not "0.5 to 1 mg" or "1.0 mg".
        before = m.string[max(0, m.start() - 4) : m.start()]
        plural = number != "1" or before.endswith("to ")
        spoken: list[str] = []
        for index, part in enumerate(written.split("/")):
            if not part:
                continue
            singular, many = self.rules.units[part]
            if index == 0:
                spoken.append(many if plural else singular)
            else:
                spoken.append("per " + singular)
        return f"{number} {' '.join(spoken)}"

    @staticmethod
    def _tidy(text: str, ended: bool) -> str:
        text = text.replace("/", " ").replace("*", " ").replace("_", " ")
        text = _LOOSE_DASH.sub(", ", text)
        text = " ".join(text.split())
        text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
        text = _REPEATED_PUNCT.sub(r"\1", text)
        text = text.strip(" ,;:")
        if ended and text and not _TERMINAL.search(text):
            text += "."
        return text
