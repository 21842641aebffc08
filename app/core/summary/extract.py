"""A note version's facts: the deterministic parsers, then (optionally) the language model's step.

The parsers read what they are reliable for (medicines with doses and frequencies, vital signs, results, dates and
follow-up intervals, listed problems and allergies); the model adds the problems, allergies and medicine changes
written in prose. Where both speak of the same thing in the same sentence, the parser's reading is kept and the
model only fills in what the parser left open (a medicine's action when the parser saw no cue word).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from app.core.errors import CancelToken
from app.core.summary.document import NoteDoc, read_note
from app.core.summary.facts import Fact, FactKind, MedicationAction
from app.core.summary.keys import problem_key
from app.core.summary.parse_allergies import allergy_facts
from app.core.summary.parse_medicines import medication_facts
from app.core.summary.parse_plan import follow_up_facts, plan_facts
from app.core.summary.parse_problems import problem_facts
from app.core.summary.parse_readings import result_facts, vital_facts

PARSERS = "parsers-1"  # bump when the parsers change what they extract, so old facts can be told apart


class ModelStep(Protocol):
    @property
    def name(self) -> str: ...

    def facts(self, doc: NoteDoc, cancel: CancelToken | None = None) -> list[Fact]: ...


@dataclass(frozen=True)
class Extraction:
    facts: list[Fact]
    extractor: str  # "parsers-1", or "parsers-1+model:<model name>"


def parse_facts(doc: NoteDoc) -> list[Fact]:
    allergies = allergy_facts(doc)
    allergens = {f.name for f in allergies}
    # "a rash after amoxicillin" in a note that records the allergy: taken once, not a current medicine
    medications = [replace(f, action=MedicationAction.TRIED.value)
                   if f.name in allergens and f.action == MedicationAction.TAKING else f
                   for f in medication_facts(doc)]
    return [
        *problem_facts(doc), *medications, *allergies, *vital_facts(doc), *result_facts(doc), *plan_facts(doc),
        *follow_up_facts(doc),
    ]


def extract_facts(text: str, model: ModelStep | None = None, cancel: CancelToken | None = None) -> Extraction:
    doc = read_note(text)
    facts = parse_facts(doc)
    if model is None:
        return Extraction(facts, PARSERS)
    return Extraction(combine(facts, model.facts(doc, cancel)), f"{PARSERS}+{model.name}")


def combine(parsed: list[Fact], modelled: list[Fact]) -> list[Fact]:
    """The parsers' facts, plus the model's that say something new (per sentence and item)."""
    out = list(parsed)
    index = {(f.kind, f.start, _key(f)): k for k, f in enumerate(out)}
    for fact in modelled:
        key = (fact.kind, fact.start, _key(fact))
        k = index.get(key)
        if k is None:
            index[key] = len(out)
            out.append(fact)
        elif fact.kind == FactKind.MEDICATION and out[k].action == MedicationAction.TAKING and fact.action:
            out[k] = replace(out[k], action=fact.action)
    return out


def _key(fact: Fact) -> str:
    return problem_key(fact.name) if fact.kind == FactKind.PROBLEM else fact.name
