"""The word lists the summary parsers read from resources/summary/ (each file says where it came from), loaded once.
A missing list is a packaging fault, reported as a ConfigError naming the file."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from app.core.errors import ConfigError
from app.core.paths import resource
from app.core.word_lists import read_word_list


def _lines(name: str) -> list[str]:
    return read_word_list(resource("summary", name))


@dataclass(frozen=True)
class Cues:
    before: dict[tuple[str, ...], str]  # words -> action, looked for before a medicine's name
    after: dict[tuple[str, ...], str]  # words -> action, right after the name
    prn: frozenset[tuple[str, ...]]
    longest: int


@lru_cache(maxsize=1)
def medication_cues() -> Cues:
    before: dict[tuple[str, ...], str] = {}
    after: dict[tuple[str, ...], str] = {}
    prn: set[tuple[str, ...]] = set()
    for line in _lines("cues.txt"):
        kind, _colon, words = line.partition(":")
        kind, key = kind.strip(), tuple(words.split())
        if not key:
            raise ConfigError(f"cues.txt: a '{kind}' line has no words", "Write 'kind: words'")
        if kind == "prn":
            prn.add(key)
        elif kind.startswith("after-"):
            after[key] = kind.removeprefix("after-")
        else:
            before[key] = kind
    return Cues(before, after, frozenset(prn), max(len(k) for k in [*before, *after, *prn]))


@lru_cache(maxsize=1)
def result_names() -> list[tuple[str, str]]:
    """(spelling, name shown), longest spelling first."""
    pairs: list[tuple[str, str]] = []
    for line in _lines("results.txt"):
        forms = [f.strip() for f in line.split("|") if f.strip()]
        pairs.extend((form, forms[0]) for form in forms)
    return sorted(pairs, key=lambda p: -len(p[0]))


@dataclass(frozen=True)
class ProblemWords:
    not_first: frozenset[str]  # a short line starting with one of these is not a problem
    cut: tuple[str, ...]  # where a problem's name ends when the text goes on
    drop: frozenset[str]  # a list item with one of these words is not a problem


@lru_cache(maxsize=1)
def problem_words() -> ProblemWords:
    not_first: set[str] = set()
    cut: list[str] = []
    drop: set[str] = set()
    for line in _lines("not_problems.txt"):
        kind, colon, words = line.partition(":")
        if not colon or " " in kind.strip():
            not_first.add(line.lower())
        elif kind.strip() == "words":
            cut.append(words.strip().lower())
        elif kind.strip() == "drop":
            drop.add(words.strip().lower())
        else:
            raise ConfigError(f"not_problems.txt: unknown line kind {kind.strip()!r}", "Use words: or drop:")
    return ProblemWords(frozenset(not_first), tuple(sorted(cut, key=len, reverse=True)), frozenset(drop))
