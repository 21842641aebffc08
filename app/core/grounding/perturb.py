"""Single-fact errors injected into a faithful note, to measure what the grounding check catches.

Each injector changes one fact the way a drafting model gets one wrong: a dose or reading, a side, a medicine that
was never mentioned, a negation dropped or added, a duration, an age. Sites are found with plain patterns, not
with the checker's own reading of the note, so the measure does not grade the checker with itself. A negation is
only changed where the consultation talks about the same thing (one of the phrase's words is said): a finding the
consultation never mentions cannot be contradicted by it, only left unsupported.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

CATEGORIES = ("number", "laterality", "medicine", "negation_dropped", "negation_added", "duration", "age")
# Medicines to name that a consultation did not: common generics and brands (a brand tests brand-to-generic).
MEDICINES = (
    "atorvastatin", "Lipitor", "amlodipine", "metoprolol", "Toprol", "losartan", "omeprazole", "Nexium",
    "sertraline", "Zoloft", "warfarin", "Eliquis", "apixaban", "furosemide", "Lasix", "prednisone", "amoxicillin",
    "Augmentin", "levothyroxine", "Synthroid", "gabapentin", "hydrochlorothiazide", "simvastatin", "clopidogrel",
    "Plavix", "tramadol", "citalopram", "escitalopram", "duloxetine", "Cymbalta", "pantoprazole", "montelukast",
    "insulin glargine", "Lantus", "carvedilol", "spironolactone", "doxycycline", "ciprofloxacin", "azithromycin",
    "cetirizine", "Xarelto", "Jardiance", "empagliflozin", "allopurinol", "tamsulosin", "Flomax", "bupropion",
)
_NUMBER = re.compile(r"(?<![\w.\-/])(\d+(?:\.\d+)?)(?:/(\d+))?(?![\w/]|\.\d|-(?:year|month|week|day))")
_DURATION = re.compile(r"\b(\d+)([ -])(day|week|month|year|hour|minute)(s?)\b(?![ -]old)", re.I)
_AGE = re.compile(r"\b(\d+)([ -])(year|month)(s?)([ -])old\b", re.I)
_SIDE = re.compile(r"\b(left|right|Left|Right|LEFT|RIGHT)\b(?! away| now| here| there)")
_DROP = [
    (re.compile(r"\b(denies|Denies|denied|Denied)\b"), {"denies": "reports", "Denies": "Reports",
                                                        "denied": "reported", "Denied": "Reported"}),
    (re.compile(r"\b(No|no) (?!longer|change|further|more|other|acute|known|significant)(?=\w)"),
     {"No ": "", "no ": ""}),
    (re.compile(r"\b(without|Without)\b"), {"without": "with", "Without": "With"}),
    (re.compile(r"\b(negative for|Negative for)\b"), {"negative for": "positive for", "Negative for": "Positive for"}),
    (re.compile(r"\b(does not|did not|has not|have not|is not|was not|cannot) "),
     {"does not ": "does ", "did not ": "did ", "has not ": "has ", "have not ": "have ", "is not ": "is ",
      "was not ": "was ", "cannot ": "can "}),
]
_ADD = [
    (re.compile(r"\b(reports|Reports|endorses|Endorses|complains of|Complains of)\b"),
     {"reports": "denies", "Reports": "Denies", "endorses": "denies", "Endorses": "Denies",
      "complains of": "denies", "Complains of": "Denies"}),
    # before a noun, not a verb: "has a cough" -> "has no cough", never "has no tried"
    (re.compile(r"\b(has|have) (?=(?:a |an |some )?(?!been\b|not\b|no\b|also\b|had\b|to\b|already\b|just\b|"
                r"never\b|recently\b|always\b|continued\b)[a-z]{4,}(?<!ed)\b)"),
     {"has ": "has no ", "have ": "have no "}),
    (re.compile(r"\b(with|With) (?=(?!the\b|his\b|her\b|a\b|an\b)[a-z]{4,})"),
     {"with ": "without ", "With ": "Without "}),
    (re.compile(r"\b(positive for|Positive for)\b"), {"positive for": "negative for", "Positive for": "Negative for"}),
    (re.compile(r"\b(There is|there is|There are|there are) (?=(?:a |an |some |mild |moderate )?[a-z]{4,})"),
     {"There is ": "There is no ", "there is ": "there is no ", "There are ": "There are no ",
      "there are ": "there are no "}),
    # a finding of an examination: "is tender" -> "is not tender"
    (re.compile(r"\b(is|are) (?=(?:tender|swollen|present|positive|elevated|abnormal|enlarged|red|warm|painful|"
                r"decreased|increased|limited|weak|irregular)\b)"), {"is ": "is not ", "are ": "are not "}),
]
_NEGATION_WORDS = re.compile(r"\b(no|not|denies|denied|without|negative|never|none)\b|n't", re.I)


@dataclass(frozen=True)
class Injection:
    category: str
    note: str  # the note with the error
    start: int  # the changed words, in the new note
    end: int
    before: str  # what the note said
    after: str  # what it says now


def _replace(note: str, start: int, end: int, new: str, category: str, reach: int = 0) -> Injection:
    """`note` with [start, end) replaced; the injection's span covers the new words and `reach` characters after
    (for a negation, the finding it governs)."""
    changed = note[:start] + new + note[end:]
    span_end = min(len(changed), start + len(new) + reach)
    return Injection(category, changed, start, max(span_end, start + 1), note[start:end], new)


def _other_number(value: str, rng: random.Random) -> str:
    number = float(value)
    choices = [number * 2, number / 2, number + rng.choice((1, 2, 3)), number * 10, number * 1.5]
    if number > 3:
        choices.append(number - rng.choice((1, 2, 3)))
    decimals = len(value.split(".")[1]) if "." in value else 0
    written = {f"{c:.{max(decimals, 1 if c != int(c) else 0)}f}": c for c in choices if c > 0}
    # "0.15" written to one decimal is "0.1" again: only a value that reads differently is an error
    return rng.choice([text for text, c in written.items() if abs(float(text) - number) > 1e-9])


def _number(note: str, transcript: str, rng: random.Random) -> Injection | None:
    sites = [m for m in _NUMBER.finditer(note) if not _line_number(note, m.start())]
    sites = [m for m in sites if not re.match(r"[ -]+(day|week|month|year|hour|minute)s?\b", note[m.end():], re.I)]
    if not sites:
        return None
    site = rng.choice(sites)
    if site.group(2):  # a reading: change the top number
        top = int(site.group(1)) + rng.choice((-30, -20, -10, 10, 20, 30))
        return _replace(note, site.start(1), site.end(1), str(max(top, 1)), "number")
    return _replace(note, site.start(1), site.end(1), _other_number(site.group(1), rng), "number")


def _line_number(note: str, index: int) -> bool:
    """A list number at the start of a line ("1. Diabetes"), not a fact."""
    line_start = note.rfind("\n", 0, index) + 1
    return note[line_start:index].strip() == "" and note[index:index + 3].rstrip()[-1:] in ".)"


def _laterality(note: str, transcript: str, rng: random.Random) -> Injection | None:
    sites = [m for m in _SIDE.finditer(note) if not note[max(0, m.start() - 4) : m.start()].lower().endswith("all ")]
    if not sites:
        return None
    site = rng.choice(sites)
    word = site.group(1)
    swapped = {"left": "right", "right": "left"}[word.lower()]
    new = swapped.upper() if word.isupper() else swapped.capitalize() if word[0].isupper() else swapped
    return _replace(note, site.start(), site.end(), new, "laterality")


def _medicine(note: str, transcript: str, rng: random.Random, known: Callable[[str], list[tuple[int, int]]]
              ) -> Injection | None:
    unsaid = [m for m in MEDICINES if m.lower() not in transcript.lower() and m.lower() not in note.lower()]
    sites = known(note)
    if not sites or not unsaid:
        return None
    start, end = rng.choice(sites)
    name = rng.choice(unsaid)
    if rng.random() < 0.3:  # a medicine added beside one that was said
        return _replace(note, end, end, f" and {name}", "medicine")
    return _replace(note, start, end, name, "medicine")


def _talked_about(phrase: str, transcript: str) -> bool:
    """Whether the consultation says the words the negation governs (the first three of four letters or more)."""
    skip = {"with", "that", "this", "have", "from", "some", "mild", "moderate", "there", "been", "their", "they"}
    words = [w for w in re.findall(r"[a-z]{4,}", phrase.lower()) if w not in skip][:3]
    lower = transcript.lower()
    return bool(words) and all(w[:5] in lower for w in words)


def _negation(note: str, transcript: str, rng: random.Random, patterns: list, category: str) -> Injection | None:
    sites = []
    for pattern, replacement in patterns:
        for m in pattern.finditer(note):
            phrase = re.split(r"[.,;:]| but | and | or ", note[m.end() : m.end() + 40])[0]
            sentence_start = max(note.rfind(".", 0, m.start()), note.rfind("\n", 0, m.start())) + 1
            clause = note[sentence_start : m.end() + len(phrase)]
            if category == "negation_added" and _NEGATION_WORDS.search(clause):
                continue  # already negated somewhere: adding one more makes a double negative, not an error
            if phrase.strip() and _talked_about(phrase, transcript):
                # the change governs the rest of its clause ("denies fever, chills or cough"): a flag there counts
                reach = len(re.split(r"[.;:]| but |, however", note[m.end() : m.end() + 120])[0])
                sites.append((m, replacement, reach))
    if not sites:
        return None
    m, replacement, reach = rng.choice(sites)
    old = m.group(0)
    new = replacement.get(old, replacement.get(old.strip() + " ", old))
    start, end = m.start(), m.end()
    if new == "" and end < len(note) and start == _sentence_start(note, start):
        return _replace(note, start, end + 1, note[end].upper(), category, reach)  # "No fever" -> "Fever"
    return _replace(note, start, end, new, category, reach)


def _sentence_start(note: str, index: int) -> int:
    before = note[:index].rstrip(" ")
    return index if not before or before[-1] in ".\n:" else -1


def _duration(note: str, transcript: str, rng: random.Random) -> Injection | None:
    sites = list(_DURATION.finditer(note))
    if not sites:
        return None
    site = rng.choice(sites)
    value = int(site.group(1))
    if rng.random() < 0.5:
        units = [u for u in ("day", "week", "month", "year") if u != site.group(3).lower()]
        return _replace(note, site.start(3), site.end(3), rng.choice(units), "duration")
    new = rng.choice([v for v in (value + 1, value + 2, value * 2, value + 5, max(1, value - 1)) if v != value])
    return _replace(note, site.start(1), site.end(1), str(new), "duration")


def _age(note: str, transcript: str, rng: random.Random) -> Injection | None:
    sites = list(_AGE.finditer(note))
    if not sites:
        return None
    site = rng.choice(sites)
    value = int(site.group(1))
    new = rng.choice([v for v in (value + d for d in (-15, -9, -6, -4, 3, 5, 8, 12)) if v >= 1] or [value + 3])
    return _replace(note, site.start(1), site.end(1), str(new), "age")


def inject(category: str, note: str, transcript: str, rng: random.Random,
           medicines: Callable[[str], list[tuple[int, int]]]) -> Injection | None:
    """One error of `category` in `note`, or None when the note has no place for one. `medicines(note)` gives the
    character spans of the medicine names in a note."""
    if category == "number":
        return _number(note, transcript, rng)
    if category == "laterality":
        return _laterality(note, transcript, rng)
    if category == "medicine":
        return _medicine(note, transcript, rng, medicines)
    if category == "negation_dropped":
        return _negation(note, transcript, rng, _DROP, category)
    if category == "negation_added":
        return _negation(note, transcript, rng, _ADD, category)
    if category == "duration":
        return _duration(note, transcript, rng)
    if category == "age":
        return _age(note, transcript, rng)
    raise ValueError(f"unknown category {category}")
