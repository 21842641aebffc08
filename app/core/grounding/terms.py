"""Words and numbers of a text, normalised the same way on both sides so that a note can be compared with what was
said: "five hundred milligrams" and "500 mg" are one number with one unit, "BP" and "blood pressure" one term,
"Glucophage" and "metformin" one medicine, "coughing" and "cough" one stem.

Spoken numbers go through the dictation formatter (app/core/dictation/numbers.py), which already writes numbers
with units, decimals and blood pressures the way notes do. The dictation tokens it works on carry times, not
character offsets; here their `start` and `end` hold character offsets instead, which its merges keep (first
start, last end), so every formatted number still points at the words it came from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.core.dictation.numbers import _cardinal as spelled_number  # words -> value; no public twin yet
from app.core.dictation.numbers import format_numbers
from app.core.dictation.tokens import Token, merge
from app.core.dictation.tokens import _split_punctuation as split_punctuation  # the dictation's own rule
from app.core.grounding.lexicon import Lexicon
from app.core.grounding.sentences import Sentence


@dataclass(frozen=True, slots=True)
class Term:
    word: str  # lower-case surface words ("blood pressure", "500 mg")
    norm: str  # the compared form: a stem, a synonym group, "rx:<generic>", or "#<number>"
    start: int  # character offsets into the text
    end: int
    sentence: int
    content: bool  # counts for support and can anchor a fact
    num: str = ""  # a number as written in a note ("500", "0.5", "140/90"); also set for ordinal words
    unit: str = ""  # a number's unit from the formatter ("mg", "%", "mmHg"), "" when bare or unknown
    medicine: str = ""  # the generic name when the term names a medicine
    punct: str = ""  # punctuation right after it (",", "?"): where a negation's reach ends


@dataclass(frozen=True)
class Text:
    """A note, a transcript or another source, cut into sentences and terms."""

    text: str
    sentences: list[Sentence]
    terms: list[Term]
    ranges: list[tuple[int, int]]  # per sentence: [first, last) into terms

    def sentence_terms(self, index: int) -> list[Term]:
        first, last = self.ranges[index]
        return self.terms[first:last]


_DIGITS = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?$")
_RATIO = re.compile(r"\d{1,3}/\d{1,3}$")
_ORDINAL = re.compile(r"(\d+)(?:st|nd|rd|th)$")
_FORMATTED = re.compile(r"(\d+(?:\.\d+)?(?:/\d+)?)\s*(.*)$")
_DIGIT_HYPHEN = re.compile(r"\d+(?:\.\d+)?-")
# Words joined by hyphens are compared word by word, as speech recognition writes them apart ("mid-shortness of
# breath", "skin-colored", "x-ray"); not "non-" or "un-" words, whose parts alone would say the opposite.
_WORD_HYPHEN = re.compile(r"(?!non-|un-)[a-z]+(?:-[a-z]+)+$", re.IGNORECASE)
_RANGE = re.compile(r"(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?(?:%|mg|mcg|g|kg|ml|mmhg|cm|mm)?)$", re.IGNORECASE)  # "6-7%"
_GLUED = re.compile(r"(\d+(?:\.\d+)?)(%|°[cf]?|mg|mcg|µg|μg|ug|g|gm|kg|ml|mls|l|mmol|meq|mmhg|cm|mm|x)$", re.I)
_DIMENSION = re.compile(r"(\d+(?:\.\d+)?)x(\d+(?:\.\d+)?)$", re.I)
_SPOKEN_DIGIT = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "oh"}
_COUNTED = {
    "to", "or", "and", "over", "point", "times", "time", "out", "x", "by", "a", "per", "tab", "tabs", "tablet",
    "tablets", "pill", "pills", "puff", "puffs", "capsule", "capsules", "drop", "drops", "cigarette", "cigarettes",
    "pack", "packs", "drink", "drinks", "beer", "beers", "glass", "glasses", "inch", "inches", "view", "views",
    "episode", "episodes", "dose", "doses", "shot", "shots", "second", "seconds", "minute", "minutes", "hour",
    "hours", "day", "days", "night", "nights", "week", "weeks", "month", "months", "year", "years", "teaspoon",
    "tablespoon", "ounce", "ounces", "pound", "pounds", "degree", "degrees", "percent", "unit", "units",
}
_BEFORE_COUNT = {"type", "grade", "stage", "level", "step", "number", "size", "class", "gravida", "para", "take",
                 "takes", "taking", "about", "around", "approximately", "only", "just", "than", "to", "or"}
ORDINALS = {
    "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
    "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15, "sixteenth": 16,
    "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}


def stem(word: str) -> str:
    """A light stemmer: plurals, -ing, -ed and a final e, so "coughs", "coughing" and "coughed" meet; and the
    endings that make an adjective a noun or an adverb, so "severe", "severity" and "severely" meet, and "weak" and
    "weakness"."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ly") and len(word) >= 7:  # "frequently", not "daily", "family" or "weekly"
        word = word[:-2]
    if word.endswith("ness") and len(word) >= 8:  # "weakness", "tightness"; not "illness"
        word = word[:-4]
    elif word.endswith("ity") and len(word) >= 7:  # "severity", "abnormalities", "mobility"; not "city"
        word = word[:-3]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def _core_parts(core: str, start: int) -> list[tuple[str, int]]:
    """A word split where a note glues a number to what follows: "59-year-old", "1-2", "50mg", "1x2"."""
    match = _RANGE.match(core)
    if match:
        second = _core_parts(match.group(2), start + match.start(2))  # "7%": the unit apart, as a dictation has it
        return [(match.group(1), start), ("to", start + match.end(1)), *second]
    match = _DIMENSION.match(core)
    if match:
        return [(match.group(1), start), ("x", start + match.end(1)), (match.group(2), start + match.start(2))]
    match = _GLUED.match(core)
    if match and match.group(2).lower() != "x":
        return [(match.group(1), start), (match.group(2), start + match.start(2))]
    if _DIGIT_HYPHEN.match(core) or _WORD_HYPHEN.match(core):
        parts, offset = [], start
        for part in core.split("-"):
            if part:
                parts.append((part, offset))
            offset += len(part) + 1
        return parts
    return [(core, start)]


def _tokens(text: str, start: int, end: int) -> list[Token]:
    """Dictation tokens of text[start:end] whose `start`/`end` are character offsets."""
    chunks = [(m.group(0), m.start()) for m in re.finditer(r"\S+", text[start:end])]
    tokens: list[Token] = []
    for index, (chunk, offset) in enumerate(chunks):
        offset += start
        lead, core, trail = split_punctuation(chunk)
        if not core:
            following = chunks[index + 1][0].lower() if index + 1 < len(chunks) else ""
            previous = tokens[-1].lower if tokens else ""
            spoken_point = chunk == "." and following in _SPOKEN_DIGIT | {"0", "1", "2", "3", "4", "5", "6", "7",
                                                                          "8", "9"}
            if spoken_point and (previous.isdigit() or spelled_number([tokens[-1]], 0) is not None):
                tokens.append(Token("point", start=offset, end=offset + 1))  # "ninety eight . one"
            elif tokens:
                previous_token = tokens[-1]
                tokens[-1] = Token(previous_token.core, previous_token.lead, previous_token.trail + chunk,
                                   start=previous_token.start, end=previous_token.end)
            continue
        parts = _core_parts(core, offset + len(lead))
        for number, (part, part_start) in enumerate(parts):
            first, last = number == 0, number == len(parts) - 1
            tokens.append(Token(part, lead if first else "", trail if last else "",
                                start=float(part_start), end=float(part_start + len(part))))
    return tokens


def _pronoun_one(tokens: list[Token], i: int) -> bool:
    """"the one on the left", "one of them": "one" that is not a count. It is a count before a unit or a counted
    thing ("one tablet", "one to two", "one by two") or after "type", "grade" and the like."""
    if tokens[i].lower != "one":
        return False
    spelled = spelled_number(tokens, i)
    if spelled is not None and spelled[1] > 1:  # "one hundred", "one twenty"
        return False
    following = tokens[i + 1].lower if i + 1 < len(tokens) and not tokens[i].trail else ""
    previous = tokens[i - 1].lower if i > 0 else ""
    return following not in _COUNTED and previous not in _BEFORE_COUNT


def _spelled_numbers(tokens: list[Token]) -> list[Token]:
    """Bare counts the formatter leaves as words ("eight", "twenty one") become formatted digits."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        found = None if token.formatted or _pronoun_one(tokens, i) else spelled_number(tokens, i)
        if found is None:
            out.append(token)
            i += 1
            continue
        value, used = found
        out.append(merge(tokens[i : i + used], str(value)))
        i += used
    return out


def _medicine_or_synonym(words: Sequence[str], i: int, end: int, lexicon: Lexicon) -> tuple[str, str, int] | None:
    """(norm, generic, words used) for the longest medicine name or synonym in words[i:end] starting at i."""
    for n in range(min(max(lexicon.medicine_longest, lexicon.synonym_longest), end - i), 0, -1):
        key = tuple(words[i : i + n])
        generic = lexicon.medicines.get(key)
        if generic is None and key[-1].endswith("s") and len(key[-1]) > 4:  # "two advils"
            generic = lexicon.medicines.get((*key[:-1], key[-1][:-1]))
        if generic is not None and (n > 1 or len(key[0]) > 3):
            return "rx:" + generic, generic, n
        group = lexicon.synonyms.get(key)
        if group is not None:
            return group, "", n
    return None


def _word_of(core: str) -> str:
    word = core.lower().replace("’", "'")
    return word[:-2] if word.endswith("'s") else word


_MAY_HOLD_NUMBER = re.compile(
    r"\d|\b(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|point)\b",
    re.IGNORECASE,
)


_HESITATIONS = {"uh", "um", "er", "erm", "ah", "hmm"}
_IN_A_NUMBER = {"over", "point", "and"}


def _numeric(token: Token) -> bool:
    word = token.lower
    return word.replace(".", "", 1).isdigit() or spelled_number([token], 0) is not None or word in _IN_A_NUMBER


def _spoken_number_words(tokens: list[Token]) -> list[Token]:
    """Speech around numbers made readable to the formatter: "a hundred and eighty" is "one hundred and eighty", and
    a hesitation inside a number is dropped ("one forty uh over ninety", "eighty over you know eighty")."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if token.lower in ("a", "an") and following is not None and following.lower in ("hundred", "thousand"):
            out.append(Token("one", token.lead, token.trail, start=token.start, end=token.end))
            i += 1
            continue
        filler = 1 if token.lower in _HESITATIONS else 2 if (
            token.lower == "you" and following is not None and following.lower == "know") else 0
        after = tokens[i + filler] if filler and i + filler < len(tokens) else None
        if filler and out and after is not None and _numeric(out[-1]) and _numeric(after) and not out[-1].trail:
            i += filler
            continue
        out.append(token)
        i += 1
    return out


def sentence_terms(text: str, sentence_index: int, start: int, end: int, lexicon: Lexicon) -> list[Term]:
    tokens = _tokens(text, start, end)
    if _MAY_HOLD_NUMBER.search(text, start, end):  # most sentences of talk have no number: skip the formatter
        tokens = _spelled_numbers(format_numbers(_spoken_number_words(tokens)))
    lowered = [_word_of(t.core) for t in tokens]
    terms: list[Term] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        t_start, t_end = int(token.start), int(token.end)
        core = token.core
        if token.formatted:
            match = _FORMATTED.match(core)
            num, unit = (match.group(1), match.group(2).strip()) if match else (core, "")
            terms.append(Term(core.lower(), "#" + num, t_start, t_end, sentence_index, True, num, unit,
                              punct=token.trail))
            i += 1
            continue
        word = lowered[i]
        if _DIGITS.match(word) or _RATIO.match(word):
            num = word.replace(",", "")
            terms.append(Term(word, "#" + num, t_start, t_end, sentence_index, True, num, punct=token.trail))
            i += 1
            continue
        ordinal = _ORDINAL.match(word)
        if ordinal or word in ORDINALS:
            num = ordinal.group(1) if ordinal else str(ORDINALS[word])
            terms.append(Term(word, "#" + num, t_start, t_end, sentence_index, True, num, punct=token.trail))
            i += 1
            continue
        # a run of plain words: medicine names and synonyms may span several of them
        run_end = i
        while run_end < len(tokens) and not tokens[run_end].formatted and run_end - i < 6:
            run_end += 1
        starts = word in lexicon.starts or (word.endswith("s") and word[:-1] in lexicon.starts)
        found = _medicine_or_synonym(lowered, i, run_end, lexicon) if starts else None
        if found is not None:
            norm, generic, used = found
            last = tokens[i + used - 1]
            terms.append(Term(" ".join(lowered[i : i + used]), norm, t_start, int(last.end), sentence_index, True,
                              medicine=generic, punct=last.trail))
            i += used
            continue
        content = word not in lexicon.stopwords and any(c.isalpha() for c in word) and len(word) > 1
        terms.append(Term(word, stem(word) if content else word, t_start, t_end, sentence_index, content,
                          punct=token.trail))
        i += 1
    return terms


def analyse(text: str, sentences: list[Sentence], lexicon: Lexicon) -> Text:
    terms: list[Term] = []
    ranges = []
    for index, sentence in enumerate(sentences):
        first = len(terms)
        terms.extend(sentence_terms(text, index, sentence.start, sentence.end, lexicon))
        ranges.append((first, len(terms)))
    return Text(text, sentences, terms, ranges)
