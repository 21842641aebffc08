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

from app.core.redact.base import Kind, Span
from app.core.redact.lexicon import CLINICAL_HEADS, NameLists
from app.core.redact.name_words import FUNCTION_WORDS, TITLES_ABBREV, TITLES_WORD
from app.core.redact.rules_names import Word
from app.core.redact.rules_proper import DOSE_AFTER, MEDICATION_CONTEXT, TRAVEL_BEFORE
from app.core.redact.spans import WEAK_SOURCES

# Head words that also follow a person's name in ordinary notes ("Maria positive for flu", "Jones II").
_NOT_EPONYM_HEADS = frozenset(
    {"i", "ii", "iii", "iv", "v", "positive", "negative", "cross", "body", "bodies", "area", "point", "space", "law",
     "rule", "rules", "position", "index", "block", "visual", "node", "nodes"}
)  # fmt: skip
EPONYM_HEADS = CLINICAL_HEADS - _NOT_EPONYM_HEADS
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


def outside_protected(text: str, span: Span, protected: list[tuple[int, int]], english: frozenset[str]) -> Span | None:
    """A weak span that runs into a clinical term keeps the part outside it, if that part is not ordinary words."""
    if span.source not in WEAK_SOURCES or span.kind != Kind.NAME:
        return span  # a facility keeps its department words: "Houston Oncology Center"
    for a, b in protected:
        if a < span.end and span.start < b and not (a <= span.start and span.end <= b):
            pieces = [(span.start, a), (b, span.end)]
            rest = [(x, y) for x, y in pieces if y > x and re.search(r"[^\W\d_]{2,}", text[x:y])]
            for x, y in rest:
                # What is left must hold a word that could be a name: not English, not an abbreviation ("DS").
                words = [w for w in re.findall(r"[^\W\d_]+", text[x:y]) if len(w) >= 3 and not w.isupper()]
                if any(w.lower() not in english and w.lower() not in FUNCTION_WORDS for w in words):
                    m = re.search(r"[^\W_].*[^\W_]|[^\W_]", text[x:y])
                    if m:
                        return span.moved(x + m.start(), x + m.end(), text[x + m.start() : x + m.end()])
            return None
    return span


def drug_not_place(text: str, start: int, end: int) -> bool:
    """'2 puffs of Ventolin', 'started Zestoretic 20 mg': a one-word 'place' that sits where a drug does."""
    if " " in text[start:end]:
        return False
    if DOSE_AFTER.match(text[end : end + 12]):
        return True
    before = text[max(0, start - 30) : start]
    return bool(MEDICATION_CONTEXT.search(before)) and not TRAVEL_BEFORE.search(before)


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
