"""Check of the medicines a note sentence names: each must be one the consultation (or an extra source) names.

Brand and generic are one medicine: the lexicon maps both to the generic ("Glucophage" is metformin). A name the
recogniser misspelt in the transcript ("metforman") still counts when it is spelt closely enough, and a combination
("Augmentin": amoxicillin and clavulanate) counts when one of its parts was said.
"""

from __future__ import annotations

from app.core.grounding.evidence import Evidence, NoteSentence
from app.core.grounding.report import Flag
from app.core.grounding.terms import stem

MISSPELT_LENGTH = 6  # shorter names are too close to ordinary words ("tiral" and "trial") to match by spelling


def check_medicines(sentence: NoteSentence, evidence: Evidence, said: dict[str, bool]) -> list[Flag]:
    flags = []
    for term in sentence.terms:
        if term.medicine and not _medicine_said(term.medicine, term.word, evidence, said):
            name = sentence.note.text[term.start : term.end]
            flags.append(sentence.flag("medicine", term.start, term.end, f"{name}: not mentioned"))
    return flags


def _medicine_said(generic: str, written: str, evidence: Evidence, said: dict[str, bool]) -> bool:
    key = f"{generic}|{written}"
    if key not in said:
        parts = set(generic.split(" and "))
        named = {part for g in evidence.medicines for part in g.split(" and ")}
        # misspelt by the recogniser: the name as the note writes it, or the generic name, spelt closely enough
        spellings = {written, *parts}
        said[key] = bool(parts & named) or any(
            evidence.index.resolve(stem(name)) is not None
            for name in spellings
            if " " not in name and len(name) >= MISSPELT_LENGTH
        )
    return said[key]
