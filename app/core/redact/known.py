"""Identifiers the app already knows: the encounter's own patient, and names spelled a little wrong.

Whisper mangles unusual names ("Oswin Tredgold" → "osmintreadgol"), and a mangled name is still the patient's name.
The patient's record seeds the encounter's pseudonym map, so the name, MRN and date of birth are redacted wherever
they appear, and known name words are also matched when a transcript word is close to them in spelling.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from itertools import pairwise

from app.core.redact.base import Kind, Span
from app.core.redact.name_match import close_spelling, name_words, same_full_name, two_real_names
from app.core.redact.pseudonyms import PseudonymMap
from app.core.redact.rules_names import is_lowercase_text

MIN_KNOWN_LETTERS = 6  # shorter names collide with ordinary words too easily


def seed_patient(
    pseudonyms: PseudonymMap,
    *,
    family_name: str = "",
    given_names: str = "",
    mrn: str | None = None,
    date_of_birth: date | None = None,
) -> None:
    """Register the patient's own identifiers in the map (as PATIENT_n, MRN_n, DATE_n) before redacting."""

    def known(kind: Kind, text: str, label: str = "") -> None:
        if text.strip():
            pseudonyms.entry_for(Span(0, len(text), kind, text, 1.0, "known", label))

    full = " ".join(p for p in (given_names.strip(), family_name.strip()) if p)
    known(Kind.NAME, full, "PATIENT")
    if mrn:
        known(Kind.MRN, mrn)
    if date_of_birth is not None:
        known(Kind.DATE, date_of_birth.strftime("%B %-d, %Y"))
        pseudonyms.date_of_birth = date_of_birth.isoformat()  # shown to the model as an age, not a date


def near_name_mentions(
    text: str,
    name_words: Iterable[str],
    is_ordinary_word: Callable[[str], bool],
    is_real_name: Callable[[str], bool],
) -> list[tuple[int, int, str]]:
    """(start, end, matched known word) for words of `text`, alone or run together in pairs, spelled close to a
    known name word (or to a known name written without spaces). Ordinary English words never match, nor does
    another real name ("Daniel" is not a misheard "Danielle")."""
    targets = {w.lower() for w in name_words if len(w) >= MIN_KNOWN_LETTERS and w.isalpha()}
    if not targets:
        return []
    words = [(m.start(), m.end(), m.group().lower()) for m in re.finditer(r"[^\W\d_]+", text)]
    found: list[tuple[int, int, str]] = []
    candidates = [(a, b, w) for a, b, w in words]
    # A name split by the recogniser ("osmin treadgol"): two adjacent words, neither an ordinary word.
    candidates += [
        (a1, b2, w1 + w2)
        for (a1, _b1, w1), (_a2, b2, w2) in pairwise(words)
        if len(w1) >= 3 and len(w2) >= 3 and not is_ordinary_word(w1) and not is_ordinary_word(w2)
    ]
    cased = not is_lowercase_text(text)
    for start, end, word in candidates:
        if word in targets or is_ordinary_word(word) or (cased and not text[start].isupper()):
            continue  # in text with capitals, a lower-case word ("her carer") is not a misheard name
        close = (t for t in targets if close_spelling(word, t) and not two_real_names(word, t, is_real_name))
        target = next(close, None)
        if target is not None:
            found.append((start, end, target))
    return found


def known_name_words(pseudonyms: PseudonymMap) -> dict[str, str]:
    """Every name word of the encounter's known people, and each full name run together ("oswintredgold"),
    lower-cased, with the placeholder of the person it belongs to."""
    out: dict[str, str] = {}
    for entry, surface in pseudonyms.known_surfaces():
        if entry.kind != Kind.NAME:
            continue
        parts = [p.lower() for p in re.findall(r"[^\W\d_]+", surface)]
        for word in [*parts, "".join(parts)]:
            out.setdefault(word, entry.placeholder)
    return out


def alias_misheard_names(spans: Iterable[Span], pseudonyms: PseudonymMap, is_real_name: Callable[[str], bool]) -> None:
    """Give a detected full name the placeholder of a known person it is a misheard form of ("Margaret Hallaway"
    for the patient "Margaret Holloway"), when the words around it give it the same role: a name after "her son"
    or "Dr" is never folded into the patient."""
    for span in spans:
        if span.kind != Kind.NAME or pseudonyms.find(span) is not None:
            continue
        mine = name_words(span.text)
        for entry, surface in pseudonyms.known_surfaces():
            same_role = entry.kind == Kind.NAME and entry.label == span.label
            if same_role and same_full_name(mine, name_words(surface), is_real_name):
                pseudonyms.alias(entry.placeholder, span)
                break
