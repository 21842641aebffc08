"""The work that runs on the LLM lane: drafting a note and answering a chat question.

Both take the redacted text (the model never sees an identifier) and the encounter's pseudonym map as JSON (each job
builds its own map object: nothing is shared between threads). While the answer streams, the job emits what the
doctor should see next, already re-identified; a structured note's JSON is turned into its headed sections as it
grows (the pipeline's `StreamingNoteRenderer`). When the answer is complete, the checked and rendered note replaces
what was streamed.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from app.core.config import Settings
from app.ui.workers import JobToken


@dataclass(frozen=True)
class Answer:
    task: str
    display: str  # re-identified, what the doctor reads
    redacted: str  # exactly what the model wrote
    model: str
    timings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChatTurn:
    question_redacted: str
    answer_redacted: str


def _reidentifier(map_json: str) -> tuple[Any, Any]:
    from app.core.redact.pseudonyms import PseudonymMap, StreamingReidentifier

    pseudonyms = PseudonymMap.from_json(map_json)
    return pseudonyms, StreamingReidentifier(pseudonyms)


def draft_job(
    llm: Any, token: JobToken, task: str, redacted: str, map_json: str, settings: Settings
) -> Generator[str, None, Answer]:
    """Yields what to show as the answer streams; returns the finished `Answer` (the pipeline's own answer stream)."""
    from app.core.redact.pseudonyms import PseudonymMap
    from app.core.services.answer import stream_answer

    result, display = yield from stream_answer(
        llm, task, redacted, PseudonymMap.from_json(map_json), settings.llm, token  # type: ignore[arg-type]
    )
    return Answer(task, display, result.text, result.completion.model, result.timings)


def chat_job(
    llm: Any,
    token: JobToken,
    question_redacted: str,
    transcript_redacted: str,
    history: list[ChatTurn],
    map_json: str,
    settings: Settings,
) -> Generator[str, None, Answer]:
    from app.core.llm.base import ChatMessage, GenerationRequest, Sampling
    from app.core.llm.prompts import task_messages

    _pseudonyms, streaming = _reidentifier(map_json)
    system, user = task_messages(
        "question", f"{question_redacted}\n\nThe consultation (identifiers replaced by placeholders):\n"
        f"{transcript_redacted}"
    )
    earlier: list[ChatMessage] = []
    for turn in history:
        earlier += [ChatMessage("user", turn.question_redacted), ChatMessage("assistant", turn.answer_redacted)]
    request = GenerationRequest((system, *earlier, user), Sampling.from_settings(settings.llm))
    stream = llm.stream(request, token)
    shown: list[str] = []
    for piece in stream:
        text = streaming.feed(piece)
        shown.append(text)
        yield text
    tail = streaming.close()
    shown.append(tail)
    yield tail
    completion = stream.completion
    assert completion is not None  # set when the stream ends
    return Answer(
        "question", "".join(shown).strip(), completion.text.strip(), completion.model, completion.timings.as_dict()
    )
