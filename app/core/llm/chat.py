"""A conversation about one consultation, laid out so it fits the model's context and reuses its cache.

The consultation goes once, with the first question kept; later turns follow as plain messages. Each new question
therefore extends the previous prompt (prompt + answer) instead of changing it, so a local model's prompt cache
only evaluates the new turn. When the conversation outgrows the context window, the oldest turns are left out
(the consultation and the question never are) and the caller is told how many; if the consultation and question
alone do not fit, the doctor gets `ContextTooLong` with what to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.core.errors import ContextTooLong
from app.core.llm.base import ChatMessage, LanguageModel, Sampling
from app.core.llm.prompts import task_messages


@dataclass(frozen=True)
class ChatTurn:
    question_redacted: str
    answer_redacted: str


@dataclass(frozen=True)
class FittedChat:
    messages: tuple[ChatMessage, ...]
    dropped_turns: int  # earlier turns left out to fit the context window
    prompt_tokens: int


def chat_messages(question: str, consultation: str, history: Sequence[ChatTurn]) -> tuple[ChatMessage, ...]:
    """The messages for `question` after `history`, all redacted text."""
    first = history[0].question_redacted if history else question
    system, opening = task_messages(
        "question", f"{first}\n\nThe consultation (identifiers replaced by placeholders):\n{consultation}"
    )
    if not history:
        return (system, opening)
    messages = [system, opening, ChatMessage("assistant", history[0].answer_redacted)]
    for turn in history[1:]:
        messages += [ChatMessage("user", turn.question_redacted), ChatMessage("assistant", turn.answer_redacted)]
    messages.append(ChatMessage("user", question))
    return tuple(messages)


def fit_chat(
    llm: LanguageModel, question: str, consultation: str, history: Sequence[ChatTurn], sampling: Sampling
) -> FittedChat:
    """The longest recent part of the conversation that fits with room for the answer."""
    room = llm.context_window - sampling.max_tokens
    kept = list(history)
    while True:
        messages = chat_messages(question, consultation, kept)
        tokens = llm.count_prompt_tokens(messages)
        if tokens <= room:
            return FittedChat(messages, len(history) - len(kept), tokens)
        if not kept:
            raise ContextTooLong(
                f"The consultation and the question take about {tokens} tokens, but the model has room for "
                f"{max(room, 0)} besides the answer",
                "Ask about a summary of the consultation instead, or raise the context window (gpu.n_ctx) or "
                "lower the answer length (llm.max_tokens)",
            )
        kept.pop(0)
