"""What extraction finds in one note version: `Fact`s, each tied to the sentence it came from.

A fact's `start` and `end` are character offsets into the note version's text, so `text[start:end] == sentence`
always holds for the version it was extracted from (the summary shows that sentence as the source). The JSON form
(`facts_to_json`, `facts_from_json`) is what the store keeps per note version; it leaves out empty fields.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from typing import Any


class FactKind(StrEnum):
    PROBLEM = "problem"
    MEDICATION = "medication"
    ALLERGY = "allergy"
    VITAL = "vital"
    RESULT = "result"
    PLAN = "plan"  # a sentence of the assessment or plan
    FOLLOW_UP = "follow_up"  # "review in 2 weeks": due `days` after the note's date


class MedicationAction(StrEnum):
    """What a sentence says about a medicine."""

    TAKING = "taking"  # named as taken or continued
    STARTED = "started"  # started, prescribed, recommended, given
    STOPPED = "stopped"
    INCREASED = "increased"
    DECREASED = "decreased"
    TRIED = "tried"  # taken before, not now ("has tried melatonin")
    CONSIDERED = "considered"  # an option discussed, not prescribed: never on the medication list


class ProblemStatus(StrEnum):
    ACTIVE = "active"
    RESOLVED = "resolved"


class AllergyKind(StrEnum):
    ALLERGY = "allergy"
    INTOLERANCE = "intolerance"
    NONE_KNOWN = "none known"  # "no known drug allergies"


class Origin(StrEnum):
    PARSER = "parser"  # deterministic parsers
    MODEL = "model"  # the language model, on the redacted note, checked against the sentence it cites


NONE_KNOWN = "no known allergies"  # the name of a "none known" allergy fact


@dataclass(frozen=True)
class Fact:
    kind: FactKind
    name: str  # what it is about: a problem, a medicine's generic name, an allergen, a vital sign, a test
    start: int  # the sentence it came from, as offsets into the note version's text
    end: int
    sentence: str  # patient text: text[start:end]
    written: str = ""  # the name as the note writes it ("Protonix" for pantoprazole)
    dose: str = ""  # "20 mg"
    frequency: str = ""  # "twice daily", "as needed"
    action: str = ""  # a MedicationAction, ProblemStatus or AllergyKind
    value: str = ""  # a reading ("128/82", "7.4"); an allergy's reaction
    unit: str = ""  # the reading's unit ("mmHg", "%")
    days: int = 0  # a follow-up: due this many days after the note's date
    origin: Origin = Origin.PARSER

    def as_dict(self) -> dict[str, Any]:
        """The stored form: empty fields left out."""
        defaults = {f.name: f.default for f in fields(self)}
        return {k: str(v) if isinstance(v, StrEnum) else v for k, v in asdict(self).items()
                if k in ("kind", "name", "start", "end", "sentence") or v != defaults[k]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fact:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["kind"] = FactKind(values["kind"])
        if "origin" in values:
            values["origin"] = Origin(values["origin"])
        return cls(**values)


def facts_to_json(facts: list[Fact]) -> str:
    return json.dumps([f.as_dict() for f in facts], ensure_ascii=False, separators=(",", ":"))


def facts_from_json(text: str) -> list[Fact]:
    """Facts as stored. An entry of an unknown kind (written by a newer version) is skipped, not an error."""
    out: list[Fact] = []
    for item in json.loads(text):
        try:
            out.append(Fact.from_dict(item))
        except (KeyError, ValueError, TypeError):
            continue
    return out
