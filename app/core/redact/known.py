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

from app.core.redact.base import Alias, Kind, Span
from app.core.redact.lexicon import NameLists
from app.core.redact.name_match import close_spelling, name_words, same_full_name, two_real_names
from app.core.redact.name_words import FUNCTION_WORDS
from app.core.redact.pseudonyms import PseudonymMap
from app.core.redact.rules_names import is_lowercase_text, name_label
from app.core.redact.spans import find_mentions

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
        # In text with capitals, a short lower-case word ("her carer") is not a misheard name; a long one may be: the
        # recogniser writes a name it does not know as one lower-case word ("osmintreadgol" for Oswin Tredgold).
        if word in targets or is_ordinary_word(word) or (cased and not text[start].isupper() and len(word) < 8):
            continue
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


class ProposedAliases:
    """Aliases proposed against an encounter's map without changing it. Each proposal must see the ones before it,
    as if they had been applied one by one, so the first is made on a copy of the map and later look-ups read the
    copy; `proposed` is what `PseudonymMap.add_aliases` applies to the map itself."""

    def __init__(self, pseudonyms: PseudonymMap) -> None:
        self._given = pseudonyms
        self._copy: PseudonymMap | None = None
        self.proposed: list[Alias] = []

    @property
    def map(self) -> PseudonymMap:
        """The map as it would be with the proposals so far: for reading only."""
        return self._copy if self._copy is not None else self._given

    def propose(self, placeholder: str, span: Span) -> None:
        if self._copy is None:
            self._copy = self._given.copy()
        self._copy.alias(placeholder, span)
        self.proposed.append(Alias(placeholder, span))


def find_known(text: str, aliases: ProposedAliases, names: NameLists) -> list[Span]:
    """Identifiers already known in this encounter (a name from an earlier note), and known names the recogniser
    spelled a little wrong ("treadgol" for "Tredgold"); such a misspelling in the same role as the known name
    is proposed as its alias."""
    pseudonyms = aliases.map
    out: list[Span] = []
    for entry, surface in pseudonyms.known_surfaces():
        forms = {surface}
        if entry.kind == Kind.NAME:  # "Quispe" alone, after "Zyanya Quispe" in an earlier note
            forms |= {
                w
                for w in re.findall(r"[^\W\d_]{3,}", surface)
                if w.lower() not in FUNCTION_WORDS and not names.known_word(w.lower())
            }
        for form in forms:
            if len(form.strip()) < 3:
                continue
            for a, b in find_mentions(text, form):
                out.append(Span(a, b, entry.kind, text[a:b], 0.95, "known", entry.label))
    owner = known_name_words(pseudonyms)
    for a, b, target in near_name_mentions(text, owner, names.known_word, names.is_name_word):
        entry = pseudonyms.entries[owner[target]]
        label = name_label(text, a, b)
        span = Span(a, b, Kind.NAME, text[a:b], 0.8, "known", label)
        if label == entry.label:  # "her son treadgol" is hidden too, but is not the patient
            aliases.propose(entry.placeholder, span)
        out.append(span)
    return out


def propose_misheard_aliases(
    spans: Iterable[Span], aliases: ProposedAliases, is_real_name: Callable[[str], bool]
) -> None:
    """Propose for a detected full name the placeholder of a known person it is a misheard form of ("Margaret
    Hallaway" for the patient "Margaret Holloway"), when the words around it give it the same role: a name after
    "her son" or "Dr" is never folded into the patient."""
    for span in spans:
        if span.kind != Kind.NAME or aliases.map.find(span) is not None:
            continue
        mine = name_words(span.text)
        for entry, surface in aliases.map.known_surfaces():
            same_role = entry.kind == Kind.NAME and entry.label == span.label
            if same_role and same_full_name(mine, name_words(surface), is_real_name):
                aliases.propose(entry.placeholder, span)
                break
