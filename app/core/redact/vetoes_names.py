"""Second looks at the shape of a detected name: the words at its edges that are not part of it.

- A capitalised ordinary word that opens the sentence is not the name's: "Call Jane Doe" is "Jane Doe".
- A title alone identifies nobody: "Dr" in "This is Dr. Marsh" is not a name (the name after it is kept).
"""

from __future__ import annotations

import re

from app.core.redact.base import Kind, Span
from app.core.redact.lexicon import NameLists
from app.core.redact.name_words import TITLES_ABBREV, TITLES_WORD


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


def is_bare_title(span: Span) -> bool:
    """'Dr' in "This is Dr. Marsh" is not a name: a title alone identifies nobody (the name after it is kept)."""
    if span.kind != Kind.NAME or span.source in ("manual", "deny"):
        return False
    words = [w.strip(".").lower() for w in span.text.split()]
    return bool(words) and all(w in TITLES_ABBREV or w in TITLES_WORD for w in words)
