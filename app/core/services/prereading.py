"""Reading the consultation into a local model while it is dictated, so the note starts as the doctor stops talking.

Each time the live transcript confirms an utterance, the text so far is redacted with a copy of the encounter's map
(the same placeholders the final redaction will give) and the local model evaluates its task prompt up to there
(`LocalLlm.warm`). When the doctor stops, the drafted prompt starts with what was read, and llama.cpp evaluates
only what follows: the last utterance and the answer's header. Whatever differs (an edit, the doctor's review, a
name first recognised later) is re-read from its first changed token, so the note is the one a cold start gives.

Only a model in this process is pre-read: nothing the doctor has not approved is ever sent to a server ahead of
time. The work runs on a thread of its own, newest text only (a backlog of stale prefixes is skipped), so live
transcription never waits for it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Protocol

from app.core.errors import AppError, CancelToken
from app.core.llm.prompts import Task
from app.core.redact.base import Redactor
from app.core.redact.pseudonyms import PseudonymMap

log = logging.getLogger(__name__)


class PrereadingModel(Protocol):
    """A language model that can evaluate a prompt prefix ahead of time (the local backend)."""

    def warm(
        self, task: Task, cancel: CancelToken | None = None, consultation: str = "", prior: str = ""
    ) -> Future[int]: ...


def prereading_model(llm: object) -> PrereadingModel | None:
    """The model itself when it runs in this process and can pre-read; None for a server (never sent early)."""
    if getattr(llm, "backend", None) != "local" or not callable(getattr(llm, "warm", None)):
        return None
    return llm  # type: ignore[return-value]


def redact_so_far(redactor: Redactor, text: str, map_json: str) -> str:
    """The dictation so far as the model will see it: redacted with a copy of the encounter's map."""
    return redactor.redact(text, PseudonymMap.from_json(map_json)).redacted_text


class Prereader:
    """`offer(text)` after each confirmed utterance; `close()` before the final redaction uses the redactor."""

    def __init__(
        self, model: PrereadingModel, redactor: Redactor, task: Task, map_json: Callable[[], str], *, prior: str = ""
    ) -> None:
        self._model = model
        self._prior = prior  # the earlier notes' block the draft will start with (prior_context.py)
        self._redactor = redactor
        self._task = task
        self._map_json = map_json
        self._cancel = CancelToken()
        self._pending: str | None = None
        self._last = ""
        self._wake = threading.Condition()
        self._closed = False
        self.tokens_read = 0  # counted as each read ends, on the model's thread
        self._thread = threading.Thread(target=self._run, name="prereader", daemon=True)
        self._thread.start()

    def offer(self, text: str) -> None:
        text = text.strip()
        with self._wake:
            if self._closed or not text or text == self._last:
                return
            self._pending = text
            self._wake.notify_all()

    def close(self, wait: bool = True) -> None:
        """Stop taking text. With `wait`, redact what was offered and queue its reading on the model's thread,
        then return: the redactor is free for the final redaction, and the draft, queued behind that reading,
        starts from it (waiting for the read itself would only delay the transcript). Without `wait`, drop what
        was offered and cancel the read in progress."""
        with self._wake:
            self._closed = True
            if not wait:
                self._pending = None
            self._wake.notify_all()
        if not wait:
            self._cancel.cancel()
        self._thread.join()

    def _count(self, read: Future[int]) -> None:
        # A failed read is only a lost speed-up: the draft reports a real problem itself.
        if not read.cancelled() and read.exception() is None:
            self.tokens_read += read.result()
        with self._wake:
            self._wake.notify_all()

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._pending is None and not self._closed:
                    self._wake.wait()
                if self._pending is None:
                    return
                text, self._pending = self._pending, None
            try:
                redacted = redact_so_far(self._redactor, text, self._map_json())
            except AppError as exc:
                log.info("pre-reading stopped: %s", exc.kind)
                return
            read = self._model.warm(self._task, self._cancel, redacted, prior=self._prior)
            read.add_done_callback(self._count)
            self._last = text
            with self._wake:  # one read at a time while dictating (newest text only); none awaited once closed
                while not read.done() and not self._closed:
                    self._wake.wait()
