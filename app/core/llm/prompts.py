"""The drafting tasks and their prompts. The wording lives in resources/prompts/*.md so clinicians can edit it
without touching code; `$text` (and `$part`, `$parts` in the condensing prompt) mark where input goes.
"""

from __future__ import annotations

import functools
from string import Template
from typing import Literal, get_args

from app.core.errors import ConfigError
from app.core.llm.base import ChatMessage
from app.core.paths import resource

Task = Literal["soap", "summary", "referral", "question"]
TASKS: tuple[Task, ...] = get_args(Task)
# The tasks whose long input may be condensed (map-reduce) to fit; a question is answered as asked or refused.
CONDENSABLE: frozenset[Task] = frozenset({"soap", "summary", "referral"})


@functools.cache
def load_prompt(name: str) -> str:
    path = resource("prompts", f"{name}.md")
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        raise ConfigError(f"The prompt file {path} is missing", "Reinstall the app") from None


def _fill(name: str, **values: object) -> str:
    # safe_substitute: a stray "$" in an edited prompt must not break drafting
    return Template(load_prompt(name)).safe_substitute({k: str(v) for k, v in values.items()})


def prior_block(summary: str) -> str:
    """The background a note is drafted with: the redacted summary of the patient's earlier accepted notes, placed
    before the consultation ("" when there is none)."""
    return _fill("prior_summary", summary=summary.strip()) + "\n\n" if summary.strip() else ""


def task_messages(task: Task, text: str, condensed_parts: int = 0, prior: str = "") -> tuple[ChatMessage, ...]:
    """System prompt + the task's instruction wrapped around `text` (already condensed when `condensed_parts`).
    `prior` (from `prior_block`) comes before the consultation: within one encounter it is a stable prefix, so a
    local model reads it once, ahead of the dictation."""
    if condensed_parts:
        text = _fill("condensed_input", parts=condensed_parts, text=text)
    return (ChatMessage("system", load_prompt("system")), ChatMessage("user", _fill(task, text=text, prior=prior)))


def condense_messages(text: str, part: int, parts: int) -> tuple[ChatMessage, ...]:
    """The map step: extract every clinical fact from one part of a long text."""
    return (
        ChatMessage("system", load_prompt("system")),
        ChatMessage("user", _fill("condense", part=part, parts=parts, text=text)),
    )


# Where the input goes in a prompt: text that no clinical input contains, used to cut the instructions off it.
INPUT_MARK = "\u2063CLINIC-ASSISTANT-INPUT\u2063"


def instructions_before_input(task: Task, prior: str = "") -> tuple[ChatMessage, ...]:
    """The task's messages with `INPUT_MARK` where the input goes: the system prompt and instructions before the mark
    are the same for every consultation (no patient text but the redacted `prior`), so a local model can evaluate
    them ahead of time."""
    return task_messages(task, INPUT_MARK, prior=prior)
