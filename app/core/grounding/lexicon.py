"""The word lists grounding reads from resources/grounding/ (each file says where it came from), loaded once.

Missing or unreadable lists are a packaging fault, reported as a ConfigError naming the file, never a crash deep in
a check.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from app.core.errors import ConfigError
from app.core.paths import resource
from app.core.word_lists import read_word_list


def _lines(name: str) -> list[str]:
    return read_word_list(resource("grounding", name))


@dataclass(frozen=True)
class Negation:
    pre: frozenset[tuple[str, ...]]
    post: frozenset[tuple[str, ...]]
    pseudo: frozenset[tuple[str, ...]]
    hypothetical: frozenset[tuple[str, ...]]
    gloss: frozenset[tuple[str, ...]]
    stop: frozenset[str]
    longest: int  # words in the longest cue
    first_words: frozenset[str]  # the first word of every cue


@dataclass(frozen=True)
class Lexicon:
    stopwords: frozenset[str]
    synonyms: dict[tuple[str, ...], str]  # spelling (words) -> the group's first form
    synonym_longest: int
    body_parts: frozenset[tuple[str, ...]]
    medicines: dict[tuple[str, ...], str]  # name (words) -> generic name
    medicine_longest: int
    negation: Negation
    starts: frozenset[str]  # first words of every medicine name and synonym: most words start none


def _groups(lines: list[str]) -> dict[tuple[str, ...], str]:
    table: dict[tuple[str, ...], str] = {}
    for line in lines:
        forms = [f.strip() for f in line.split("|") if f.strip()]
        for form in forms:
            table.setdefault(tuple(form.split()), forms[0])
    return table


def _medicines() -> dict[tuple[str, ...], str]:
    table: dict[tuple[str, ...], str] = {}
    for name in ("medicines.tsv", "medicines_extra.tsv"):
        for line in _lines(name):
            variant, _tab, generic = line.partition("\t")
            generic = (generic or variant).strip()
            table[tuple(variant.split())] = generic
            if "-" in variant:  # "Retin-A" is said, and transcribed, as "retin a"
                table.setdefault(tuple(variant.replace("-", " ").split()), generic)
    return table


def _negation() -> Negation:
    cues: dict[str, set[tuple[str, ...]]] = {"pre": set(), "post": set(), "pseudo": set(), "hypothetical": set(),
                                             "gloss": set(), "stop": set()}
    for line in _lines("negation.txt"):
        kind, _colon, words = line.partition(":")
        if kind.strip() not in cues or not words.strip():
            raise ConfigError(f"negation.txt: unknown line kind {kind.strip()!r}",
                              "Use pre, post, pseudo, hypothetical, gloss or stop")
        cues[kind.strip()].add(tuple(words.split()))
    every = cues["pre"] | cues["post"] | cues["pseudo"] | cues["hypothetical"] | cues["gloss"]
    return Negation(
        pre=frozenset(cues["pre"]),
        post=frozenset(cues["post"]),
        pseudo=frozenset(cues["pseudo"]),
        hypothetical=frozenset(cues["hypothetical"]),
        gloss=frozenset(cues["gloss"]),
        stop=frozenset(w[0] for w in cues["stop"]),
        longest=max(len(c) for c in every),
        first_words=frozenset(c[0] for c in every),
    )


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    synonyms = _groups(_lines("synonyms.txt"))
    medicines = _medicines()
    return Lexicon(
        stopwords=frozenset(_lines("stopwords.txt")),
        synonyms=synonyms,
        synonym_longest=max(len(k) for k in synonyms),
        body_parts=frozenset(tuple(line.split()) for line in _lines("body_parts.txt")),
        medicines=medicines,
        medicine_longest=max(len(k) for k in medicines),
        negation=_negation(),
        starts=frozenset(k[0] for k in medicines) | frozenset(k[0] for k in synonyms),
    )
