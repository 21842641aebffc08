"""Second looks at the shape of a detected name: the words at its edges that are not part of it.

- A capitalised ordinary word that opens the sentence is not the name's: "Call Jane Doe" is "Jane Doe".
- A title alone identifies nobody: "Dr" in "This is Dr. Marsh" is not a name (the name after it is kept).
- The word for a relative or a clinician's credential is not the name: "Son Erik" is "Erik", "NP Kowalczyk" is
  "Kowalczyk" (who is at the bedside is clinical information).
"""

from __future__ import annotations

import re
from dataclasses import replace

from app.core.redact.base import Kind, Span
from app.core.redact.lexicon import RELATIVE_WORDS, NameLists
from app.core.redact.name_words import TITLES_ABBREV, TITLES_WORD
from app.core.redact.rules_people import CREDENTIALS, RELATIONSHIP_WORDS

_LEADING_WORD = re.compile(r"([^\W\d_][\w'’-]*)(?:['’]s)?[\s,:]+(?=[^\W\d_])")
_RELATIVE_ROLES = RELATIONSHIP_WORDS | RELATIVE_WORDS


def without_leading_word(text: str, span: Span, names: NameLists) -> Span:
    """'Call Jane Doe' -> 'Jane Doe': a capitalised ordinary word that opens the sentence is not the name's."""
    if span.kind != Kind.NAME or span.source in ("manual", "deny", "known"):
        return span
    m = re.match(r"([A-Z][a-z]+)\s+(?=[A-Z])", span.text)
    if not m:
        return span
    word = m.group(1).lower()
    rest = re.match(r"[A-Za-z]+", span.text[m.end() :])
    follows_first_name = bool(rest) and names.is_first(rest.group().lower())  # type: ignore[union-attr]
    if word in names.english and not names.is_first(word) and follows_first_name:
        start = span.start + m.end()
        return span.moved(start, span.end, text[start : span.end])
    return span


def without_role_word(text: str, span: Span) -> Span:
    """'Son Erik' -> 'Erik', 'NP KOWALCZYK' -> 'KOWALCZYK': the name without the word for the person's role (a
    relative's, or a clinician's credential), which is clinical information; the role labels the placeholder."""
    if span.source in ("manual", "deny", "known"):
        return span
    # The model and the place rules take "CRNA Yusuf" or "RN DESHAWN" (after "from") for a place: the credential is
    # no more the place's than the name's.
    place = span.kind == Kind.LOCATION and span.source in ("ner", "rule:facility")
    if span.kind != Kind.NAME and not place:
        return span
    start = span.start
    label = span.label
    while m := _LEADING_WORD.match(text, start, span.end):
        word = m.group(1).lower()
        if word in _RELATIVE_ROLES and not place:
            label = "RELATIVE"
        elif word in CREDENTIALS:
            label = label if place else "CLINICIAN"
        else:
            break
        start = m.end()
    if start == span.start:
        return span
    return replace(span.moved(start, span.end, text[start : span.end]), label=label)


def without_charting_words(text: str, span: Span, names: NameLists) -> Span | None:
    """'PATEL NOTIFIED' -> 'PATEL': in a note written in capitals, the model's name runs on into the charting words
    around it; an ordinary English word in capitals at either end that no name list knows is not the name's."""
    if span.kind != Kind.NAME or span.source not in ("ner", "rule:proper") or not span.text.isupper():
        return span
    words = list(re.finditer(r"[^\W\d_][\w'’-]*", span.text))

    def charting(m: re.Match[str]) -> bool:
        word = m.group().lower()
        return names.known_word(word) and not names.is_name_word(word) and word not in names.proper

    while words and charting(words[-1]):
        words.pop()
    while words and charting(words[0]):
        words.pop(0)
    if not words:
        return None
    start, end = span.start + words[0].start(), span.start + words[-1].end()
    return span if (start, end) == (span.start, span.end) else span.moved(start, end, text[start:end])


def is_bare_title(span: Span) -> bool:
    """'Dr' in "This is Dr. Marsh" is not a name: a title alone identifies nobody (the name after it is kept)."""
    if span.kind != Kind.NAME or span.source in ("manual", "deny"):
        return False
    words = [w.strip(".").lower() for w in span.text.split()]
    return bool(words) and all(w in TITLES_ABBREV or w in TITLES_WORD for w in words)
