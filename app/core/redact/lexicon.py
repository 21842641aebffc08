"""Word lists the rules read: first names and surnames, clinical terms to protect, allow and deny lists, and the
smaller vocabularies the rules consult (clinical head words, medical word endings, relatives, dosing abbreviations).

Every shipped list lives in resources/redaction/ (each file says where it comes from); the clinician's own
allow/deny lists come from the settings.
A `Lexicon` is immutable once built, so one can be shared by reference; each redactor builds or receives its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from app.core.paths import resource
from app.core.redact.base import Kind
from app.core.word_lists import read_word_list

TOKEN_RE = re.compile(r"[^\W_]+(?:[-'’.][^\W_]+)*", re.UNICODE)
POSSESSIVE_RE = re.compile(r"['’]s?$", re.IGNORECASE)


def shipped_words(name: str) -> frozenset[str]:
    """A word list of resources/redaction/ as a set of lower-case words, for the rules that consult it."""
    return frozenset(w.lower() for w in read_word_list(resource("redaction", name)))


# Endings of drug stems (USAN) and medical terms: a capitalised "Lisinopril" or "Cholecystectomy" is no name.
MEDICAL_ENDINGS = re.compile(
    "(?:" + "|".join(map(re.escape, read_word_list(resource("redaction", "medical_endings.txt")))) + ")$", re.IGNORECASE
)
# Words after an eponym that make it a clinical term ("Wilson disease", "Bell's palsy", "Foley catheter").
CLINICAL_HEADS = shipped_words("clinical_heads.txt")
# Words for relatives that notes capitalise like names ("Mom reports", "Dad at bedside"): a role, not an identifier.
RELATIVE_WORDS = shipped_words("relative_words.txt")
# Dosing and route abbreviations ("q.d.", "b.i.d.", "mcg."): the model takes them for initials.
DOSING_ABBREVIATIONS = shipped_words("dosing_abbreviations.txt")


def normalise_word(word: str) -> str:
    return POSSESSIVE_RE.sub("", word.lower().replace("’", "'"))


def tokens(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, normalised word) for each word; possessives and case removed."""
    for m in TOKEN_RE.finditer(text):
        yield m.start(), m.end(), normalise_word(m.group())


@dataclass(frozen=True)
class PhraseHit:
    start: int
    end: int
    phrase: str


class PhraseMatcher:
    """Whole-word, case-insensitive matching of many short phrases in one pass over the words."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self._by_first: dict[str, list[tuple[str, ...]]] = {}
        for phrase in phrases:
            words = tuple(normalise_word(w) for w in TOKEN_RE.findall(phrase))
            if words:
                self._by_first.setdefault(words[0], []).append(words)
        for options in self._by_first.values():
            options.sort(key=len, reverse=True)  # longest phrase first

    def __bool__(self) -> bool:
        return bool(self._by_first)

    def __contains__(self, word: str) -> bool:
        return (normalise_word(word),) in self._by_first.get(normalise_word(word), [])

    def find(self, text: str, words: list[tuple[int, int, str]] | None = None) -> list[PhraseHit]:
        words = words if words is not None else list(tokens(text))
        hits: list[PhraseHit] = []
        for i, (start, _end, word) in enumerate(words):
            for phrase in self._by_first.get(word, ()):
                n = len(phrase)
                if i + n <= len(words) and all(words[i + k][2] == phrase[k] for k in range(n)):
                    hits.append(PhraseHit(start, words[i + n - 1][1], " ".join(phrase)))
                    break
        return hits


def read_list(path: Path) -> list[str]:
    """Non-empty, non-comment lines of a shipped list."""
    return read_word_list(path)


def parse_deny(entry: str) -> tuple[Kind, str]:
    """'LOCATION: Riverside Annex' -> (LOCATION, 'Riverside Annex'); a bare term is kind ID."""
    head, sep, rest = entry.partition(":")
    if sep and head.strip() and " " not in head.strip() and rest.strip():
        try:
            return Kind.parse(head), rest.strip()
        except Exception:  # not a kind: the colon belongs to the term
            pass
    return Kind.ID, entry.strip()


@dataclass(frozen=True)
class NameLists:
    first: frozenset[str]  # first names that are not English words: safe to trust in lower case
    first_ambiguous: frozenset[str]  # "will", "grace", "mark": need a title or a surname beside them
    surnames: frozenset[str]
    surnames_ambiguous: frozenset[str]  # "green", "king", "ward"
    english: frozenset[str]  # ordinary lower-case English words
    proper: frozenset[str]  # proper nouns of the dictionary: months, nationalities, well-known places

    def known_word(self, word: str) -> bool:
        """An English word or a dictionary proper noun (plural forms included): not a guessed name."""
        forms = (word, word[:-1]) if word.endswith("s") else (word,)
        return any(w in self.english or w in self.proper for w in forms)

    def is_first(self, word: str) -> bool:
        return word in self.first or word in self.first_ambiguous

    def is_surname(self, word: str) -> bool:
        return word in self.surnames or word in self.surnames_ambiguous

    def is_name_word(self, word: str) -> bool:
        return self.is_first(word) or self.is_surname(word)

    def is_ambiguous(self, word: str) -> bool:
        return word in self.first_ambiguous or word in self.surnames_ambiguous


@lru_cache(maxsize=4)
def load_name_lists(folder: Path) -> NameLists:
    def read(name: str) -> frozenset[str]:
        return frozenset(w.lower() for w in read_list(folder / name))

    def optional(name: str) -> frozenset[str]:
        return read(name) if (folder / name).is_file() else frozenset()

    # The census lists, and common names of many other countries ("agnieszka", "oluwaseun", "kowalczyk"); names the
    # word list also holds but that are almost always names ("john") count as first names that are no words.
    usually_names = optional("first_names_usually_names.txt")
    return NameLists(
        read("first_names.txt") | optional("first_names_world.txt") | usually_names,
        read("first_names_ambiguous.txt") - usually_names,
        read("surnames.txt") | optional("surnames_world.txt"),
        read("surnames_ambiguous.txt"),
        read("english_words.txt"),
        read("proper_words.txt"),
    )


@dataclass(frozen=True)
class Lexicon:
    names: NameLists
    protected: PhraseMatcher  # clinical terms (eponyms, drugs, departments)
    protected_eponyms: frozenset[str]  # single protected words that are also surnames: need a clinical head word
    clinical_words: frozenset[str]  # ordinary clinical vocabulary (anatomy, findings, tests, brand-name drugs)
    allow: PhraseMatcher
    deny: tuple[tuple[Kind, str], ...]
    deny_matcher: PhraseMatcher

    @classmethod
    def build(
        cls,
        allow: Iterable[str] = (),
        deny: Iterable[str] = (),
        use_default_lists: bool = True,
        folder: Path | None = None,
    ) -> Lexicon:
        folder = folder or resource("redaction")
        names = load_name_lists(folder)
        clinical = read_list(folder / "clinical_terms.txt")
        vocabulary = read_list(folder / "clinical_words.txt") if (folder / "clinical_words.txt").is_file() else []
        clinical += vocabulary
        allow_terms = list(allow)
        deny_terms = list(deny)
        if use_default_lists:
            allow_terms += read_list(folder / "allow.txt")
            deny_terms += read_list(folder / "deny.txt")
        eponyms = frozenset(
            t.lower() for t in clinical if " " not in t and "-" not in t and names.is_name_word(t.lower())
        )
        parsed_deny = tuple(parse_deny(d) for d in deny_terms if d.strip())
        return cls(
            names=names,
            protected=PhraseMatcher(clinical),
            protected_eponyms=eponyms,
            clinical_words=frozenset(w.lower() for w in vocabulary),
            allow=PhraseMatcher(allow_terms),
            deny=parsed_deny,
            deny_matcher=PhraseMatcher(term for _kind, term in parsed_deny),
        )

    def deny_kind(self, phrase: str) -> Kind:
        wanted = " ".join(normalise_word(w) for w in TOKEN_RE.findall(phrase))
        for kind, term in self.deny:
            if " ".join(normalise_word(w) for w in TOKEN_RE.findall(term)) == wanted:
                return kind
        return Kind.ID

    def protected_ranges(self, text: str, words: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
        """Where clinical terms sit. A surname-like eponym counts only before a clinical head word
        ("Wilson disease", "Bell's palsy") or as a possessive ("Parkinson's")."""
        ranges: list[tuple[int, int]] = []
        index = {start: i for i, (start, _e, _w) in enumerate(words)}
        for hit in self.protected.find(text, words):
            if hit.phrase in self.protected_eponyms:
                i = index[hit.start]
                raw = text[hit.start : hit.end]
                nxt = [words[k][2] for k in range(i + 1, min(i + 3, len(words)))]
                if not (POSSESSIVE_RE.search(raw) or any(w in CLINICAL_HEADS for w in nxt)):
                    continue
            ranges.append((hit.start, hit.end))
        return ranges
