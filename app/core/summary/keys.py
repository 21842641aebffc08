"""When two statements are about the same problem: "type 2 diabetes" and "diabetes type 2", "reflux" and "GERD",
"high blood pressure" and "hypertension". The key is the set of the name's content words as grounding normalises
them (synonym groups, stems, numbers), so the word order and the spelling do not matter."""

from __future__ import annotations

from functools import lru_cache

from app.core.grounding.lexicon import lexicon
from app.core.grounding.terms import sentence_terms


@lru_cache(maxsize=4096)
def problem_key(name: str) -> str:
    terms = sentence_terms(name, 0, 0, len(name), lexicon())
    words = sorted({t.norm for t in terms if t.content})
    return " ".join(words) or " ".join(name.lower().split())


def key_words(name: str) -> frozenset[str]:
    return frozenset(problem_key(name).split())
