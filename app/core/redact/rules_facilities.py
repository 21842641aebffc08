"""Hospitals, clinics and other named places of care: "St Vincent's", "Larkfield Family Clinic", "seen at UCSF".

A kind of place ("the clinic", "Cardiology") is not an identifier; a particular one is. Street addresses and
postcodes are in `rules_locations`.
"""

from __future__ import annotations

import re

from app.core.redact.base import Span
from app.core.redact.lexicon import shipped_words
from app.core.redact.name_words import FUNCTION_WORDS
from app.core.redact.rules_dates import CALENDAR_WORDS
from app.core.redact.rules_locations import CAPITALISED, place_span

FACILITY_WORDS = (
    r"hospital|hosp|clinic|clinics|medical cent(?:er|re)|med\.? cent(?:er|re)|health cent(?:er|re)|"
    r"healthcare|health care|health system|medical group|infirmary|sanatorium|hospice|nursing home|care home|"
    r"rehabilitation cent(?:er|re)|rehab cent(?:er|re)|surgery cent(?:er|re)|surgical cent(?:er|re)|urgent care|"
    r"memorial|institute|cancer cent(?:er|re)|heart cent(?:er|re)|children'?s|general|va|practice|pharmacy|"
    r"laboratories|imaging|center|centre|branch|office|assisted living|senior living|skilled nursing|manor|"
    r"retirement home|retirement community|care cent(?:er|re)|living cent(?:er|re)"
)
FACILITY_RE = re.compile(
    rf"(?:\b(?:St\.?|Saint|Mount|Mt\.?)\s+)?(?:(?:{CAPITALISED}|[A-Z]{{3,6}})(?:\s+|-|\s+(?:of|and|&)\s+)){{1,4}}"
    rf"(?i:{FACILITY_WORDS})\b\.?"
)
# "St. Casimir parish", "St Anne's church": the kind of place after a saint's name belongs to the place's name.
SAINT_RE = re.compile(
    rf"\b(?:St\.?|Saint|Mount|Mt\.?)\s+{CAPITALISED}(?:'s|’s)?(?:\s+{CAPITALISED})?"
    r"(?:\s+(?:parish|church|cathedral|chapel|school|college|academy)\b)?"
)
VISIT_CUE = re.compile(
    r"\b(?:seen|treated|admitted|evaluated|presented|operated|followed|transferred|referred|discharged|visited|"
    r"hospitali[sz]ed|diagnosed|examined|assessed|delivered|born|managed|cared for|attends?|works)\s+"
    r"(?:(?:on\s+\S+\s+)?(?:at|to|from|in)\s+)?(?:the\s+|our\s+)?",
    re.IGNORECASE,
)
# "at UCSF on March 15th", "at Johns Hopkins, ...": a capitalised name after "at" that ends where the clause does.
AT_PLACE = re.compile(
    rf"\b(?:at\s+(?:the\s+)?(?P<place>(?:(?:{CAPITALISED}|[A-Z]{{2,6}})(?:-|\s+)){{0,3}}(?:{CAPITALISED}|[A-Z]{{3,6}}))|"
    rf"from\s+(?:the\s+)?(?P<place2>(?:{CAPITALISED}(?:-|\s+)){{0,3}}{CAPITALISED}))"
    r"(?=\s+(?:on|in|for|from|and|last|this|since|with|after|before|to)\b|\s*[,.;:)?!]|\s*$)"
)
# Words that name a kind of place, not a particular one: "seen at Clinic", "admitted to Cardiology".
GENERIC_PLACES = shipped_words("generic_places.txt") | CALENDAR_WORDS


# A doctors' practice named without "Hospital" or "Clinic": "Lakeside Family Medicine", "Brookfield Heart Associates".
PRACTICE_WORDS = shipped_words("practice_words.txt")
PRACTICE_DESCRIPTORS = shipped_words("practice_descriptors.txt")
NOT_PRACTICE_WORDS = shipped_words("not_practice_words.txt")
PRACTICE_RE = re.compile(
    rf"(?:(?:{CAPITALISED}|[A-Z]{{3,6}})(?:\s+|-|\s+(?:of|and|&)\s+)){{1,4}}"
    rf"(?i:{'|'.join(sorted(PRACTICE_WORDS, key=len, reverse=True))})\b"
)
# Words before a practice in a note written in capitals, where capitals say nothing: "FOLLOW UP WITH ...".
PRACTICE_CUE = re.compile(
    r"\b(?:with|to|at|from|by|per|sees|seen|see|follows|f/u|call|called|contact|referral|referred)\s*:?\s*$", re.I
)

# Lower-case dictation: "st marys hospital", "boston general hospital".
FACILITY_LOWER = re.compile(
    r"\b(?P<name>(?:(?:st|saint|mount|mt)\.?\s+)?[a-z][a-z'’.-]+(?:\s+[a-z][a-z'’.-]+){0,2})\s+"
    r"(?:hospital|clinic|medical cent(?:er|re)|health cent(?:er|re)|infirmary|memorial)\b"
)


# A word of four letters or more with a full stop after it ends the sentence, not a place's name ("from Fall River.
# Pt on ...", "at Northshore University Hospital. Transferred ..."); "St." and "Mt." do not.
_SENTENCE_END = re.compile(r"(?<=[^\W\d_]{4})\.\s")


def _before_sentence_end(phrase: str) -> str:
    m = _SENTENCE_END.search(phrase)
    return phrase[: m.start()] if m else phrase


def _breaks_name(word: str, capitals: bool = False) -> bool:
    """A function word inside a run of capitalised words ends the name before it ("Review In Clinic"); in a note
    written in capitals too ("RX SENT TO PHARMACY")."""
    lower = word.lower()
    return lower in FUNCTION_WORDS and lower not in ("of", "and", "the") and (capitals or not word.isupper())


def _clinical_words(phrase: str, clinical: frozenset[str]) -> bool:
    """'Cardiolite imaging', 'Eye Clinic', 'T-cell': a test, an organ or a cell type, not a particular place."""
    if re.fullmatch(r"[A-Z]-[a-z]+", phrase):
        return True
    words = [w for w in re.findall(r"[^\W\d_]+", phrase.lower()) if w not in FUNCTION_WORDS]
    return bool(words) and all(w in clinical for w in words)


def find_facilities(text: str, english: frozenset[str], clinical: frozenset[str] = frozenset()) -> list[Span]:
    spans: list[Span] = []
    for m in FACILITY_RE.finditer(text):
        start = m.start()
        # Title Case prose ("Review In Clinic", "Seen At The Hospital"): a name does not run across a preposition.
        capitals = m.group().isupper()
        cut = [w for w in re.finditer(r"[\w']+", m.group()[:-1]) if _breaks_name(w.group(), capitals)]
        if cut:
            start = m.start() + cut[-1].end()
        words = re.findall(r"[\w']+", text[start : m.end()].lower())
        if len(words) < 2:
            continue
        if all(w.strip("'s") in GENERIC_PLACES or w in FUNCTION_WORDS for w in words[:-1]) and len(words) <= 2:
            continue
        if words and words[0] in FUNCTION_WORDS:
            continue
        first = m.group().split()[0]
        if len(words) == 2 and first.isupper() and len(first) <= 2:
            continue  # "TM center"
        if all(re.fullmatch(rf"(?:{FACILITY_WORDS}|health|medical|surgery|special|care|unit)", w) for w in words):
            continue  # "Health Center", "Special Care Unit": a kind of place, not a particular one
        if _clinical_words(text[start : m.end()].rsplit(None, 1)[0], clinical):
            continue
        spans.append(place_span(text, start, m.end(), 0.85, "rule:facility", "FACILITY"))
    spans += _practices(text, english, clinical)
    for m in FACILITY_LOWER.finditer(text):
        words = m.group("name").split()
        # Keep only the words that name the place: a saint, or words no dictionary knows ("cedars sinai").
        while (
            words
            and words[0].strip(".") not in ("st", "saint", "mount", "mt")
            and (words[0] in FUNCTION_WORDS or words[0] in english or words[0] in GENERIC_PLACES)
        ):
            words.pop(0)
        if not words or all(w in english or w in GENERIC_PLACES for w in words):
            continue
        start = m.end("name") - len(" ".join(words))
        spans.append(place_span(text, start, m.end(), 0.7, "rule:facility", "FACILITY"))
    for m in SAINT_RE.finditer(text):
        spans.append(place_span(text, m.start(), m.end(), 0.8, "rule:facility", "FACILITY"))
    for m in AT_PLACE.finditer(text):
        group = "place" if m.group("place") else "place2"
        phrase = _before_sentence_end(m.group(group))
        words = re.findall(r"[\w']+", phrase.lower())
        if not words or words[0] in GENERIC_PLACES or all(w in GENERIC_PLACES or w in FUNCTION_WORDS for w in words):
            continue
        if len(words) == 1 and words[0] in english and not phrase.isupper():
            continue  # "at Rest", "at Home": an ordinary word with a capital
        if group == "place2" and phrase.isupper():
            continue  # "from COPD": an abbreviation, not a place
        if re.search(r"\d", phrase):
            continue  # "at C5-C6", "from L4-L5": spinal levels and other codes, not places
        if phrase.isupper() and phrase in ("ATM", "ICU", "NICU", "PICU", "CCU", "PACU", "OR", "ER", "ED", "PCP", "GP"):
            continue
        start = m.start(group)
        spans.append(place_span(text, start, start + len(phrase), 0.6, "rule:facility", "FACILITY"))
    for m in VISIT_CUE.finditer(text):
        nm = re.match(
            rf"(?:(?:{CAPITALISED}|[A-Z]{{2,6}}|St\.)(?:\s+|-|\s+(?:of|and|&)\s+)?){{1,5}}",
            text[m.end() : m.end() + 80],
        )
        if not nm:
            continue
        phrase = nm.group().strip(" -")
        stop = next((w for w in re.finditer(r"[\w']+", phrase) if w.start() and _breaks_name(w.group(), True)), None)
        if stop is not None:
            phrase = phrase[: stop.start()].rstrip(" -")  # "ADMITTED FROM MERCY HOSPITAL ON 11/2"
        words = re.findall(r"[\w']+", phrase.lower())
        if not words or all(w in GENERIC_PLACES for w in words) or words[0] in GENERIC_PLACES:
            continue
        if _clinical_words(phrase, clinical):
            continue  # "diagnosed T-cell lymphoma"
        spans.append(place_span(text, m.end(), m.end() + len(phrase), 0.75, "rule:facility", "FACILITY"))
    return spans


def _practices(text: str, english: frozenset[str], clinical: frozenset[str]) -> list[Span]:
    """'Lakeside Family Medicine', 'Brookfield Heart Associates': a name besides the words for the kind of practice
    ("Internal Medicine" and "Pediatric Associates" are kinds). In capitals, an ordinary word ("LAKESIDE") counts
    only after a word that introduces a practice ("FOLLOW UP WITH ...")."""
    spans: list[Span] = []
    for m in PRACTICE_RE.finditer(text):
        capitals = m.group().isupper()
        found = list(re.finditer(r"[\w'’/-]+", m.group()))
        cut = [w for w in found[:-1] if _breaks_name(w.group(), capitals)]
        start = m.start() + cut[-1].end() if cut else m.start()
        sentence = [e for e in re.finditer(r"[^\W\d_]{4,}[.:;]\s", text[start : m.end()])]
        if sentence:
            start += sentence[-1].end()  # "... IN 1 WEEK. Cardiology": a name does not cross a full stop
        parts = re.findall(r"[\w'’/-]+", text[start : m.end()])
        while parts and parts[0].lower() in FUNCTION_WORDS:
            start = text.index(parts[0], start) + len(parts[0])
            parts.pop(0)
        start = len(text[:start]) + len(text[start : m.end()]) - len(text[start : m.end()].lstrip())
        words = [p.lower() for p in parts]
        names = [
            w
            for w in words[:-1]
            if w not in PRACTICE_DESCRIPTORS
            and w not in PRACTICE_WORDS
            and w not in clinical
            and w not in GENERIC_PLACES
            and w not in FUNCTION_WORDS
        ]
        if len(words) < 2 or not names or any(w in NOT_PRACTICE_WORDS for w in words):
            continue
        if capitals and all(w in english for w in names) and not PRACTICE_CUE.search(text[max(0, start - 24) : start]):
            continue
        spans.append(place_span(text, start, m.end(), 0.8, "rule:facility", "FACILITY"))
    return spans
