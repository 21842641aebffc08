"""Which of the language model's entities are identifiers: persons, places smaller than a state and named places
of care, less what the model takes for them in a clinical note (drugs, section headings, clinical words, weekdays,
states). The model's entities are the first detector of the redaction stages (`stages.py`).
"""

from __future__ import annotations

import re

from app.core.redact.base import Kind, Span
from app.core.redact.lexicon import MEDICAL_ENDINGS, Lexicon, shipped_words
from app.core.redact.name_words import FUNCTION_WORDS
from app.core.redact.rules_dates import CALENDAR_WORDS, WEEKDAY_ABBREVIATIONS
from app.core.redact.rules_facilities import FACILITY_WORDS
from app.core.redact.rules_names import is_lowercase_text, name_label
from app.core.redact.vetoes_clinical import NUMBER_WITH_UNIT, clinical_phrase, drug_not_place

NerHit = tuple[int, int, str]  # (start, end, spaCy label)

_FACILITY_IN = re.compile(rf"\b(?:{FACILITY_WORDS})\b", re.IGNORECASE)
# A state is not an identifier under Safe Harbor.
US_STATES = shipped_words("us_states.txt")
_TITLE_PREFIX = re.compile(r"^(?:(?:mr|mrs|ms|mx|dr|prof|mister|missus|miss|doctor|professor|nurse)\b\.?\s*)+", re.I)


def _without_lower_case_tail(text: str, start: int, end: int, lexicon: Lexicon) -> int:
    """'John Smith evil' -> 'John Smith': in text with capitals, a person's name does not end in an ordinary
    lower-case word (the model runs on into the next word, e.g. past an invisible direction mark)."""
    words = list(re.finditer(r"[^\W\d_]+", text[start:end]))
    kept = len(words)
    while kept > 1:
        word = words[kept - 1].group()
        if not (word.islower() and word in lexicon.names.english and not lexicon.names.is_name_word(word)):
            break
        kept -= 1
    return end if kept == len(words) else start + words[kept - 1].end()


def _without_label_line(text: str, start: int, end: int, lexicon: Lexicon) -> int:
    """'Anđa Tomić\nAddress' -> 'Anđa Tomić': the model runs a name on into the next line's field label; a line
    whose words are all ordinary words no name list knows is not the name's."""
    cut = text.find("\n", start, end)
    if cut < 0 or not text[start:cut].strip():
        return end
    rest = [w.lower() for w in re.findall(r"[^\W\d_]+", text[cut:end])]
    names = lexicon.names
    if all(w in names.english and not names.is_name_word(w) for w in rest):
        return cut
    return end


def _without_edge_function_words(text: str, start: int, end: int) -> tuple[int, int]:
    """'AGNES MERCY HOSPITAL ON' -> 'AGNES MERCY HOSPITAL', 'ON ARRIVAL' -> 'ARRIVAL', 'the Cleveland Clinic' ->
    'Cleveland Clinic': the model's place runs on into a preposition in a note in capitals, and takes in the
    article; neither is the place's name. "The" with its capital may open one ("The Christie"), so it stays."""
    words = list(re.finditer(r"\S+", text[start:end]))
    kept = list(words)
    while len(kept) > 1 and kept[-1].group().lower() in FUNCTION_WORDS:
        kept.pop()
    while len(kept) > 1 and kept[0].group() != "The" and kept[0].group().lower() in FUNCTION_WORDS:
        kept.pop(0)
    if kept == words:
        return start, end
    return start + kept[0].start(), start + kept[-1].end()


def entities_kept(text: str, hits: list[NerHit], lexicon: Lexicon) -> list[Span]:
    """Spans for the model's entities that are identifiers, with a confidence from how sure the lists make them."""
    out: list[Span] = []
    lower = is_lowercase_text(text)
    names = lexicon.names
    for start, end, label in hits:
        if label in ("GPE", "LOC", "FAC", "ORG"):
            start, end = _without_edge_function_words(text, start, end)
        value = text[start:end]
        if any(ch.isdigit() for ch in value) and label != "FAC":
            continue
        if label == "PERSON":
            prefix = _TITLE_PREFIX.match(value)
            if prefix:
                start += prefix.end()
                value = text[start:end]
            if not lower:
                end = _without_lower_case_tail(text, start, end, lexicon)
            end = _without_label_line(text, start, end, lexicon)
            value = text[start:end]
            words = [w.lower() for w in re.findall(r"[^\W\d_]+", value)]
            if not words or all(w in FUNCTION_WORDS for w in words):
                continue
            if clinical_phrase(value, names, lexicon.clinical_words, titled=prefix is not None):
                continue  # "Chest x-ray", "Nares", "Mom", "mcg."
            if all(w in WEEKDAY_ABBREVIATIONS or w.rstrip("s") in CALENDAR_WORDS for w in words):
                continue  # "dialysis Mon, Wed and Fri": the model took a day for a person
            if value.isupper() and len(value) <= 5 and not lower:
                continue  # section headings and abbreviations: "HEENT", "PERRLA"
            listed = any(w in names.first or w in names.surnames for w in words) or (
                len(words) > 1 and all(names.is_name_word(w) for w in words)
            )
            ambiguous_name = len(words) == 1 and names.is_name_word(words[0]) and value[:1].isupper()
            if not listed and not ambiguous_name and all(w in names.english for w in words):
                continue  # "Discipline", "Princess Royal", "orchestra", "Mom": words, not a name
            if (
                not listed
                and len(words) == 1
                and (MEDICAL_ENDINGS.search(words[0]) or drug_not_place(text, start, end))
            ):
                continue  # "Lisinopril", "apixaban", "continue Ventolin"
            confidence = 0.6 if ambiguous_name and not listed else (0.85 if (listed or not lower) else 0.55)
            if end > start:
                out.append(Span(start, end, Kind.NAME, value, confidence, "ner", name_label(text, start, end)))
        elif label in ("GPE", "LOC"):
            if value.isupper() and len(value) <= 5 and value not in ("NYC", "LA", "SF"):
                continue  # "US", "COPD", "HTN": countries or abbreviations, not places smaller than a state
            if " " not in value and MEDICAL_ENDINGS.search(value) and not names.is_name_word(value.lower()):
                continue  # "Warfarin", "Losartan"
            if " " not in value and value.lower() in names.english:
                continue  # "anesthesia", "Liver", "Negative": clinical words the model took for places
            if clinical_phrase(value, names, lexicon.clinical_words):
                continue  # "Oropharynx", "Inderal LA", "q.d.": clinical words the model took for places
            if value.lower() in US_STATES:
                continue  # a state is not an identifier under Safe Harbor
            if drug_not_place(text, start, end):
                continue  # "2 puffs of Ventolin": a brand-name drug the model took for a place
            out.append(Span(start, end, Kind.LOCATION, value, 0.75 if label == "GPE" else 0.6, "ner", "LOCATION"))
        elif label == "FAC" or (label == "ORG" and _FACILITY_IN.search(value)):
            if NUMBER_WITH_UNIT.search(value) or clinical_phrase(value, names, lexicon.clinical_words):
                continue  # "Zoloft 10 years ago", "Cardiolite imaging": a drug or a test, not a building
            out.append(Span(start, end, Kind.LOCATION, value, 0.7, "ner", "FACILITY"))
    return out
