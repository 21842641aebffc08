"""Making clinical input fit the model's context window without ever dropping part of it silently.

If the prompt plus the answer's token budget fits, nothing happens. Otherwise a note, summary or letter is drafted
from a condensed input (map-reduce): the text is cut into parts on paragraph, sentence or word boundaries, each part
is condensed into its clinical facts (map), and the task runs on the facts (reduce), repeated while the facts still
do not fit. The caller is told (a notice, and `condensed_parts` on the result). A free question is never condensed:
the user gets `ContextTooLong` and decides what to shorten. A part whose facts were cut off by the answer limit is
split once more; if that still fails, `ContextTooLong` again: a condensed note missing facts must not look complete.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from app.core.errors import CancelToken, ContextTooLong
from app.core.llm.base import GenerationRequest, LanguageModel, Sampling
from app.core.llm.prompts import CONDENSABLE, Task, condense_messages, task_messages

log = logging.getLogger(__name__)

MAX_ROUNDS = 3
MIN_PART_TOKENS = 128
SAFETY = 0.9  # token counts of pieces do not add up exactly: leave a margin
Notice = Callable[[str], None]


@dataclass(frozen=True)
class FittedInput:
    text: str
    condensed_parts: int  # 0 = the original text, unchanged
    prior: str = ""  # the earlier notes' summary it is drafted with ("" when none, or left out to fit)


def _too_long(prompt_tokens: int, room: int) -> ContextTooLong:
    return ContextTooLong(
        f"The text takes about {prompt_tokens} tokens with its instructions, but the model has room for {room} "
        "besides the answer",
        "Shorten the text, or raise the context window (gpu.n_ctx) or lower the answer length (llm.max_tokens)",
    )


def _units(text: str) -> list[str]:
    """Paragraphs, kept with their trailing blank lines so joining them restores the text exactly."""
    return [u for u in re.split(r"(?<=\n\n)", text) if u]


def _split_unit(unit: str) -> list[str]:
    """A paragraph too big for one part: sentences, or words if there are no sentence ends."""
    sentences = [s for s in re.split(r"(?<=[.!?])(?=\s)", unit) if s]
    if len(sentences) > 1:
        return sentences
    return [w for w in re.split(r"(?<=\s)", unit) if w]


def split_into_parts(llm: LanguageModel, text: str, max_tokens: int) -> list[str]:
    """Consecutive parts of `text`, each within `max_tokens`; concatenated they are exactly `text`."""
    parts: list[str] = []
    current: list[str] = []
    used = 0
    pending = _units(text)
    while pending:
        unit = pending.pop(0)
        size = llm.count_tokens(unit)
        if size > max_tokens:
            pieces = _split_unit(unit)
            if len(pieces) == 1:  # one enormous "word": cut it by characters
                half = max(1, len(unit) // 2)
                pieces = [unit[:half], unit[half:]]
            pending[0:0] = pieces
            continue
        if current and used + size > max_tokens:
            parts.append("".join(current))
            current, used = [], 0
        current.append(unit)
        used += size
    if current:
        parts.append("".join(current))
    return parts


def _condense_part(
    llm: LanguageModel,
    part: str,
    index: int,
    total: int,
    sampling: Sampling,
    cancel: CancelToken | None,
    depth: int = 0,
) -> str:
    request = GenerationRequest(condense_messages(part, index, total), sampling)
    completion = llm.complete(request, cancel)
    if completion.finish_reason != "length":
        return completion.text.strip()
    halves = split_into_parts(llm, part, max(MIN_PART_TOKENS, llm.count_tokens(part) // 2))
    if depth >= 1 or len(halves) < 2:
        raise ContextTooLong(
            "Part of the long text could not be condensed within the answer length",
            "Raise the answer length (llm.max_tokens) or the context window (gpu.n_ctx), or shorten the text",
        )
    return "\n".join(_condense_part(llm, h, index, total, sampling, cancel, depth + 1) for h in halves)


def fit_input(
    llm: LanguageModel,
    task: Task,
    text: str,
    sampling: Sampling,
    cancel: CancelToken | None = None,
    notice: Notice | None = None,
    prior: str = "",
) -> FittedInput:
    """The input to draft from: `text` itself if it fits, else its condensed facts (see the module notes). `prior`
    (the earlier notes' summary) is background: it is left out, with a notice, before the consultation is
    condensed."""
    prompt_tokens = llm.count_prompt_tokens(task_messages(task, text, prior=prior))  # first: it loads a local
    room = llm.context_window - sampling.max_tokens  # model, which fixes the real window (the GPU planner may lower it)
    if room < MIN_PART_TOKENS:
        raise ContextTooLong(
            f"The answer length ({sampling.max_tokens} tokens) leaves no room for the text in the model's "
            f"{llm.context_window}-token context",
            "Lower the answer length (llm.max_tokens) or raise the context window (gpu.n_ctx)",
        )
    if prompt_tokens <= room:
        return FittedInput(text, 0, prior)
    if prior:
        if notice is not None:
            notice("The summary of earlier notes was left out: the consultation needs all of the model's context")
        return fit_input(llm, task, text, sampling, cancel, notice)
    if task not in CONDENSABLE:
        raise _too_long(prompt_tokens, room)
    # The map step answers with facts: give it a quarter of the window, and each part what is left.
    map_sampling = Sampling(
        temperature=min(sampling.temperature, 0.2), top_p=sampling.top_p,
        max_tokens=max(MIN_PART_TOKENS, llm.context_window // 4), seed=sampling.seed,
        repeat_penalty=sampling.repeat_penalty,
    )
    overhead = llm.count_prompt_tokens(condense_messages("", 99, 99))
    part_budget = int((llm.context_window - map_sampling.max_tokens - overhead) * SAFETY)
    if part_budget < MIN_PART_TOKENS:
        raise _too_long(prompt_tokens, room)
    current, previous_tokens = text, prompt_tokens
    for round_no in range(1, MAX_ROUNDS + 1):
        parts = split_into_parts(llm, current, part_budget)
        if notice is not None:
            notice(
                f"The text is too long for the model's context ({previous_tokens} tokens, room for {room}): "
                f"condensing it in {len(parts)} parts first (round {round_no})"
            )
        facts = [_condense_part(llm, p, i, len(parts), map_sampling, cancel) for i, p in enumerate(parts, 1)]
        current = "\n\n".join(f"Part {i}:\n{f}" for i, f in enumerate(facts, 1))
        tokens = llm.count_prompt_tokens(task_messages(task, current, condensed_parts=len(parts)))
        log.info("condensing round %d: %d parts, %d -> %d tokens", round_no, len(parts), previous_tokens, tokens)
        if tokens <= room:
            return FittedInput(current, len(parts))
        if tokens >= previous_tokens:
            break  # condensing no longer shrinks the text
        previous_tokens = tokens
    raise _too_long(previous_tokens, room)
