"""The prompt-cache part of `bench server`: the time to first token of a chat's second turn in one encounter (its
prompt extends the first turn's prompt and answer), measured on the idle server before the rooms start:

- without the cache hint (a plain OpenAI request);
- with the hint (`cache_prompt: true`, `id_slot`) sent whatever the probe says (`cache_hints="on"`);
- after another encounter's request came in between (what a busy single-slot server does to the cached prefix).

llama-cpp-python's server (the bench's) has no /props, so the app would not send the hint to it; it ignores the
fields (its request models drop unknown ones) and reuses the prefix of the one request before by itself. The
figures therefore show what prefix reuse is worth on this server and that the hint neither breaks nor slows it; on
llama.cpp's llama-server with several slots the hint is what keeps a conversation in the slot holding its prefix.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from app.core.config import Settings
from app.core.llm.base import GenerationRequest, Sampling
from app.core.llm.chat import ChatTurn, chat_messages
from app.core.llm.openai_server import CacheHints, ServerLlm

FIRST_QUESTION = "What are the main findings?"
SECOND_QUESTION = "What follow-up does the patient need?"
CONSULTATION_CHARS = 2400  # long enough that reading it again shows (~600 tokens), short enough for 2 cores


def _first_token_s(llm: ServerLlm, request: GenerationRequest) -> tuple[float, str]:
    started = time.monotonic()
    first: float | None = None
    pieces: list[str] = []
    for piece in llm.stream(request):
        if piece and first is None:
            first = time.monotonic() - started
        pieces.append(piece)
    return (first if first is not None else time.monotonic() - started), "".join(pieces)


def _second_turn(llm: ServerLlm, consultation: str, other: str | None, sampling: Sampling) -> float:
    _, answer = _first_token_s(llm, GenerationRequest(chat_messages(FIRST_QUESTION, consultation, ()), sampling))
    if other is not None:  # another room's encounter takes the server in between
        _first_token_s(llm, GenerationRequest(chat_messages(FIRST_QUESTION, other, ()), sampling))
    history = (ChatTurn(FIRST_QUESTION, answer),)
    seconds, _ = _first_token_s(llm, GenerationRequest(chat_messages(SECOND_QUESTION, consultation, history),
                                                       sampling))
    return seconds


def measure(settings: Settings, dialogues: list[str], encounters: int) -> dict[str, Any]:
    sampling = Sampling(temperature=0.0, top_p=1.0, max_tokens=settings.llm.max_tokens, seed=1)
    variants: dict[str, tuple[CacheHints, bool]] = {
        "without_hint": ("off", False), "with_hint": ("on", False), "after_other_encounter": ("off", True),
    }
    models = {name: ServerLlm(settings, cache_hints=hints) for name, (hints, _) in variants.items()}
    auto = ServerLlm(settings)
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    try:
        offered = next(step for step in auto.load() if step.done).message.endswith("reused per conversation)")
        for index in range(encounters):
            consultation = dialogues[index][:CONSULTATION_CHARS]
            other = dialogues[index + encounters][:CONSULTATION_CHARS]
            names = list(variants)
            shift = index % len(names)
            order = names[shift:] + names[:shift]  # each variant takes each place in turn: no position bias
            for name in order:
                _, interleave = variants[name]
                seconds[name].append(_second_turn(models[name], consultation, other if interleave else None,
                                                  sampling))
    finally:
        for llm in (*models.values(), auto):
            llm.close()
    figures: dict[str, Any] = {"cache_hints_offered_by_server": offered, "cache_encounters": encounters}
    for name, values in seconds.items():
        figures[f"second_turn_first_token_{name}_p50_s"] = round(statistics.median(values), 3)
        figures[f"second_turn_first_token_{name}_s"] = [round(v, 3) for v in values]
    return figures
