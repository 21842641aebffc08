"""When two spellings are one person's name: the recogniser's near-misses of a name the encounter already knows.

Whisper hears "Margaret Holloway" as "Margaret Hallaway" or "Margaret Hollow Way" depending on the CPU it decodes
on; each is still the patient, and must get the patient's placeholder (and show the record's spelling when the
answer is re-identified). Merging two different people is worse than missing a merge: the model would give the
patient a relative's illness, and the doctor would read the wrong name. So two full names are compared word by
word ("John Holloway", the husband, is someone else), and two words that are both real names ("Daniel" and
"Danielle", "Harris" and "Harrison") are never taken for one misheard name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
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


def two_real_names(a: str, b: str, is_real_name: Callable[[str], bool]) -> bool:
    """Both words are real names, so a difference between them is two people, not a mishearing."""
    return is_real_name(a) and is_real_name(b)


def misheard_as(word: str, known: str, is_real_name: Callable[[str], bool]) -> bool:
    """`word` can be the recogniser's spelling of the name word `known`: the same, or close in spelling or sound
    and not itself another real name."""
    if word == known:
        return True
    if two_real_names(word, known, is_real_name):
        return False
    return close_spelling(word, known) or sounds_alike(word, known)


def _paired(shorter: list[str], longer: list[str], is_real_name: Callable[[str], bool]) -> bool:
    """Every word of `shorter` has its own counterpart in `longer`, and at least one pair is spelled the same."""
    free = list(longer)
    anchored = False
    for word in shorter:
        match = next((w for w in free if w == word), None)
        if match is not None:
            anchored = True
        else:
            match = next((w for w in free if misheard_as(word, w, is_real_name)), None)
            if match is None:
                return False
        free.remove(match)
    return anchored


def same_full_name(a: Sequence[str], b: Sequence[str], is_real_name: Callable[[str], bool]) -> bool:
    """Two names of two or more words each (from `name_words`) name the same person, allowing for misheard words
    (one word at least must be spelled the same), a middle name on one side only, and a word split in two."""
    if len(a) < 2 or len(b) < 2 or not set(a) & set(b):
        return False  # no word spelled the same: cheap to rule out, and most pairs of names end here
    for left in _with_one_split_joined(a):
        for right in _with_one_split_joined(b):
            shorter, longer = sorted((left, right), key=len)
            if len(shorter) >= 2 and _paired(shorter, longer, is_real_name):
                return True
    return False
