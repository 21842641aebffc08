"""Drafting a clinical text with a language model: prompt, fit to context, generate, check, render.

Input is expected to be redacted already (the model never sees identifiers); re-identification for display is the
caller's job. Every result is a draft for the doctor to check.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from app.core.config import LlmSettings
from app.core.errors import CancelToken, InputError
from app.core.llm.base import Completion, GenerationRequest, LanguageModel, Sampling
from app.core.llm.context import Notice, fit_input
from app.core.llm.notes import note_schema, parse_note, render_note
from app.core.llm.prompts import Task, task_messages


@dataclass(frozen=True)
class Draft:
    task: Task
    text: str  # what the doctor reads (a structured note rendered as headed sections)
    completion: Completion
    structured: dict[str, Any] | None = None  # the checked JSON of a SOAP note or summary
    condensed_parts: int = 0  # > 0: drafted from the condensed facts of a text too long for the context
    timings: dict[str, Any] = field(default_factory=dict)
    draft: bool = True


def is_structured(task: Task) -> bool:
    return note_schema(task) is not None


def draft_stream(
    llm: LanguageModel,
    task: Task,
    text: str,
    settings: LlmSettings,
    *,
    cancel: CancelToken | None = None,
    notice: Notice | None = None,
    prior: str = "",
) -> Iterator[str | Draft]:
    """Run `task` on `text`, yielding the answer's pieces as they stream (raw JSON for structured tasks), then the
    finished `Draft` as the last item. The generator form lets a pipeline interleave display and speech."""
    if not text.strip():
        raise InputError("There is no text to send to the model", "Type or dictate something first")
    started = time.perf_counter()
    sampling = Sampling.from_settings(settings)
    fitted = fit_input(llm, task, text, sampling, cancel, notice, prior)
    request = GenerationRequest(
        task_messages(task, fitted.text, fitted.condensed_parts, fitted.prior),
        sampling,
        json_schema=note_schema(task),
        schema_name=f"{task}_note",
    )
    stream = llm.stream(request, cancel)
    yield from stream
    completion = stream.completion
    assert completion is not None
    structured = None
    rendered = completion.text.strip()
    if is_structured(task):
        structured = parse_note(task, completion)
        rendered = render_note(task, structured)
    timings = completion.timings.as_dict()
    timings["wall_s"] = round(time.perf_counter() - started, 4)
    yield Draft(task, rendered, completion, structured, fitted.condensed_parts, timings)


def draft(
    llm: LanguageModel,
    task: Task,
    text: str,
    settings: LlmSettings,
    *,
    cancel: CancelToken | None = None,
    on_piece: Callable[[str], None] | None = None,
    notice: Notice | None = None,
) -> Draft:
    """`draft_stream` for callers that want a callback per piece and the Draft as the return value."""
    for item in draft_stream(llm, task, text, settings, cancel=cancel, notice=notice):
        if isinstance(item, Draft):
            return item
        if on_piece is not None:
            on_piece(item)
    raise AssertionError("draft_stream ends with the Draft")
