"""The model step of extraction with a scripted model: it sees only the redacted note, its items are kept only when
grounded in the sentence they cite, names are re-identified, and a note too long for the context is split into parts
of whole sentences (every sentence sent once). The real-model run is tests/integration/test_summary_smollm2.py."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

from app.core.errors import CancelToken
from app.core.llm.base import ChatMessage, Completion, GenerationRequest, LoadProgress, Timings, TokenStream
from app.core.redact.base import Kind, RedactionResult, Span
from app.core.redact.pseudonyms import PseudonymMap, render
from app.core.summary.extract import extract_facts
from app.core.summary.extract_llm import SCHEMA, ModelExtractor
from app.core.summary.facts import FactKind, Origin

NOTE = ("ASSESSMENT AND PLAN\nMrs. Okafor has high blood pressure. Start amlodipine 5 mg once daily.\n"
        "She developed hives after penicillin.\nFollow up in 4 weeks.")


class NameRedactor:
    """Replaces one known surname, through the real placeholder renderer."""

    def detect(self, text: str, pseudonyms: PseudonymMap | None = None) -> list[Span]:
        return [Span(m.start(), m.end(), Kind.NAME, m.group(0)) for m in re.finditer("Okafor", text)]

    def redact(self, text: str, pseudonyms: PseudonymMap | None = None) -> RedactionResult:
        return render(text, self.detect(text), pseudonyms)


class ScriptedModel:
    """Answers every request with `answer(prompt)`; remembers the prompts."""

    def __init__(self, answer: Any, context: int = 4096) -> None:
        self.answer = answer
        self.prompts: list[str] = []
        self.schemas: list[Any] = []
        self._context = context

    backend = "local"
    model_name = "scripted"

    @property
    def context_window(self) -> int:
        return self._context

    def load(self, cancel: CancelToken | None = None) -> Iterator[LoadProgress]:
        yield LoadProgress("ready", 1.0, "ready", done=True)

    def stream(self, request: GenerationRequest, cancel: CancelToken | None = None) -> TokenStream:
        raise NotImplementedError

    def complete(self, request: GenerationRequest, cancel: CancelToken | None = None) -> Completion:
        prompt = request.messages[-1].content
        self.prompts.append(prompt)
        self.schemas.append(request.json_schema)
        return Completion(json.dumps(self.answer(prompt)), self.model_name, "local", "stop", Timings())

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 1

    def count_prompt_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return sum(self.count_tokens(m.content) for m in messages)

    def close(self) -> None:
        pass


def _numbered(prompt: str) -> dict[str, int]:
    return {line.split("] ", 1)[1]: int(line[1 : line.index("]")]) for line in prompt.splitlines()
            if re.match(r"\[\d+\] ", line)}


def test_only_grounded_items_of_the_redacted_note_are_kept() -> None:
    def answer(prompt: str) -> dict[str, Any]:
        n = _numbered(prompt)
        first = next(v for k, v in n.items() if "high blood pressure" in k)
        hives = next(v for k, v in n.items() if "hives" in k)
        return {
            "problems": [{"name": "hypertension", "status": "active", "sentence": first},
                         {"name": "lupus", "status": "active", "sentence": first},  # not in that sentence
                         {"name": "hypertension", "status": "active", "sentence": 99}],  # no such sentence
            "allergies": [{"substance": "penicillin", "reaction": "hives", "sentence": hives}],
            "medication_changes": [{"medicine": "amlodipine", "change": "started", "dose": "5 mg", "sentence": first},
                                   {"medicine": "warfarin", "change": "stopped", "dose": "", "sentence": first}],
        }

    model = ScriptedModel(answer)
    pseudonyms = PseudonymMap()
    extraction = extract_facts(NOTE, ModelExtractor(model, NameRedactor(), pseudonyms))  # type: ignore[arg-type]

    assert extraction.extractor == "parsers-1+model:scripted"
    assert model.schemas == [SCHEMA] and all("Okafor" not in p for p in model.prompts)
    assert any("[PATIENT_1]" in p for p in model.prompts)
    by_model = [(f.kind, f.name) for f in extraction.facts if f.origin == Origin.MODEL]
    assert (FactKind.PROBLEM, "hypertension") in by_model and (FactKind.PROBLEM, "lupus") not in by_model
    assert all(name != "warfarin" for _kind, name in by_model)
    [allergy] = [f for f in extraction.facts if f.kind == FactKind.ALLERGY]
    assert (allergy.name, allergy.value) == ("penicillin", "hives")
    for fact in extraction.facts:
        assert NOTE[fact.start : fact.end] == fact.sentence


def test_placeholders_in_the_answer_are_reidentified() -> None:
    def answer(prompt: str) -> dict[str, Any]:
        n = _numbered(prompt)
        first = next(v for k, v in n.items() if "PATIENT_1" in k)
        return {"problems": [{"name": "high blood pressure of [PATIENT_1]", "status": "active", "sentence": first}],
                "allergies": [], "medication_changes": []}

    model = ScriptedModel(answer)
    facts = extract_facts(NOTE, ModelExtractor(model, NameRedactor(), PseudonymMap())).facts  # type: ignore[arg-type]
    [problem] = [f for f in facts if f.origin == Origin.MODEL]
    assert problem.name == "high blood pressure of okafor" and "[" not in problem.written


def test_a_note_too_long_for_the_context_is_split_not_cut() -> None:
    sentences = [f"Problem number {i} is stable and reviewed today." for i in range(60)]
    note = "ASSESSMENT\n" + "\n".join(sentences)
    model = ScriptedModel(lambda _p: {"problems": [], "allergies": [], "medication_changes": []}, context=1000)
    step = ModelExtractor(model, NameRedactor(), PseudonymMap(), answer_tokens=200)  # type: ignore[arg-type]
    extract_facts(note, step)
    assert len(model.prompts) >= 2
    sent = [line.split("] ", 1)[1] for p in model.prompts for line in p.splitlines() if re.match(r"\[\d+\] ", line)]
    assert sent == sentences  # each once, in order, whole
