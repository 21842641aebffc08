"""Structured notes: the JSON schema each structured task's answer must follow, and its readable rendering.

The schema is enforced while generating (a llama.cpp grammar locally, `response_format` on a server), so every
section is always present; a section with nothing to say holds "Not documented". The JSON is what we check and
store; the doctor reads the rendered text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from app.core.errors import ModelError
from app.core.llm.base import Completion

_TEXT = {"type": "string"}
_LIST = {"type": "array", "items": {"type": "string"}, "maxItems": 40}


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    is_list: bool = False


NOTE_SECTIONS: dict[str, tuple[Section, ...]] = {
    "soap": (
        Section("subjective", "Subjective"),
        Section("objective", "Objective"),
        Section("assessment", "Assessment"),
        Section("plan", "Plan"),
    ),
    "summary": (
        Section("summary", "Summary"),
        Section("problems", "Problems", is_list=True),
        Section("medications", "Medications", is_list=True),
        Section("follow_up", "Follow-up"),
    ),
}


def note_schema(task: str) -> dict[str, Any] | None:
    """The JSON schema of a structured task; None for free-text tasks (referral, question)."""
    sections = NOTE_SECTIONS.get(task)
    if sections is None:
        return None
    return {
        "type": "object",
        "properties": {s.key: (_LIST if s.is_list else _TEXT) for s in sections},
        "required": [s.key for s in sections],
        "additionalProperties": False,
    }


def parse_note(task: str, completion: Completion) -> dict[str, Any]:
    """The answer's JSON, checked section by section. A cut-off or malformed answer is a ModelError, never a note
    with sections silently missing."""
    sections = NOTE_SECTIONS[task]
    if completion.finish_reason == "length":
        raise ModelError(
            f"The model's {task} note was cut off before it was complete",
            "Raise the answer length (llm.max_tokens), or shorten the input",
        )
    try:
        data = json.loads(completion.text, strict=False)  # some grammars let a raw newline into a string
    except json.JSONDecodeError:
        data = None
    problems = [] if isinstance(data, dict) else ["not a JSON object"]
    for s in sections if isinstance(data, dict) else ():
        value = data.get(s.key)
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value) if s.is_list else isinstance(value, str)
        if not ok:
            problems.append(s.key)
    if problems:
        raise ModelError(
            f"The model's {task} note is incomplete or malformed (problem with: {', '.join(problems)})",
            "Try again; if it keeps happening, use a larger model",
        )
    assert isinstance(data, dict)
    return {s.key: data[s.key] for s in sections}


def render_note(task: str, data: dict[str, Any]) -> str:
    """Headed sections for the doctor to read; empty sections say so instead of disappearing."""
    blocks: list[str] = []
    for s in NOTE_SECTIONS[task]:
        value = data.get(s.key)
        if s.is_list:
            items = [str(v).strip() for v in value or [] if str(v).strip()]
            body = "\n".join(f"- {item}" for item in items) if items else "Not documented"
        else:
            body = str(value or "").strip() or "Not documented"
        blocks.append(f"{s.title.upper()}\n{body}")
    return "\n\n".join(blocks)
