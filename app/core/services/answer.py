"""A drafted answer as the doctor sees it while it streams: rendered (a structured note as headed sections, never
JSON) and re-identified (names back in place of placeholders, even when a placeholder is split across tokens).

The one implementation behind every answer the consultation pipeline gives, in the CLI and in the window: notes
and letters (`draft_stream`, which condenses input too long for the context) and chat questions (`fit_chat`,
which leaves out the oldest turns of a long conversation). What has been produced so far stays readable on the
object, so a stopped answer can be kept.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from app.core.config import LlmSettings
from app.core.errors import CancelToken
from app.core.llm.base import GenerationRequest, LanguageModel, Sampling
from app.core.llm.chat import ChatTurn, fit_chat
from app.core.llm.drafting import Draft, draft_stream, is_structured
from app.core.llm.prompts import Task
from app.core.redact.pseudonyms import PseudonymMap, StreamingReidentifier
from app.core.services.note_stream import StreamingNoteRenderer


class AnswerStream:
    """Iterate for the display pieces; afterwards `result` holds (the model's draft, its re-identified text).

    `question`: a chat question (redacted) about `redacted_text`, asked after `history`; otherwise `task` runs on
    `redacted_text`, with `prior` (a `prompts.prior_block`) as background. `notices` collects what the doctor
    should be told (input condensed, turns left out)."""

    def __init__(
        self,
        llm: LanguageModel,
        task: Task,
        redacted_text: str,
        pseudonyms: PseudonymMap,
        settings: LlmSettings,
        cancel: CancelToken | None = None,
        *,
        question: str | None = None,
        history: Sequence[ChatTurn] = (),
        prior: str = "",
    ) -> None:
        self._llm = llm
        self.task: Task = "question" if question is not None else task
        self._text = redacted_text
        self._pseudonyms = pseudonyms
        self._settings = settings
        self._cancel = cancel
        self._question = question
        self._history = tuple(history)
        self._prior = prior
        self.notices: list[str] = []
        self.raw: list[str] = []  # what the model wrote so far, placeholders and all
        self.shown: list[str] = []  # what the doctor has been shown so far
        self.result: tuple[Draft, str] | None = None

    @property
    def shown_text(self) -> str:
        return "".join(self.shown).strip()

    @property
    def raw_text(self) -> str:
        return "".join(self.raw).strip()

    def __iter__(self) -> Iterator[str]:
        reidentifier = StreamingReidentifier(self._pseudonyms)
        renderer = StreamingNoteRenderer(self.task) if is_structured(self.task) else None
        finished: Draft | None = None
        for item in self._pieces():
            if isinstance(item, Draft):
                finished = item
                continue
            self.raw.append(item)
            shown = reidentifier.feed(renderer.feed(item) if renderer is not None else item)
            if shown:
                self.shown.append(shown)
                yield shown
        tail = reidentifier.close()
        if tail:
            self.shown.append(tail)
            yield tail
        assert finished is not None  # both sources end with the Draft
        self.result = (finished, self._pseudonyms.reidentify(finished.text))

    def _pieces(self) -> Iterator[str | Draft]:
        if self._question is None:
            yield from draft_stream(
                self._llm, self.task, self._text, self._settings, cancel=self._cancel, notice=self.notices.append,
                prior=self._prior,
            )
            return
        started = time.perf_counter()
        sampling = Sampling.from_settings(self._settings)
        fitted = fit_chat(self._llm, self._question, self._text, self._history, sampling)
        if fitted.dropped_turns:
            self.notices.append(
                f"The conversation is longer than the model's context: its {fitted.dropped_turns} oldest "
                "exchange(s) were left out of this question"
            )
        stream = self._llm.stream(GenerationRequest(fitted.messages, sampling), self._cancel)
        yield from stream
        completion = stream.completion
        assert completion is not None  # set when the stream ends
        timings = completion.timings.as_dict()
        timings["wall_s"] = round(time.perf_counter() - started, 4)
        yield Draft("question", completion.text.strip(), completion, timings=timings)
