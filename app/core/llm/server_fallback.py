"""The clinic server, or this computer's model while the server cannot be reached (`llm.server_fallback_local`, off by
default: a workstation without a GPU may be slow, and the clinic may want every answer from its server).

Only "cannot reach" switches (`ServerUnreachable`, raised before any text arrived): a busy server, a refused key or a
broken answer is reported as it is. After a switch the local model answers for `RETRY_SERVER_S`, then the server is
tried again. The local model is created only when first needed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence

from app.core.errors import CancelToken
from app.core.llm.base import (
    Backend,
    ChatMessage,
    Completion,
    GenerationRequest,
    LanguageModel,
    LoadProgress,
    TokenStream,
)
from app.core.llm.openai_server import ServerLlm, ServerUnreachable
from app.core.llm.server_status import ServerHealth, ServerStatus, StatusListener

log = logging.getLogger(__name__)

RETRY_SERVER_S = 300.0


class FallbackLlm:
    def __init__(
        self,
        server: ServerLlm,
        make_local: Callable[[], LanguageModel],
        *,
        on_status: StatusListener | None = None,
    ) -> None:
        self._server = server
        self._make_local = make_local
        self._local: LanguageModel | None = None
        self._local_until = 0.0  # monotonic time until which the local model answers
        self._lock = threading.Lock()
        self._listener: StatusListener | None = None
        self.on_status = on_status

    @property
    def on_status(self) -> StatusListener | None:
        return self._listener

    @on_status.setter
    def on_status(self, listener: StatusListener | None) -> None:
        """The server's own events (queued, unreachable…) go to the same listener as the switch to local."""
        self._listener = listener
        self._server.on_status = listener

    def check_health(self, cancel: CancelToken | None = None) -> ServerHealth:
        return self._server.check_health(cancel)

    def _active(self) -> LanguageModel:
        with self._lock:
            if self._local is not None and time.monotonic() < self._local_until:
                return self._local
            return self._server

    def _switch(self) -> LanguageModel:
        with self._lock:
            if self._local is None:
                self._local = self._make_local()
            self._local_until = time.monotonic() + RETRY_SERVER_S
            local = self._local
        log.warning("clinic server unreachable: using the local model for %.0f s", RETRY_SERVER_S)
        listener = self.on_status
        if listener is not None:
            listener(ServerStatus("fallback", "The clinic server cannot be reached: this computer's model answers"))
        return local

    @property
    def backend(self) -> Backend:
        return self._active().backend

    @property
    def model_name(self) -> str:
        return self._active().model_name

    @property
    def context_window(self) -> int:
        return self._active().context_window

    def load(self, cancel: CancelToken | None = None) -> Iterator[LoadProgress]:
        active = self._active()
        if active is self._server:
            try:
                yield from self._server.load(cancel)
                return
            except ServerUnreachable:
                active = self._switch()
        yield from active.load(cancel)

    def stream(self, request: GenerationRequest, cancel: CancelToken | None = None) -> TokenStream:
        result: list[Completion] = []

        def read() -> Iterator[str]:
            active = self._active()
            if active is self._server:
                inner = self._server.stream(request, cancel)
                try:
                    yield from inner
                    assert inner.completion is not None
                    result.append(inner.completion)
                    return
                except ServerUnreachable:  # raised before any text: nothing shown twice
                    active = self._switch()
            inner = active.stream(request, cancel)
            yield from inner
            assert inner.completion is not None
            result.append(inner.completion)

        return TokenStream(read(), lambda: result[0])

    def complete(self, request: GenerationRequest, cancel: CancelToken | None = None) -> Completion:
        return self.stream(request, cancel).collect()

    def count_tokens(self, text: str) -> int:
        return self._active().count_tokens(text)

    def count_prompt_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return self._active().count_prompt_tokens(messages)

    def close(self) -> None:
        self._server.close()
        with self._lock:
            local, self._local = self._local, None
        if local is not None:
            local.close()
