"""An OpenAI-compatible server on the clinic network (llama.cpp's server, vLLM, ollama) as the language model.

Only redacted text is ever sent (the caller redacts first). Connection failures and 502/503/504 are retried with a
growing pause before any token arrives; after that a failure ends the answer with a `ServerError`. Error messages
name the server and the HTTP status, never the server's reply body (it can echo the prompt).

Structured answers: `response_format` of type `json_schema` is what vLLM, llama.cpp's server and ollama enforce;
llama-cpp-python's server only knows `json_object` with a `schema`. We send `json_schema` and, if the server
rejects the format, fall back to `json_object` for the rest of the session. The caller validates the JSON anyway.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from app.core.config import Settings
from app.core.errors import CancelToken, ServerError
from app.core.llm.base import (
    Backend,
    ChatMessage,
    Completion,
    FinishReason,
    GenerationRequest,
    LoadProgress,
    StreamClock,
    TokenStream,
)
from app.core.llm.sse import DONE, iter_sse_data
from app.core.logs import text_stats

log = logging.getLogger(__name__)

RETRY_STATUSES = {502, 503, 504}
BYTES_PER_TOKEN_FLOOR = 3  # English runs ~4 bytes a token; counting 3 over-estimates, which is the safe side


class _SchemaRejected(Exception):
    pass


class ServerLlm:
    def __init__(
        self,
        settings: Settings,
        *,
        model: str | None = None,
        client: httpx.Client | None = None,
        retry_backoff_s: float = 0.5,
    ) -> None:
        llm = settings.llm
        self._base = llm.server_url.rstrip("/")
        self._wanted_model = model if model is not None else llm.server_model
        self._retries = llm.server_retries
        self._timeout_s = llm.server_timeout_s
        self._backoff_s = retry_backoff_s
        self._context_window = llm.server_context_tokens
        headers = {"Authorization": f"Bearer {llm.server_api_key}"} if llm.server_api_key else {}
        self._owns_client = client is None
        self._client = client or httpx.Client(
            timeout=httpx.Timeout(self._timeout_s, connect=min(self._timeout_s, 10.0)), headers=headers
        )
        self._model: str | None = None
        self._schema_style = "json_schema"
        self._lock = threading.Lock()

    # -- identity ------------------------------------------------------------------------------------------------
    @property
    def backend(self) -> Backend:
        return "server"

    @property
    def model_name(self) -> str:
        return self._model or self._wanted_model or "(server default)"

    @property
    def context_window(self) -> int:
        return self._context_window

    # -- HTTP ----------------------------------------------------------------------------------------------------
    def _pause(self, attempt: int, cancel: CancelToken | None) -> None:
        # An Event nobody sets: a sleep that a cancel can cut short between slices.
        waiter = threading.Event()
        remaining = self._backoff_s * (2**attempt)
        while remaining > 0:
            if cancel is not None:
                cancel.raise_if_cancelled()
            step = min(0.1, remaining)
            waiter.wait(step)
            remaining -= step

    def _unreachable(self, exc: Exception) -> ServerError:
        if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
            return ServerError(
                f"The clinic server at {self._base} did not answer within {self._timeout_s:g} s",
                "It may be busy: try again, or raise llm.server_timeout_s",
            )
        return ServerError(
            f"Cannot reach the clinic language-model server at {self._base}",
            "Check that the server is running and that llm.server_url is right (it ends in /v1)",
        )

    def _status_error(self, status: int, what: str) -> ServerError:
        log.warning("server answered HTTP %d to %s", status, what)
        if status in (401, 403):
            return ServerError(
                f"The clinic server refused the request (HTTP {status}): the API key is missing or wrong",
                "Set llm.server_api_key to the key the server expects",
            )
        if status == 404:
            return ServerError(
                f"The clinic server at {self._base} has no OpenAI-compatible {what} endpoint (HTTP 404)",
                "Check llm.server_url: it usually ends in /v1",
            )
        return ServerError(
            f"The clinic server failed to answer (HTTP {status} from {what})", "See the server's log, then try again"
        )

    def _open(self, method: str, path: str, cancel: CancelToken | None, body: Any = None) -> httpx.Response:
        """Send with retries; the response is streamed (the caller must close it)."""
        url = f"{self._base}{path}"
        for attempt in range(self._retries + 1):
            if cancel is not None:
                cancel.raise_if_cancelled()
            try:
                request = self._client.build_request(method, url, json=body)
                response = self._client.send(request, stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError, httpx.ReadError) as exc:
                log.info("server attempt %d failed: %s", attempt + 1, type(exc).__name__)
                if attempt == self._retries:
                    raise self._unreachable(exc) from None
            except httpx.TimeoutException as exc:
                raise self._unreachable(exc) from None
            else:
                if response.status_code not in RETRY_STATUSES or attempt == self._retries:
                    return response
                response.close()
                log.info("server attempt %d: HTTP %d", attempt + 1, response.status_code)
            self._pause(attempt, cancel)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _get_json(self, path: str, cancel: CancelToken | None) -> Any:
        response = self._open("GET", path, cancel)
        try:
            response.read()
            if response.status_code >= 400:
                raise self._status_error(response.status_code, path)
            return response.json()
        except (json.JSONDecodeError, httpx.HTTPError):
            raise ServerError(
                f"The clinic server's answer to {path} is not OpenAI-compatible JSON", "Check llm.server_url"
            ) from None
        finally:
            response.close()

    # -- model ---------------------------------------------------------------------------------------------------
    def _resolve_model(self, cancel: CancelToken | None) -> str:
        with self._lock:
            if self._model is not None:
                return self._model
            listing = self._get_json("/models", cancel)
            entries = [e for e in (listing.get("data") or []) if isinstance(e, dict) and e.get("id")]
            names = [str(e["id"]) for e in entries]
            if not names:
                raise ServerError(f"The clinic server at {self._base} offers no models", "Load a model on the server")
            wanted = self._wanted_model or names[0]
            if wanted not in names:
                raise ServerError(
                    f"The clinic server has no model named '{wanted}' (it offers: {', '.join(names[:10])})",
                    "Set llm.server_model to one of those names, or leave it empty to use the first",
                )
            entry = entries[names.index(wanted)]
            if isinstance(entry.get("max_model_len"), int):  # vLLM says how long its context is
                self._context_window = entry["max_model_len"]
            self._model = wanted
            return wanted

    def load(self, cancel: CancelToken | None = None) -> Iterator[LoadProgress]:
        yield LoadProgress("connect", 0.0, f"Contacting the clinic server at {self._base}")
        model = self._resolve_model(cancel)
        yield LoadProgress("ready", 1.0, f"Server model '{model}' ready", done=True)

    # -- tokens (estimates: the OpenAI API has no tokenizer endpoint) --------------------------------------------
    def count_tokens(self, text: str) -> int:
        return math.ceil(len(text.encode("utf-8")) / BYTES_PER_TOKEN_FLOOR)

    def count_prompt_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return sum(self.count_tokens(m.content) + 8 for m in messages) + 8

    # -- generation ----------------------------------------------------------------------------------------------
    def _body(self, request: GenerationRequest, model: str) -> dict[str, Any]:
        sampling = request.sampling
        body: dict[str, Any] = {
            "model": model,
            "messages": [m.as_dict() for m in request.messages],
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens,
            "stream": True,
        }
        if sampling.seed is not None:
            body["seed"] = sampling.seed
        if sampling.repeat_penalty != 1.0:
            body["repeat_penalty"] = sampling.repeat_penalty  # llama.cpp's name; servers without it ignore it
        if request.json_schema is not None:
            if self._schema_style == "json_schema":
                body["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": request.schema_name, "schema": request.json_schema, "strict": True},
                }
            else:
                body["response_format"] = {"type": "json_object", "schema": request.json_schema}
        return body

    def _start(self, request: GenerationRequest, model: str, cancel: CancelToken) -> httpx.Response:
        response = self._open("POST", "/chat/completions", cancel, self._body(request, model))
        if response.status_code < 400:
            return response
        try:
            detail = response.read()
        except httpx.HTTPError:
            detail = b""
        finally:
            response.close()
        if request.json_schema is not None and self._schema_style == "json_schema" and b"response_format" in detail:
            raise _SchemaRejected()
        raise self._status_error(response.status_code, "/chat/completions")

    def stream(self, request: GenerationRequest, cancel: CancelToken | None = None) -> TokenStream:
        cancel = cancel or CancelToken()
        outcome: list[Completion] = []

        def read() -> Iterator[str]:
            model = self._resolve_model(cancel)
            clock = StreamClock()
            try:
                response = self._start(request, model, cancel)
            except _SchemaRejected:
                log.info("server rejected json_schema response_format: using json_object")
                self._schema_style = "json_object"
                response = self._start(request, model, cancel)
            text: list[str] = []
            finish: FinishReason = "stop"
            ended = False  # a finish_reason or [DONE] arrived: the answer is complete
            try:
                for payload in iter_sse_data(response.iter_lines()):
                    cancel.raise_if_cancelled()  # leaving closes the connection: the server stops generating
                    if payload.strip() == DONE:
                        ended = True
                        break
                    piece, reason = _parse_chunk(payload)
                    ended = ended or reason is not None
                    if reason == "length":
                        finish = "length"
                    if piece:
                        clock.piece(piece)
                        text.append(piece)
                        yield piece
            except httpx.TimeoutException as exc:
                raise self._unreachable(exc) from None
            except httpx.HTTPError:
                raise ServerError(
                    f"The connection to the clinic server at {self._base} broke during the answer", "Try again"
                ) from None
            finally:
                response.close()
            if not ended:
                # Some servers end the stream silently when generation fails (a prompt longer than their context).
                raise ServerError(
                    "The clinic server stopped answering before the answer was finished",
                    "The text may be too long for the server's model (llm.server_context_tokens); see the server's log",
                )
            answer = "".join(text)
            timings = clock.timings(load_s=0.0, prompt_tokens=self.count_prompt_tokens(request.messages))
            log.info("server generated %s in %.2fs (%s)", text_stats(answer), timings.total_s, finish)
            outcome.append(Completion(answer, model, "server", finish, timings))

        def finish() -> Completion:
            return outcome[0]

        return TokenStream(read(), finish)

    def complete(self, request: GenerationRequest, cancel: CancelToken | None = None) -> Completion:
        return self.stream(request, cancel).collect()

    def close(self) -> None:
        if self._owns_client:
            self._client.close()


def _parse_chunk(payload: str) -> tuple[str, str | None]:
    """(text piece, finish reason) of one `chat.completion.chunk`."""
    try:
        chunk = json.loads(payload)
    except json.JSONDecodeError:
        raise ServerError("The clinic server streamed something that is not JSON", "Check llm.server_url") from None
    if not isinstance(chunk, dict):
        raise ServerError("The clinic server streamed an unexpected answer", "Check llm.server_url")
    if "error" in chunk:
        raise ServerError("The clinic server reported an error during the answer", "See the server's log")
    choices = chunk.get("choices") or []
    if not choices:
        return "", None  # e.g. a final usage-only chunk
    choice = choices[0]
    delta = choice.get("delta") or {}
    return str(delta.get("content") or ""), choice.get("finish_reason")

