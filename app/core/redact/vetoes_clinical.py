"""Second looks at weak detections (NER and the guessing rules) against the clinical words around them.

- An eponym is a clinical term when a clinical head word follows it ("Zimmer frame", "Rankin Scale", "Babinski
  sign"), whether or not the clinical term list knows it; a title before it still makes it a name ("Dr. Zimmer").
- A weak name that runs into a protected clinical term ("Known Parkinson's") keeps only what lies outside the term,
  and nothing if that is an ordinary word.
- A single word the NER model takes for a place is a drug when the words around it say so ("2 puffs of Ventolin",
  "started Zestoretic 20 mg").
- In lower-case dictation, a name found by NER or a rule takes in the listed name words right beside it
  ("bartholomew kowalczyk", where the model saw only the surname).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from app.core.redact.base import Kind, Span
from app.core.redact.intervals import Ranges, as_ranges
from app.core.redact.lexicon import (
    CLINICAL_HEADS,
    DOSING_ABBREVIATIONS,
    MEDICAL_ENDINGS,
    RELATIVE_WORDS,
    NameLists,
    shipped_words,
)
from app.core.redact.name_words import FUNCTION_WORDS, TITLES_ABBREV, TITLES_WORD
from app.core.redact.rules_names import Word
from app.core.redact.spans import WEAK_SOURCES

MEDICATION_BEFORE = re.compile(
    r"\b(?:taking|start|started|starting|continue|continued|prescribed|prescribe|given|received|"
    r"dose|doses|trial|switch|switched|stop|stopped|discontinue|discontinued|allergic|allergy|allergies|"
    r"tolerate|tolerated|mg|tablets?|drops|cream|ointment|inhaler|of|and|or|plus|with|including|includes|on)\W*$",
    re.IGNORECASE,
)
DOSE_AFTER = re.compile(
    r"^\W{0,2}(?:\d+(?:\.\d+)?\s*(?:mg|mcg|g|ml|units?|iu|%|tabs?|tablets?|puffs?|drops?)\b|mg\b|mcg\b|tablets?\b|"
    r"tabs?\b|caps?\b|daily\b|bid\b|tid\b|qid\b|prn\b|xr\b|er\b)",
    re.I,
)
# Words before a drug: dosing verbs and units, near enough to belong to the same phrase.
MEDICATION_CONTEXT = re.compile(
    r"\b(?:take|takes|taking|took|start|started|starting|continue|continued|prescribed|prescribe|puffs?|tablets?|"
    r"tabs?|capsules?|doses?|mg|mcg|ml|units|inhaler|allergic to|allergy to|stop|stopped|switched to|"
    r"increase|increased|reduce|reduced|titrate|titrated|trial of|course of)\b[\w\s]{0,14}$",
    re.IGNORECASE,
)
# Forms that follow only a drug's name: "Ventolin inhaler", "Fucidin cream".
FORM_AFTER = re.compile(
    r"^\W{0,2}(?:inhalers?|puffs?|drops?|creams?|ointments?|gels?|patch(?:es)?|sprays?|injections?|syrups?|"
    r"solution|suspension|elixir|nebs?|pens?|capsules?|sachets?|suppositor(?:y|ies)|infusion)\b",
    re.IGNORECASE,
)
# A dose a few words on: "titrate Zonegran up to 200 mg", "increase Keppra to 750 mg".
DOSE_NEAR = re.compile(
    r"^(?:\s+(?:up|down|to|from|by|at|back|\d+(?:\.\d+)?\s*(?:mg|mcg|g|ml|units?|iu)?)){0,4}?\s+"
    r"\d+(?:\.\d+)?\s*(?:mg|mcg|micrograms?|g|ml|units?|iu)\b",
    re.IGNORECASE,
)
# Words that only a drug follows: a unit or form ("2 puffs of Ventolin"), an allergy, a course, a verb of
# prescribing right before the word ("continue Ventolin").
DRUG_BEFORE = re.compile(
    r"\b(?:puffs?|tablets?|tabs?|capsules?|doses?|mg|mcg|ml|units|inhaler|allergic to|allergy to|allergies to|"
    r"switched to|trial of|course of|continue|continued|continuing|taking|prescribed|prescribe|restart|restarted|"
    r"discontinue|discontinued|stop|stopped)\s+(?:of\s+)?$",
    re.IGNORECASE,
)
# A number with a unit or a time ago: "Zoloft 10 years ago", "3000cGy", "5 mg": a dose or a history, no name or place.
NUMBER_WITH_UNIT = re.compile(
    r"\d+(?:\.\d+)?\s*(?:years?|yrs?|months?|weeks?|days?|hours?|minutes?|mg|mcg|ug|g|kg|ml|cc|l|units?|iu|meq|mmol|"
    r"c?gy|mgy|mci|mbq|msv|cm|mm|%)(?![^\W\d_])",
    re.IGNORECASE,
)
TRAVEL_BEFORE = re.compile(r"\b(?:to|from|in|at|near|into|visiting|via|moved|lives?)\s*$", re.IGNORECASE)


def drug_in_context(text: str, start: int, end: int) -> bool:
    """'continue Ventolin', 'allergic to Augmentin', 'started Zestoretic 20 mg': a capitalised word used as a drug.
    A dosing verb alone ("took Ngozi to theatre", "reduced Chukwuma's insulin") takes people as objects too: it
    counts only for a word with a drug's ending, and never for a possessive."""
    if re.match(r"['’]s?\b", text[end : end + 2]) or re.search(r"['’]s?$", text[start:end]):
        return False
    if DOSE_AFTER.match(text[end : end + 12]) or FORM_AFTER.match(text[end : end + 16]):
        return True
    before = text[max(0, start - 30) : start]
    if TRAVEL_BEFORE.search(before):
        return False
    if DRUG_BEFORE.search(before):
        return True
    if not MEDICATION_CONTEXT.search(before):
        return False
    return bool(MEDICAL_ENDINGS.search(text[start:end]) or DOSE_NEAR.match(text[end : end + 40]))


# The clinical head words, less those that also follow a person's name in ordinary notes ("Maria positive for
# flu", "Jones II").
EPONYM_HEADS = CLINICAL_HEADS - shipped_words("not_eponym_heads.txt")
_TITLE_BEFORE = re.compile(r"\b(?:" + "|".join(sorted(TITLES_ABBREV | TITLES_WORD)) + r")\.?\s*$", re.IGNORECASE)


_HEAD_AFTER = re.compile(r"^(?:['’]s?)?[\s-]+([A-Za-z]+)")


def eponym_before_head(text: str, span: Span, names: NameLists) -> bool:
    """A weak name or place right before a clinical head word: "Zimmer frame", "Rankin Scale"."""
    if span.source not in WEAK_SOURCES or span.kind not in (Kind.NAME, Kind.LOCATION) or span.label == "FACILITY":
        return False
    m = _HEAD_AFTER.match(text[span.end : span.end + 30])
    if not m or m.group(1).lower() not in EPONYM_HEADS:
        return False
    if _TITLE_BEFORE.search(text[max(0, span.start - 12) : span.start]):
        return False  # "Dr. Zimmer" stays a name whatever follows
    words = [w.lower() for w in re.findall(r"[^\W\d_]+", span.text)]
    return not any(w in names.first for w in words)  # eponyms are family names: "Maria positive" is a patient


def outside_protected(
    text: str, span: Span, protected: Ranges | Iterable[tuple[int, int]], names: NameLists
) -> Span | None:
    """A weak span that runs into a clinical term keeps the part outside it, if that part is not ordinary words
    (the name lists tell "Carol" the first name from the carol). Pass `Ranges` when calling once per span: a list
    is indexed on every call."""
    if span.source not in WEAK_SOURCES or span.kind != Kind.NAME:
        return span  # a facility keeps its department words: "Houston Oncology Center"
    clinical = as_ranges(protected)
    crossing = clinical.first_crossing(span.start, span.end)
    if crossing is None:
        return span
    a, b = crossing
    pieces = [(span.start, a), (b, span.end)]
    rest = [(x, y) for x, y in pieces if y > x and re.search(r"[^\W\d_]{2,}", text[x:y])]
    named = _first_name_before(text, span, a, b, names)
    if named is not None:
        return named
    for x, y in rest:
        # What is left must hold a word that could be a name: not English, not an abbreviation ("DS").
        # Words inside another clinical term do not count either ("Gluteus Maximus Muscle").
        found = [
            w.group()
            for w in re.finditer(r"[^\W\d_]+", text[x:y])
            if len(w.group()) >= 3 and not w.group().isupper() and not clinical.covers(x + w.start())
        ]
        if any(w.lower() not in names.english and w.lower() not in FUNCTION_WORDS for w in found):
            m = re.search(r"[^\W_].*[^\W_]|[^\W_]", text[x:y])
            if m:
                return span.moved(x + m.start(), x + m.end(), text[x + m.start() : x + m.end()])
    return None


def _first_name_before(text: str, span: Span, a: int, b: int, names: NameLists) -> Span | None:
    """'Carol Crohn attends', 'Peter Paget attends': a first name before an eponym makes the whole a person's name,
    unless the eponym is used as a term ("Peter Paget's disease" keeps only "Peter")."""
    m = re.match(r"[^\W\d_]+", span.text)
    if a <= span.start or m is None or not m.group()[:1].isupper() or not names.is_first(m.group().lower()):
        return None
    used_as_term = re.match(r"['’]s?\b|[\s-]+([A-Za-z]+)", text[b : b + 30])
    if used_as_term and (used_as_term.group(1) is None or used_as_term.group(1).lower() in CLINICAL_HEADS):
        if m.group().lower() not in names.first:
            return None
        end = span.start + len(text[span.start : a].rstrip())
        return span.moved(span.start, end, text[span.start : end])
    return span


def drug_not_place(text: str, start: int, end: int) -> bool:
    """'2 puffs of Ventolin', 'started Zestoretic 20 mg': a one-word 'place' (or person) that sits where a drug does."""
    return " " not in text[start:end] and drug_in_context(text, start, end)


def widen_lowercase_names(text: str, words: list[Word], spans: list[Span], names: NameLists) -> list[Span]:
    """'the patient bartholomew kowalczyk': a name span in lower-case text takes in the listed name words beside it
    (at most two on each side) that are not ordinary English words."""
    starts = {w.start: k for k, w in enumerate(words)}
    ends = {w.end: k for k, w in enumerate(words)}

    def name_word(k: int) -> bool:
        w = words[k]
        return (
            w.raw.islower()
            and names.is_name_word(w.norm)
            and w.norm not in names.english
            and w.norm not in FUNCTION_WORDS
            and w.norm not in TITLES_ABBREV
            and w.norm not in TITLES_WORD
        )

    def joined(k: int) -> bool:
        return text[words[k].end : words[k + 1].start] == " "

    out: list[Span] = []
    for span in spans:
        if span.kind != Kind.NAME or span.start not in starts or span.end not in ends:
            out.append(span)
            continue
        first, last = starts[span.start], ends[span.end]
        lo, hi = first, last
        while lo > 0 and first - lo < 2 and joined(lo - 1) and name_word(lo - 1):
            lo -= 1
        while hi + 1 < len(words) and hi - last < 2 and joined(hi) and name_word(hi + 1):
            hi += 1
        if (lo, hi) == (first, last):
            out.append(span)
        else:
            a, b = words[lo].start, words[hi].end
            out.append(span.moved(a, b, text[a:b]))
    return out


def clinical_phrase(value: str, names: NameLists, clinical: frozenset[str], titled: bool = False) -> bool:
    """'Chest x-ray', 'Elevated AST', 'Proventil MDI', 'Oropharynx', 'Mom', 'q.d.': a model detection made of
    clinical and ordinary words (at least one of them clinical), a relative, or a dosing abbreviation, is no name
    or place. Name words do not count as clinical evidence beside each other ("Iris Green"), and a title keeps a
    word that is also a name ("Dr Rose", "Mr Blood")."""
    raw = re.findall(r"[^\W\d_]+", value)
    words = [w.lower() for w in raw]
    if not words or titled:
        return False
    if len(words) == 1 and words[0] in RELATIVE_WORDS:
        return True
    if NUMBER_WITH_UNIT.search(value):
        return True
    # Written in lower case with a full stop: "q.d.", "b.i.d.", "mcg." ("J. Po", "Q.D." may be a person's initials).
    dotted = "." in value and "".join(raw) in DOSING_ABBREVIATIONS
    if dotted or ("." in value and any(r in DOSING_ABBREVIATIONS for r in raw)):
        return True
    if len(words) > 1 and all(names.is_name_word(w) for w in words):
        return False  # "Iris Green", "Rose Bell": a first name and a surname
    evidence = False
    for w, r in zip(words, raw, strict=True):
        if w in clinical:
            evidence = evidence or len(words) == 1 or not names.is_name_word(w)
            continue
        listed = w in names.first or w in names.surnames  # "Chang", "Okafor": a name whatever stands beside it
        plain = w in names.english or w in FUNCTION_WORDS or len(w) == 1 or (r.isupper() and len(r) <= 5)
        if listed or not plain:
            return False
    return evidence
