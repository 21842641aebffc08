"""When two spellings are one person's name: the recogniser's near-misses of a name the encounter already knows.

Whisper hears "Margaret Holloway" as "Margret Holloway", "Margaret Hallaway" or "Margaret Hollow Way" depending on
the CPU it decodes on; each is still the patient, and must get the patient's placeholder (and show the record's
spelling when the answer is re-identified). Two full names are compared word by word, so "John Holloway" (the
husband) stays a different person from "Margaret Holloway".
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from difflib import SequenceMatcher

from app.core.redact.rules_names import spelled_key

MIN_LETTERS = 5  # shorter words ("Ann", "Jon") collide with too many others to be matched loosely
MAX_LENGTH_GAP = 3
MIN_SIMILARITY = 0.82  # "treadgol"~"tredgold" 0.88, "margret"~"margaret" 0.93, "threshold"~"tredgold" 0.71
MIN_SOUND_ALIKE_SIMILARITY = 0.7  # "hallaway"~"holloway" 0.75, with the same consonants


def name_words(text: str) -> list[str]:
    """The words of a name as placeholders key them: lower-case letters only ("O'Neil Smith" -> oneil, smith)."""
    return [key for w in text.split() if (key := spelled_key(w))]


def _similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b).ratio()


def _comparable(a: str, b: str) -> bool:
    return min(len(a), len(b)) >= MIN_LETTERS and abs(len(a) - len(b)) <= MAX_LENGTH_GAP


def close_spelling(a: str, b: str) -> bool:
    """Two lower-case words spelled nearly alike: "margret" and "margaret"."""
    return a == b or (_comparable(a, b) and _similarity(a, b) >= MIN_SIMILARITY)


def consonants(word: str) -> str:
    """The first letter, then the consonants with doubles collapsed: "holloway" and "hallaway" are both "hlw"."""
    rest = re.sub(r"[aeiouy]", "", re.sub(r"(.)\1+", r"\1", word[1:]))
    return word[:1] + re.sub(r"(.)\1+", r"\1", rest)


def sounds_alike(a: str, b: str) -> bool:
    """Spelled differently but pronounced alike: same first letter and consonants, and still fairly close."""
    return _comparable(a, b) and consonants(a) == consonants(b) and _similarity(a, b) >= MIN_SOUND_ALIKE_SIMILARITY


def _with_one_split_joined(words: Sequence[str]) -> Iterator[list[str]]:
    """The words, then each reading with two neighbours joined: "hollow way" becomes "hollowway", which is
    spelled close to "holloway"."""
    yield list(words)
    for i in range(len(words) - 1):
        yield [*words[:i], words[i] + words[i + 1], *words[i + 2 :]]


def _paired(shorter: list[str], longer: list[str]) -> bool:
    """Every word of `shorter` has its own counterpart in `longer`, and at least one pair is a close spelling."""
    free = list(longer)
    anchored = False
    for word in shorter:
        match = next((w for w in free if close_spelling(word, w)), None)
        if match is not None:
            anchored = True
        else:
            match = next((w for w in free if sounds_alike(word, w)), None)
            if match is None:
                return False
        free.remove(match)
    return anchored


def same_full_name(a: Sequence[str], b: Sequence[str]) -> bool:
    """Two names of two or more words each (from `name_words`) name the same person, allowing for misspelled
    words, a middle name on one side only, and a word the recogniser split in two."""
    if len(a) < 2 or len(b) < 2:
        return False
    for left in _with_one_split_joined(a):
        for right in _with_one_split_joined(b):
            shorter, longer = sorted((left, right), key=len)
            if len(shorter) >= 2 and _paired(shorter, longer):
                return True
    return False
