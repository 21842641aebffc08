"""Saving what the consultation pipeline's stages produced: the encounter's pseudonym map, a chat message, a finished
answer (a model-authored note, or the chat turn), and an answer stopped half-way, as far as the doctor saw it.

The saves go through the pipeline's store call, which runs them on the database's own thread and gives None when the
pipeline has no store (nothing is saved, no `Saved` event is yielded).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar

from app.core.errors import AppError
from app.core.llm.prompts import Task
from app.core.redact.pseudonyms import PseudonymMap
from app.core.services.answer import AnswerStream
from app.core.services.events import AnswerDone, Event, Saved
from app.core.storage import MessageRole, MessageTimings, NoteAuthor, NoteKind, Repositories

log = logging.getLogger(__name__)
T = TypeVar("T")

NOTE_KIND: dict[str, NoteKind] = {"soap": NoteKind.SOAP, "summary": NoteKind.SUMMARY, "referral": NoteKind.LETTER}
STOPPED_MARK = "[The answer stopped before it was complete]"


class StoreCall(Protocol):
    def __call__(self, fn: Callable[[Repositories], T], /) -> T | None: ...


class AnswerSaver:
    def __init__(self, db: StoreCall) -> None:
        self._db = db

    def map(self, encounter_id: int | None, pseudonyms: PseudonymMap) -> Iterator[Event]:
        if encounter_id is None:
            return
        eid, map_json = encounter_id, pseudonyms.to_json()
        if self._db(lambda r: r.redaction_maps.save(eid, map_json)) is not None:
            yield Saved("redaction_map", eid)

    def message(
        self,
        encounter_id: int,
        role: MessageRole,
        redacted: str,
        display: str,
        model: str = "",
        timings: MessageTimings | None = None,
    ) -> Iterator[Event]:
        message = self._db(
            lambda r: r.messages.add(encounter_id, role, redacted, display, model=model, timings=timings)
        )
        if message is not None:
            yield Saved("message", message.id)

    def answer(self, encounter_id: int, task: Task, done: AnswerDone) -> Iterator[Event]:
        completion = done.draft.completion
        kind = NOTE_KIND.get(task)
        if kind is None:  # a chat answer
            timings = MessageTimings(
                prompt_tokens=completion.timings.prompt_tokens,
                completion_tokens=completion.timings.completion_tokens,
                first_token_s=completion.timings.first_token_s,
                total_s=completion.timings.total_s,
            )
            yield from self.message(
                encounter_id, MessageRole.ASSISTANT, done.draft.text, done.display_text, completion.model, timings
            )
            return
        note = self._db(
            lambda r: r.notes.create(encounter_id, kind, done.display_text, author=NoteAuthor.MODEL,
                                     model=completion.model)
        )
        if note is not None:
            yield Saved("note", note.id)

    def stopped(self, encounter_id: int | None, stream: AnswerStream, model: str) -> Saved | None:
        """What the doctor saw of a stopped answer, kept as a draft note or chat turn that says it was stopped."""
        shown = stream.shown_text
        if encounter_id is None or not shown:
            return None
        display = f"{shown}\n\n{STOPPED_MARK}"
        kind = NOTE_KIND.get(stream.task)
        try:
            if kind is None:
                message = self._db(
                    lambda r: r.messages.add(
                        encounter_id, MessageRole.ASSISTANT, stream.raw_text, display, model=model
                    )
                )
                return Saved("message", message.id) if message is not None else None
            note = self._db(
                lambda r: r.notes.create(encounter_id, kind, display, author=NoteAuthor.MODEL, model=model)
            )
            return Saved("note", note.id) if note is not None else None
        except AppError as exc:  # stopping must still stop; the failure is in the log, never patient text
            log.warning("a stopped answer could not be saved: %s", exc.kind)
            return None
