"""Proper nouns the name lists and NER miss: foreign names and small towns ("Shovda is very reliable", "flew to
LEPPEN"), names after a cue ("my name is vitoria", "What's your last name? Boyle"), full-name shapes
("Maja S Hermansen"), speaker labels of a transcript and lists of names.

A capitalised word that is not an English word, not a drug or a medical term by its ending and not used like a
medication is taken for a proper noun. These detections are weak: the protected clinical terms override them.
"""

from __future__ import annotations

import re
from bisect import bisect_left

from app.core.redact.base import Kind, Span
from app.core.redact.intervals import Ranges
from app.core.redact.lexicon import CLINICAL_HEADS, MEDICAL_ENDINGS, NameLists, shipped_words
from app.core.redact.name_words import FUNCTION_WORDS, TITLES_ABBREV, TITLES_WORD
from app.core.redact.rules_dates import CALENDAR_WORDS, WEEKDAY_ABBREVIATIONS
from app.core.redact.rules_names import Word, name_label
from app.core.redact.vetoes_clinical import MEDICATION_BEFORE, drug_in_context

PLACE_BEFORE = re.compile(
    r"\b(?:in|from|to|at|near|into|toward|towards|around|visiting|outside|of|via|where)\s*:?\s*$", re.IGNORECASE
)
# Words after a sentence's subject: "Shovda is very reliable", "Leppen said".
SUBJECT_VERBS = shipped_words("subject_verbs.txt")
# "her son rajesh", "my wife, Ingrid": a relative named right after the word for them.
RELATIVES = (
    r"wife|husband|son|daughter|mother|father|mum|mom|dad|brother|sister|partner|fianc[eé]e?|girlfriend|boyfriend|"
    r"grandson|granddaughter|grandmother|grandfather|niece|nephew|aunt|uncle|cousin|carer|caregiver|neighbou?r"
)
NAME_CUE = re.compile(
    r"(?:\b(?:first|last|middle|maiden|full|sur|given|family|user|account|patient'?s?)?\s*"
    r"name(?:\s+(?:is|was|on the \w+))?|\bcalled|\bnamed|\bknown as|\bgoes by|\baka|\bi'?m|\bi am|\bthis is|"
    r"\bspeak (?:to|with)|\btalk(?:ed)? (?:to|with)|"
    r"\bask for|\bfollow(?:ed)?[ -]up with|\bspoke (?:to|with)|\bdirected by|\bwritten by|\bsigned by|\bsaid|"
    rf"\b(?:his|her|their|my|your|our)\s+(?:{RELATIVES})\s*,?)"
    r"\s*[:?]?\s*(?:\w+:\s*)?$",
    re.IGNORECASE,
)
RELATIVE_CUE = re.compile(rf"\b(?:his|her|their|my|your|our)\s+(?:{RELATIVES})\s*,?\s*:?\s*$", re.IGNORECASE)
# Any word that can end a name cue; the full cue is checked only after one of these.
CUE_WORD = re.compile(
    rf"\b(?:name|is|was|called|named|as|by|aka|i'?m|am|this|to|with|for|said|account|{RELATIVES}|\w+:)\b\W*",
    re.IGNORECASE,
)
SPEAKER_LABEL = re.compile(r"^\s*>?\s*([A-Z][\w'’\-\u00C0-\u024F]*(?: [A-Z][\w'’\-\u00C0-\u024F]*)?)\s*:", re.MULTILINE)
# Form fields and note sections ("Name:", "Plan:"): a line they open has no speaker label.
FIELD_LABELS = shipped_words("field_labels.txt")


def _sentence_start(text: str, start: int) -> bool:
    before = text[max(0, start - 4) : start].rstrip(" \t\"'“(>")
    return not before or before[-1] in ".!?:;\n"


class ProperNounRules:
    def __init__(self, text: str, words: list[Word], names: NameLists, found: list[Span]) -> None:
        self.text = text
        self.words = words
        self.names = names
        self.found = found  # detections so far (NER and rules): speaker labels and lists lean on them
        self.spans: list[Span] = []
        self._index_of = {w.start: k for k, w in enumerate(words)}  # `words.index` scanned the list per word

    def run(self) -> list[Span]:
        self.unknown_capitalised()
        self.after_cues()
        self.initial_shapes()
        self.speaker_labels()
        self.enumerations()
        return self.spans

    def _add(self, start: int, end: int, kind: Kind, confidence: float, source: str = "rule:proper") -> None:
        label = name_label(self.text, start, end) if kind == Kind.NAME else "LOCATION"
        self.spans.append(Span(start, end, kind, self.text[start:end], confidence, source, label))

    def _unknown(self, w: Word) -> bool:
        norm = w.norm
        if len(norm) < 3 or any(ch.isdigit() for ch in norm) or norm in FUNCTION_WORDS:
            return False
        if norm.rstrip("s") in CALENDAR_WORDS or norm in WEEKDAY_ABBREVIATIONS:
            return False  # a weekday or month the date rules left alone: a schedule ("Monday, Wednesday, Friday")
        if re.search(r"['’](?:m|d|re|ve|ll|t|s)$", norm) or re.fullmatch(r"[A-Z]{2,}s", w.raw):
            return False  # "I'm", "you're", "CEOs"
        if norm in self.names.first or norm in self.names.surnames:
            return True  # listed names that are not English words
        if norm in self.names.first_ambiguous and w.titlecase and self._stands_alone(w):
            return True  # "Remember me, Maria?": a first name that is also a word, capitalised mid-sentence
        if norm in self.names.proper and self._after_place_word(w):
            return True  # "moved here from Tunisia": a dictionary place name used as a place
        if self.names.known_word(norm) or re.search(r"[a-z][A-Z]", w.raw):
            return False  # an ordinary word, or a product name in camel case ("MedRec")
        # Every part of "RNA-based", "D-dimer", "African-American" must be unknown for the word to be.
        parts = [p for p in re.split(r"[-'’.]", norm) if p]
        if any(len(p) < 3 or self.names.known_word(p) or p in FUNCTION_WORDS for p in parts):
            return False
        return not MEDICAL_ENDINGS.search(norm)

    def _stands_alone(self, w: Word) -> bool:
        """Mid-sentence and not inside a Title Case Phrase ("Labor Day", "Secretly Love")."""
        if _sentence_start(self.text, w.start):
            return False
        k = self._index_of[w.start]
        for j in (k - 1, k + 1):
            if 0 <= j < len(self.words) and self.words[j].titlecase:
                gap = self.text[min(w.end, self.words[j].end) : max(w.start, self.words[j].start)]
                if gap.strip() == "" and not self.names.is_name_word(self.words[j].norm):
                    return False
        return True

    def _after_place_word(self, w: Word) -> bool:
        return bool(PLACE_BEFORE.search(self.text[max(0, w.start - 20) : w.start]))

    def _capitalised(self, w: Word) -> bool:
        if w.raw.isupper():
            if len(w.raw) < 5:
                return False
            # Upper-case place names ("HARSTAD") have vowels like words; abbreviations ("NSTEMI") mostly not.
            return not w.raw.isascii() or sum(ch in "AEIOUY" for ch in w.raw) >= 2
        return w.titlecase

    def unknown_capitalised(self) -> None:
        words = self.words
        i = 0
        while i < len(words):
            w = words[i]
            if not (self._capitalised(w) and self._unknown(w)):
                i += 1
                continue
            # Take neighbouring capitalised words of the same name: "Calquín Cazares", "Villafranca del Cid".
            first, last = i, i
            while first > 0 and self._joined(first - 1) and self._name_part(words[first - 1]):
                first -= 1
            while first < i and self._opening_word(words[first]):
                first += 1  # "Known Parkinson's", "Positive Babinski": the sentence's first word is not the name's
            while (
                last + 1 < len(words)
                and self._joined(last)
                and self._name_part(words[last + 1])
                and words[last + 1].norm not in CLINICAL_HEADS
            ):
                last += 1
            start, end = words[first].start, words[last].end
            i = last + 1
            before = self.text[max(0, start - 30) : start]
            possessive = bool(re.search(r"['’]s?$", self.text[start:end]))
            if drug_in_context(self.text, start, end) or (
                MEDICATION_BEFORE.search(before[-14:]) and not PLACE_BEFORE.search(before) and not possessive
            ):
                continue
            if PLACE_BEFORE.search(before):
                self._add(start, end, Kind.LOCATION, 0.5)
            elif self.text[start:end].isupper():
                continue  # upper-case words are headings and abbreviations unless a preposition makes them places
            elif not _sentence_start(self.text, start):
                self._add(start, end, Kind.NAME, 0.55)
            else:
                nxt = words[last + 1].norm if last + 1 < len(words) else ""
                if nxt in SUBJECT_VERBS or self.text[end : end + 1] == "," or last > first:
                    self._add(start, end, Kind.NAME, 0.5)

    def _opening_word(self, w: Word) -> bool:
        return (
            _sentence_start(self.text, w.start) and w.norm in self.names.english and not self.names.is_name_word(w.norm)
        )

    def _joined(self, i: int) -> bool:
        gap = self.text[self.words[i].end : self.words[i + 1].start]
        return gap in (" ", "-")

    def _name_part(self, w: Word) -> bool:
        if w.norm in ("del", "de", "la", "van", "von", "der", "da", "di", "le", "du", "dos", "das", "bin", "al"):
            return True
        return self._capitalised(w) and w.norm not in FUNCTION_WORDS and w.norm not in TITLES_ABBREV

    def after_cues(self) -> None:
        # The cue regex ends at "$": run it once per candidate position, found by a cheap scan of cue words.
        starts = [w.start for w in self.words]
        candidates: set[int] = set()
        for m in CUE_WORD.finditer(self.text):
            k = bisect_left(starts, m.end())
            candidates.update(range(k, min(k + 2, len(self.words))))
        for idx in sorted(candidates):
            w = self.words[idx]
            if not NAME_CUE.search(self.text[max(0, w.start - 40) : w.start]):
                continue
            relative = RELATIVE_CUE.search(self.text[max(0, w.start - 40) : w.start])
            # "her son Will visits": a first name that is also a function word, capitalised after a relative.
            named_relative = relative and w.titlecase and self.names.is_first(w.norm)
            if (
                (w.norm in FUNCTION_WORDS and not named_relative)
                or w.norm in TITLES_WORD
                or any(ch.isdigit() for ch in w.raw)
            ):
                continue
            if self.text[w.end : w.end + 1] == ":":  # a field label ("User:"), not the name after it
                continue
            if not (w.titlecase or (w.raw.islower() and self._cue_word(w))):
                continue
            if relative and self._history_after_relative(idx):
                continue
            last = idx
            while last + 1 < len(self.words) and last < idx + 2 and self._joined(last):
                nxt = self.words[last + 1]
                if nxt.norm in FUNCTION_WORDS or not (nxt.titlecase or (nxt.raw.islower() and self._cue_word(nxt))):
                    break
                last += 1
            self._add(w.start, self.words[last].end, Kind.NAME, 0.6)

    def _history_after_relative(self, idx: int) -> bool:
        """'her mother Type 2 diabetes', 'Her husband Ischaemic heart disease': a family history, not a name."""
        w = self.words[idx]
        following = [x.norm for x in self.words[idx + 1 : idx + 4]]
        if any(n in CLINICAL_HEADS for n in following) or re.match(r"\s*\d", self.text[w.end : w.end + 3]):
            return True
        if self.names.is_name_word(w.norm):
            return False  # "her son Will", "my wife Grace"
        return self.names.known_word(w.norm) or bool(MEDICAL_ENDINGS.search(w.norm))

    def _cue_word(self, w: Word) -> bool:
        """After "my name is" a lower-case word is a name unless it is an ordinary word."""
        return (len(w.norm) >= 2 and w.norm.isalpha() and not self.names.known_word(w.norm)) or (
            w.norm in self.names.first or w.norm in self.names.surnames
        )

    def initial_shapes(self) -> None:
        """'Maja S Hermansen', 'Vide A. Persson': first name, initial, surname."""
        for m in re.finditer(r"\b([A-Z][^\W\d_]+)\s+[A-Z]\.?\s+([A-Z][^\W\d_]+(?:[-'][A-Z][^\W\d_]+)?)\b", self.text):
            if m.group(1).lower() in FUNCTION_WORDS or m.group(1).lower() in TITLES_ABBREV:
                continue
            if any(self._charting_capitals(m.group(g)) for g in (1, 2)):
                continue  # "67 YO M ADMITTED": capitals of a note, an abbreviation and a word, no name
            self._add(m.start(), m.end(), Kind.NAME, 0.75)

    def _charting_capitals(self, word: str) -> bool:
        """A word in capitals that is an abbreviation or an ordinary word ("YO", "ADMITTED"), not a name."""
        lower = word.lower()
        ordinary = self.names.known_word(lower) and not self.names.is_name_word(lower)
        return word.isupper() and (len(word) < 3 or ordinary)

    def speaker_labels(self) -> None:
        """'Nicole: Remember me?' lines: if one speaker label is a known name, the others are names too."""
        labels = [m for m in SPEAKER_LABEL.finditer(self.text) if m.group(1).lower() not in FIELD_LABELS]
        if len(labels) < 2:
            return
        names = Ranges((s.start, s.end) for s in self.found if s.kind == Kind.NAME)
        if not any(names.covers(m.start(1)) for m in labels):
            return
        for m in labels:
            self._add(m.start(1), m.end(1), Kind.NAME, 0.6)

    def enumerations(self) -> None:
        """'Efimiya, Mary, Ariana and Jodi': a list whose items are mostly names is all names."""
        item = r"[A-Z][^\W\d_]+(?: [A-Z][^\W\d_]+)?"
        # Indexed once: the spans this loop adds lie inside earlier matches, so they never hold a later item.
        known = Ranges((s.start, s.end) for s in [*self.found, *self.spans] if s.kind == Kind.NAME)
        for m in re.finditer(rf"{item}(?:, {item}){{1,}},? (?:and|&) {item}", self.text):
            parts = [p for p in re.split(r", |,? and |,? & ", m.group()) if p]
            offsets = []
            pos = m.start()
            for part in parts:
                at = self.text.index(part, pos)
                offsets.append((at, at + len(part)))
                pos = at + len(part)
            named = sum(known.covers(a) for a, _b in offsets)
            all_listed = all(self.names.is_name_word(p.lower()) for p in parts if " " not in p)
            if named * 2 >= len(parts) or (named and all_listed):
                for a, b in offsets:
                    self._add(a, b, Kind.NAME, 0.6)


def looks_clinical(words: list[Word]) -> bool:
    """A clinical note is full of drug and medical terms; its capitalised unknown words are mostly brand names."""
    long_words = [w for w in words if len(w.norm) >= 6 and w.norm.isalpha()]
    if len(long_words) < 20:
        return False
    # Each distinct word is tested once: a long text repeats its words, and the ending pattern is slow to search.
    ending = {norm: MEDICAL_ENDINGS.search(norm) is not None for norm in {w.norm for w in long_words}}
    medical = sum(1 for w in long_words if ending[w.norm])
    return medical / len(long_words) >= 0.12


def find_proper_nouns(text: str, words: list[Word], names: NameLists, found: list[Span]) -> list[Span]:
    from app.core.redact.rules_names import is_lowercase_text

    rules = ProperNounRules(text, words, names, found)
    if is_lowercase_text(text):
        rules.after_cues()
        return rules.spans
    if looks_clinical(words):
        rules.after_cues()
        rules.initial_shapes()
        return rules.spans
    return rules.run()
