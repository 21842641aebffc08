"""A drafted answer as the doctor sees it while it streams: rendered (a structured note as headed sections, never
JSON) and re-identified (names back in place of placeholders, even when a placeholder is split across tokens).

The one implementation behind the consultation pipeline and the window's draft and chat jobs.
"""

from __future__ import annotations

from collections.abc import Generator

from app.core.config import LlmSettings
from app.core.errors import CancelToken
from app.core.llm.base import LanguageModel
from app.core.llm.drafting import Draft, draft_stream, is_structured
from app.core.llm.prompts import Task
from app.core.redact.pseudonyms import PseudonymMap, StreamingReidentifier
from app.core.services.note_stream import StreamingNoteRenderer


def stream_answer(
    llm: LanguageModel,
    task: Task,
    redacted_text: str,
    pseudonyms: PseudonymMap,
    settings: LlmSettings,
    cancel: CancelToken | None = None,
) -> Generator[str, None, tuple[Draft, str]]:
    """Yields display pieces as they are ready; returns (the model's draft, its re-identified display text)."""
    reidentifier = StreamingReidentifier(pseudonyms)
    renderer = StreamingNoteRenderer(task) if is_structured(task) else None
    finished: Draft | None = None
    for item in draft_stream(llm, task, redacted_text, settings, cancel=cancel):
        if isinstance(item, Draft):
            finished = item
            continue
        shown = reidentifier.feed(renderer.feed(item) if renderer is not None else item)
        if shown:
            yield shown
    tail = reidentifier.close()
    if tail:
        yield tail
    assert finished is not None  # draft_stream always ends with the Draft
    return finished, pseudonyms.reidentify(finished.text)
