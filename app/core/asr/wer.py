"""Word error rate after normalisation, for tests and benchmarks.

References keep their source's style ("forty-two line Bible", "1455", "one two three"); Whisper writes numbers as it
likes ("42-line", "1, 2, 3"). Both sides are lower-cased, stripped of punctuation, hyphens split, British/American
"-ise/-ize" left alone, and runs of number words turned into digits so the two ways of writing a number compare
equal. Years said in pairs ("fourteen fifty-five") are joined when the pair makes a four-digit number.
"""

from __future__ import annotations

import re

from app.core.dictation.numbers import SMALL, TENS

_PUNCTUATION = re.compile(r"[^\w\s']|_")
_ORDINAL = re.compile(r"^(\d+)(st|nd|rd|th)$")
ORDINAL_WORDS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9,
    "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15,
    "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20,
}


def _numbers_to_digits(words: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in SMALL or word in TENS:
            value = SMALL.get(word, TENS.get(word, 0))
            j = i + 1
            if word in TENS and j < len(words) and 0 < SMALL.get(words[j], 0) < 10:
                value += SMALL[words[j]]
                j += 1
            elif j < len(words) and words[j] == "hundred":
                value *= 100
                j += 1
            out.append(str(value))
            i = j
            continue
        if word in ORDINAL_WORDS:
            out.append(str(ORDINAL_WORDS[word]))
        else:
            ordinal = _ORDINAL.match(word)
            out.append(ordinal.group(1) if ordinal else word)
        i += 1
    # "fourteen fifty five" -> 14 55 -> 1455 (years are read in pairs)
    joined: list[str] = []
    for word in out:
        if joined and joined[-1].isdigit() and word.isdigit() and 10 <= int(joined[-1]) <= 20 and len(word) == 2:
            joined[-1] += word
        else:
            joined.append(word)
    return joined


def normalise(text: str) -> list[str]:
    text = text.lower().replace("-", " ").replace("’", "'")
    text = _PUNCTUATION.sub(" ", text)
    words = [w.strip("'") for w in text.split()]
    return _numbers_to_digits([w for w in words if w])


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edit distance in words, reference length) after normalisation."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return previous[-1], len(ref)


def word_error_rate(reference: str, hypothesis: str) -> float:
    errors, total = word_errors(reference, hypothesis)
    return errors / total if total else float(errors > 0)
