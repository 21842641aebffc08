"""The language model's part of extraction: problems, allergies and medicine changes that no parser can be trusted
with, read from the *redacted* note under a JSON schema.

The model sees the note's sentences, numbered, with identifiers replaced by the encounter's placeholders (never the
note itself). It must cite the sentence of every item; an item is kept only when its words are in that sentence (a
medicine by its generic name, a problem or allergen by at least half of its words), so nothing the model wrote is
trusted without a link to the note. Names are re-identified for display with the encounter's map. A note too long
for the context is split into parts of whole sentences, each asked separately: split, never cut.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass
from string import Template
from typing import Any

from app.core.errors import CancelToken, ContextTooLong, ModelError
from app.core.grounding.terms import sentence_terms
from app.core.llm.base import ChatMessage, Completion, GenerationRequest, LanguageModel, Sampling
from app.core.llm.prompts import load_prompt
from app.core.redact.base import RedactionResult, Redactor
from app.core.redact.pseudonyms import PseudonymMap
from app.core.summary.document import NoteDoc
from app.core.summary.facts import AllergyKind, Fact, FactKind, MedicationAction, Origin, ProblemStatus

ANSWER_TOKENS = 1024  # room for every list at its longest (the schema caps items and string lengths)
_CHANGES = {"started": MedicationAction.STARTED, "stopped": MedicationAction.STOPPED,
            "increased": MedicationAction.INCREASED, "decreased": MedicationAction.DECREASED,
            "continued": MedicationAction.TAKING}


def _list(items: int, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "maxItems": items, "items": {
        "type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}}


def _text(longest: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": longest}


_SENTENCE = {"type": "integer", "minimum": 1}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "problems": _list(15, {"name": _text(80), "status": {"enum": ["active", "resolved"]},
                               "sentence": _SENTENCE}),
        "allergies": _list(8, {"substance": _text(60), "reaction": _text(60), "sentence": _SENTENCE}),
        "medication_changes": _list(15, {"medicine": _text(60), "change": {"enum": list(_CHANGES)},
                                         "dose": _text(30), "sentence": _SENTENCE}),
    },
    "required": ["problems", "allergies", "medication_changes"],
    "additionalProperties": False,
}


class _Offsets:
    """Offsets of the note mapped to the redacted text (placeholders are longer or shorter than what they hide)."""

    def __init__(self, redaction: RedactionResult) -> None:
        self._starts = [p.span.start for p in redaction.placed]
        self._placed = redaction.placed

    def __call__(self, offset: int) -> int:
        k = bisect_right(self._starts, offset) - 1
        if k < 0:
            return offset
        placed = self._placed[k]
        if offset < placed.span.end:  # inside an identifier: the whole placeholder
            return placed.redacted_start if offset == placed.span.start else placed.redacted_end
        return placed.redacted_end + (offset - placed.span.end)


RedactedLines = list[tuple[int, str]]  # (clause index, the clause redacted) for every clause the model may read


def redacted_lines(doc: NoteDoc, redactor: Redactor, pseudonyms: PseudonymMap) -> RedactedLines:
    """The note's clauses as the model may see them (family history left out). Runs the redactor only, so the
    window can do it on the redaction lane; `pseudonyms` gains the placeholders of new identifiers."""
    redaction = redactor.redact(doc.text, pseudonyms)
    to_redacted = _Offsets(redaction)
    return [
        (index, " ".join(redaction.redacted_text[to_redacted(c.start) : to_redacted(c.end)].split()))
        for index, c in enumerate(doc.clauses) if c.section != "family"
    ]


@dataclass
class ModelExtractor:
    """One note's model step. `pseudonyms` is the encounter's map: the caller saves it afterwards (new identifiers
    found in the note get their placeholders there). Give `redactor` to redact here, or `redacted` when the note
    was redacted already (on the redaction lane)."""

    llm: LanguageModel
    redactor: Redactor | None
    pseudonyms: PseudonymMap
    answer_tokens: int = ANSWER_TOKENS
    redacted: RedactedLines | None = None

    @property
    def name(self) -> str:
        return f"model:{self.llm.model_name}"

    def facts(self, doc: NoteDoc, cancel: CancelToken | None = None) -> list[Fact]:
        lines = self.redacted
        if lines is None:
            if self.redactor is None:
                raise ValueError("the model step needs the redactor or the redacted note")  # never unredacted
            lines = redacted_lines(doc, self.redactor, self.pseudonyms)
        out: list[Fact] = []
        for part in self._parts(lines):
            completion = self.llm.complete(self._request(part), cancel)
            out.extend(self._read(completion, part, doc))
        return out

    def _request(self, part: list[tuple[int, str]]) -> GenerationRequest:
        numbered = "\n".join(f"[{n}] {line}" for n, (_index, line) in enumerate(part, 1))
        prompt = Template(load_prompt("extract_facts")).safe_substitute(sentences=numbered)
        return GenerationRequest(
            (ChatMessage("system", load_prompt("system")), ChatMessage("user", prompt)),
            Sampling(temperature=0.0, top_p=1.0, max_tokens=self.answer_tokens, seed=0, repeat_penalty=1.0),
            json_schema=SCHEMA, schema_name="note_facts",
        )

    def _parts(self, lines: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
        """Whole sentences per part, as many as fit the context with the instructions and the answer."""
        room = self.llm.context_window - self.answer_tokens - self.llm.count_prompt_tokens(self._request([]).messages)
        room = int(room * 0.9)  # token counts of pieces do not add up exactly
        parts: list[list[tuple[int, str]]] = [[]]
        used = 0
        for index, line in lines:
            cost = self.llm.count_tokens(f"[{len(parts[-1]) + 1}] {line}\n") + 1
            if cost > room:
                raise ContextTooLong(
                    "A sentence of the note is longer than the model's context",
                    "Raise the context window (gpu.n_ctx), or split the sentence in the note",
                )
            if used + cost > room and parts[-1]:
                parts.append([])
                used = 0
            parts[-1].append((index, line))
            used += cost
        return [p for p in parts if p]

    def _read(self, completion: Completion, part: list[tuple[int, str]], doc: NoteDoc) -> list[Fact]:
        if completion.finish_reason == "length":
            raise ModelError("The model's list of the note's facts was cut off", "Raise llm.max_tokens, or retry")
        try:
            data = json.loads(completion.text, strict=False)
        except json.JSONDecodeError:
            data = None
        if not isinstance(data, dict):
            raise ModelError("The model's list of the note's facts is not valid JSON", "Retry; or use a larger model")
        out: list[Fact] = []
        for item in _items(data, "problems"):
            clause = _clause(item, part)
            name = self._named(item.get("name"))
            if clause is not None and name and _grounded(doc, clause, name):
                status = ProblemStatus.RESOLVED if item.get("status") == "resolved" else ProblemStatus.ACTIVE
                out.append(self._fact(doc, clause, FactKind.PROBLEM, name.lower(), name, action=status.value))
        for item in _items(data, "allergies"):
            clause = _clause(item, part)
            name = self._named(item.get("substance"))
            if clause is not None and name and _grounded(doc, clause, name):
                out.append(self._fact(doc, clause, FactKind.ALLERGY, _generic(doc, name) or name.lower(), name,
                                      action=AllergyKind.ALLERGY.value, value=self._named(item.get("reaction"))))
        for item in _items(data, "medication_changes"):
            clause = _clause(item, part)
            name = self._named(item.get("medicine"))
            generic = _generic(doc, name)
            change = _CHANGES.get(str(item.get("change")))
            named = {t.medicine for t in doc.terms(clause)} if clause is not None else set()
            if clause is not None and generic and generic in named and change is not None:
                out.append(self._fact(doc, clause, FactKind.MEDICATION, generic, name, action=change.value,
                                      dose=self._named(item.get("dose"))))
        return out

    def _named(self, value: object) -> str:
        return " ".join(self.pseudonyms.reidentify(str(value)).split())[:200] if isinstance(value, str) else ""

    def _fact(self, doc: NoteDoc, clause: int, kind: FactKind, name: str, written: str, *, action: str,
              value: str = "", dose: str = "") -> Fact:
        c = doc.clauses[clause]
        return Fact(kind, name, c.start, c.end, doc.clause_text(clause), written=written, action=action, value=value,
                    dose=dose, origin=Origin.MODEL)


def _items(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = data.get(key)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _clause(item: dict[str, Any], part: list[tuple[int, str]]) -> int | None:
    number = item.get("sentence")
    if isinstance(number, int) and 1 <= number <= len(part):
        return part[number - 1][0]
    return None


def _generic(doc: NoteDoc, name: str) -> str:
    medicines = [t.medicine for t in sentence_terms(name, 0, 0, len(name), doc.lexicon) if t.medicine]
    return medicines[0] if medicines else ""


def _grounded(doc: NoteDoc, clause: int, name: str) -> bool:
    """At least half of the item's content words (stems, synonyms, medicines) are words of the sentence it cites."""
    words = {t.norm for t in sentence_terms(name, 0, 0, len(name), doc.lexicon) if t.content}
    said = {t.norm for t in doc.terms(clause)}
    return bool(words) and 2 * len(words & said) >= len(words)
