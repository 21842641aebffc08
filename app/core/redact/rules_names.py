"""Names the language model misses: after a title ("Dr. Gomez", "mrs . martinez"), from the census name lists
("andrew", "James T."), spelled out in dictation ("Smith, S M I T H"), and every later mention of a name already
found in the same text. Also decides whose name it is (patient, relative, clinician) for the placeholder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from app.core.redact.base import Kind, Span
from app.core.redact.lexicon import MEDICAL_ENDINGS, Lexicon, normalise_word
from app.core.redact.name_words import FUNCTION_WORDS, NOT_FIRST_NAMES, TITLES_ABBREV, TITLES_WORD

CLINICIAN_BEFORE = re.compile(
    r"\b(?:dr|doctor|prof|professor|nurse|np|pa-c|pa|rn|lpn|lvn|cna|crna|aprn|fnp|rrt|md|physician|surgeon|attending|resident|fellow|provider|"
    r"cardiologist|oncologist|neurologist|pcp|therapist|dentist|radiologist|referred by|seen by|dictated by|"
    r"signed by|cc|consultant|colleague)\.?\s*:?\s*$",
    re.IGNORECASE,
)
CLINICIAN_AFTER = re.compile(
    r"^,?\s*(?:md|m\.d\.|do|d\.o\.|rn|lpn|lvn|cna|crna|aprn|fnp|np|pa-c|pa|rrt|dds|phd|mbbs|frcp)\b", re.IGNORECASE
)
RELATIVE_BEFORE = re.compile(
    r"\b(?:wife|husband|son|daughter|mother|mom|mum|father|dad|brother|sister|aunt|uncle|niece|nephew|"
    r"grandmother|grandfather|grandma|grandpa|grandson|granddaughter|partner|fianc[eé]e?|girlfriend|boyfriend|"
    r"cousin|friend|caregiver|carer|guardian|neighbou?r|spouse|sibling|child|parent)(?:'s)?"
    r"\s*(?:,|is|was|named|called)?\s*$",
    re.IGNORECASE,
)
_PERSON_TITLES = frozenset({"doctor", "professor", "nurse", "mister", "missus"})
_POSSESSIVE = re.compile(r"['’]s$|s['’]$", re.IGNORECASE)
SPELLED_RE = re.compile(r"(?<![\w'])(?:[A-Za-z][\s.,-]{1,3}){2,}[A-Za-z](?![\w'])")
SPELL_CUE = re.compile(r"(?:spell\w*|that's|that is|last name|first name|surname|name is|name's)\W*$", re.IGNORECASE)


@dataclass(frozen=True)
class Word:
    start: int
    end: int
    raw: str
    norm: str

    @property
    def titlecase(self) -> bool:
        return (self.raw[:1].isupper() and not self.raw.isupper()) or (len(self.raw) == 1 and self.raw.isupper())


@lru_cache(maxsize=16)
def is_lowercase_text(text: str) -> bool:
    """Dictation and transcripts often come without capitals; the name rules change their evidence then."""
    letters = sum(map(str.isalpha, text))
    upper = sum(map(str.isupper, text))
    return letters > 0 and upper / letters < 0.02


def name_label(text: str, start: int, end: int) -> str:
    """PATIENT unless the words around say clinician or relative."""
    before = text[max(0, start - 30) : start]
    if CLINICIAN_BEFORE.search(before) or CLINICIAN_AFTER.match(text[end : end + 12]):
        return "CLINICIAN"
    if RELATIVE_BEFORE.search(before):
        return "RELATIVE"
    return "PATIENT"


class NameRules:
    def __init__(self, text: str, words: list[Word], lexicon: Lexicon) -> None:
        self.text = text
        self.words = words
        self.names = lexicon.names
        self.clinical = lexicon.protected
        self.clinical_words = lexicon.clinical_words
        self.lower = is_lowercase_text(text)
        self.spans: list[Span] = []

    def add(self, first: int, last: int, confidence: float, source: str) -> None:
        start, end = self.words[first].start, self.words[last].end
        label = name_label(self.text, start, end)
        self.spans.append(Span(start, end, Kind.NAME, self.text[start:end], confidence, source, label))

    def gap(self, i: int) -> str:
        """Text between word i and word i+1."""
        return self.text[self.words[i].end : self.words[i + 1].start] if i + 1 < len(self.words) else ""

    def run(self) -> list[Span]:
        self.after_titles()
        self.from_name_lists()
        if self.lower:
            self.unknown_before_surname()
        self.spelled()
        return self.spans

    def _name_like(self, w: Word, strict: bool, title: str = "", after_name: bool = False) -> bool:
        if w.norm in FUNCTION_WORDS or any(ch.isdigit() for ch in w.raw):
            return False
        if not self.lower:
            return w.titlecase
        # "doctor okonkwo": after a title, a word no list or dictionary knows is a name too ("doctor said" is not).
        # Family titles ("father copd", "sister htn") are followed by abbreviations too often to count.
        # A surname after the first name may be short ("doctor okonkwo eze"); alone, three letters are too often an
        # abbreviation.
        shortest = 3 if after_name else 4
        letters = w.norm.replace("-", "").replace("'", "")
        unknown = title in _PERSON_TITLES and len(w.norm) >= shortest and letters.isalpha()
        unknown = unknown and not any(self.names.known_word(p) for p in re.split(r"[-']", w.norm) if p)
        unknown = unknown and not w.norm.endswith(("ed", "ing"))  # "nurse triaged", "doctor auscultating"
        return not strict or self.names.is_name_word(w.norm) or (unknown and not self._clinical_word(w.norm))

    def _clinical_word(self, norm: str) -> bool:
        """'nurse cannula sited', 'doctor salbutamol nebs given': a drug or ward word, not the clinician's name."""
        return norm in self.clinical or norm in self.clinical_words or bool(MEDICAL_ENDINGS.search(norm))

    def after_titles(self) -> None:
        for i, w in enumerate(self.words[:-1]):
            if w.norm not in TITLES_ABBREV and w.norm not in TITLES_WORD:
                continue
            if not self.lower and not w.titlecase:
                continue
            if w.norm in TITLES_ABBREV:
                # "Dr. Gomez", "dr . gomez", "Mrs Ward"
                if not re.fullmatch(r"\s*\.?\s*", self.gap(i)):
                    continue
            elif not re.fullmatch(r"\s+", self.gap(i)):
                continue
            strict = w.norm in TITLES_WORD  # "doctor said" is not a name; "doctor cruz" is
            j = i + 1
            last = -1
            guessed = False
            while (
                j < len(self.words)
                and j <= i + 3
                # In lower case a word after the name must be a name too: "doctor okonkwo copd review".
                and self._name_like(
                    self.words[j], (strict and j == i + 1) or guessed or (self.lower and j > i + 1), w.norm, j > i + 1
                )
            ):
                last = j
                if _POSSESSIVE.search(self.words[j].raw):
                    break  # "mr o'sullivan's knee": the possessive ends the name
                # "doctor okonkwo reviewed": after a guessed word, only listed name words belong to the name.
                guessed = guessed or (self.lower and strict and not self.names.is_name_word(self.words[j].norm))
                if not re.fullmatch(r"\.?\s+|\s*-\s*", self.gap(j)) or not self._full_stop_inside(j):
                    break
                j += 1
                strict = True
            if last > i:
                # "Dr. J." alone: the title and the initial together are the identifier
                first = i if last == i + 1 and len(self.words[last].raw) == 1 else i + 1
                self.add(first, last, 0.9 if not strict or not self.lower else 0.8, "rule:title")
                if first == i and self.text[self.words[last].end : self.words[last].end + 1] == ".":
                    span = self.spans.pop()
                    self.spans.append(span.moved(span.start, span.end + 1, self.text[span.start : span.end + 1]))

    def from_name_lists(self) -> None:
        words = self.words
        i = 0
        while i < len(words):
            w = words[i]
            first_ok = w.norm in self.names.first
            ambiguous = w.norm in self.names.first_ambiguous
            if (
                not (first_ok or ambiguous)
                or (not self.lower and not w.titlecase)
                or len(w.norm) < 2
                or w.norm in FUNCTION_WORDS
                or w.norm in NOT_FIRST_NAMES
            ):
                i += 1
                continue
            last = i
            j = i + 1
            # Middle initial ("James T."), then up to two surnames.
            while j < len(words) and j <= i + 3 and self._joined(j - 1):
                nxt = words[j]
                if self.lower and self._lower_initial(j):
                    last = j + 1  # "maria l fenton": a middle initial before a surname
                    j += 2
                    continue
                if self.lower:
                    # After a first name that is also a word ("rob nice to see you") the surname must be no word
                    # either; after another ("john smith") it may be one, but not a verb's form ("pawel comes").
                    surname = nxt.norm in self.names.surnames or (
                        first_ok and nxt.norm in self.names.surnames_ambiguous and not self._verb_form(nxt.norm)
                    )
                    ok = nxt.norm not in FUNCTION_WORDS and surname
                else:
                    ok = (nxt.titlecase and nxt.norm not in FUNCTION_WORDS and not nxt.raw.isupper()) or (
                        len(nxt.raw) == 1 and nxt.raw.isupper() and nxt.raw != "I"
                    )
                if not ok:
                    break
                last = j
                j += 1
            if ambiguous and last == i:
                i += 1
                continue
            confidence = 0.8 if last > i else (0.7 if not self.lower else 0.65)
            if ambiguous:
                confidence = 0.6
            # An initial after the name keeps its full stop inside the span: "James T."
            self.add(i, last, confidence, "rule:names")
            if len(words[last].raw) == 1 and self.text[words[last].end : words[last].end + 1] == ".":
                span = self.spans.pop()
                self.spans.append(span.moved(span.start, span.end + 1, self.text[span.start : span.end + 1]))
            i = last + 1

    def _lower_initial(self, j: int) -> bool:
        """'maria l fenton': in dictation without capitals, one letter between a first name and a listed surname
        (no English word) is a middle initial."""
        words = self.words
        if len(words[j].raw) != 1 or words[j].norm == "i" or j + 1 >= len(words) or not self._joined(j):
            return False
        nxt = words[j + 1].norm
        return nxt in self.names.surnames and not self.names.is_ambiguous(nxt) and nxt not in FUNCTION_WORDS

    def unknown_before_surname(self) -> None:
        """'haruki sato', 'thorunn gudmundsdottir': in dictation without capitals, a word no dictionary knows right
        before a listed surname that is no English word is the first name the census lists lack."""
        for k in range(len(self.words) - 1):
            a, b = self.words[k], self.words[k + 1]
            if not self._joined(k) or "." in self.gap(k):
                continue
            surname = b.norm in self.names.surnames and not self.names.is_ambiguous(b.norm)
            if surname and self._unknown_word(a.norm) and b.norm not in FUNCTION_WORDS:
                self.add(k, k + 1, 0.7, "rule:names")

    def _unknown_word(self, norm: str) -> bool:
        return (
            len(norm) >= 3
            and norm.isalpha()
            and norm not in FUNCTION_WORDS
            and not self.names.known_word(norm)
            and not self.names.is_name_word(norm)
            and not self._clinical_word(norm)
        )

    def _verb_form(self, norm: str) -> bool:
        """'comes', 'walked', 'going': an English verb with its ending, not a surname after a first name."""
        stems = [norm[: -len(e)] for e in ("s", "es", "ed", "ing") if norm.endswith(e) and len(norm) > len(e) + 2]
        return any(stem in self.names.english for stem in stems)

    def _joined(self, i: int) -> bool:
        """Words i and i+1 sit side by side in one name (a space, or an initial's full stop)."""
        gap = self.gap(i)
        return bool(re.fullmatch(r" ?\.? ?|\s", gap)) and "\n" not in gap and self._full_stop_inside(i)

    def _full_stop_inside(self, i: int) -> bool:
        """A full stop after word i belongs to a name only after an initial: "James T. Kirk", not "Anna Clark.
        Letter sent"."""
        return "." not in self.gap(i) or len(self.words[i].raw) == 1

    def spelled(self) -> None:
        for m in SPELLED_RE.finditer(self.text):
            letters = re.sub(r"[^A-Za-z]", "", m.group()).lower()
            if len(letters) < 3:
                continue
            before = self.text[max(0, m.start() - 80) : m.start()]
            echo = [w for w in re.finditer(r"[A-Za-z][A-Za-z'-]+", before) if w.group().lower() == letters]
            cue = SPELL_CUE.search(before[-25:])
            if not (echo or cue or self.names.is_name_word(letters)):
                continue
            label = name_label(self.text, m.start(), m.end())
            self.spans.append(Span(m.start(), m.end(), Kind.NAME, m.group(), 0.9, "rule:spelled", label))
            base = max(0, m.start() - 80)
            for w in echo:
                a, b = base + w.start(), base + w.end()
                self.spans.append(Span(a, b, Kind.NAME, self.text[a:b], 0.9, "rule:spelled", label))


def words_of(text: str) -> list[Word]:
    from app.core.redact.lexicon import TOKEN_RE

    return [Word(m.start(), m.end(), m.group(), normalise_word(m.group())) for m in TOKEN_RE.finditer(text)]


def find_names(text: str, words: list[Word], lexicon: Lexicon) -> list[Span]:
    return NameRules(text, words, lexicon).run()


def spelled_key(text: str) -> str:
    """'S M I T H' and 'Smith' give the same key, so both get one placeholder."""
    return re.sub(r"[^a-z]", "", text.lower())
