"""An OpenAI-compatible server on the clinic network (llama.cpp's server, vLLM, ollama) as the language model.

Only redacted text is ever sent (the caller redacts first). Error messages name the server and the HTTP status, never
the server's reply body (it can echo the prompt).

Under load (many rooms, one server):
- one bounded connection pool per backend object (`llm.server_max_connections`);
- timeouts: connecting (`llm.server_connect_timeout_s`), the server starting on our request (`llm.server_timeout_s`:
  it may be queueing other rooms) and a gap in the middle of an answer (`llm.server_chunk_timeout_s`);
- while the request waits (HTTP 429/503, or no data yet after `llm.server_busy_notice_s`) the `on_status` listener
  hears "queued, waiting N s", and a cancel stops the wait at once;
- retries happen only before any text arrived (a refused connection, 429/502/503/504), never after: an answer is
  never produced twice, and one the server drops half-way ends with a `ServerError` after the text already streamed
  (the consultation pipeline keeps what was shown, marked as stopped);
- an answer is complete only when the server says why it finished (`finish_reason`): a bare `[DONE]` is what
  llama-cpp-python's server sends when another request interrupts one (its default `--interrupt_requests`).

Structured answers: a probe (`server_probe`) finds out, once per backend object, which way of asking for a JSON
schema the server really enforces; if none is, the schema goes into the prompt and the answer is checked here, with
one repair request. The caller validates the JSON anyway.

Prompt cache (`server_cache`): on llama.cpp's llama-server (found by its /props), each request asks to reuse the
slot's cached prefix and a conversation is pinned to its own slot while that slot is idle; other servers get plain
OpenAI requests. Health (`server_health`, `check_health`) and the status events (`server_status`) are what the
window's status bar and answer panel show.
"""

from __future__ import annotations

import json
import logging
import math
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any, Literal

import httpx

from app.core.config import Settings
from app.core.errors import CancelToken, ServerError
from app.core.llm import server_health
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
from app.core.llm.server_cache import NO_HINTS, CacheSupport, conversation_slot, hint_fields, idle_slots, probe_support
from app.core.llm.server_probe import (
    PROBE_STYLES,
    SchemaStyle,
    extract_json,
    probe_body,
    probe_enforced,
    prompt_instruction,
    repair_instruction,
    schema_fields,
    validate,
)
from app.core.llm.server_status import ServerHealth, ServerStatus, StatusKind, StatusListener
from app.core.llm.server_transport import Refusal, RequestPump, parse_retry_after, tls_problem
from app.core.llm.sse import DONE, iter_sse_data
from app.core.logs import text_stats

log = logging.getLogger(__name__)

BUSY_STATUSES = {429, 503}  # the server is full: wait (Retry-After or our back-off) up to llm.server_timeout_s
GATEWAY_STATUSES = {502, 504}  # a proxy in front of the server failed: counted against llm.server_retries
REJECTED_STATUSES = {400, 422}  # the request itself (e.g. a response_format) is not accepted
RETRY_STATUSES = BUSY_STATUSES | GATEWAY_STATUSES
BYTES_PER_TOKEN_FLOOR = 3  # English runs ~4 bytes a token; counting 3 over-estimates, which is the safe side
POLL_S = 0.1  # how often a waiting request checks its cancel token and its clocks
MAX_PAUSE_S = 30.0
PROBE_ATTEMPTS = 3  # per style, when its answer was cut short
INTERRUPT_HINT = (
    "llama-cpp-python's server does this when another request arrives: run it with --interrupt_requests False, "
    "or use llama.cpp's llama-server (see docs/server.md)"
)

CacheHints = Literal["auto", "on", "off"]  # "on"/"off" override the probe (the bench compares them)
__all__ = ["CacheHints", "ServerLlm", "ServerStatus", "ServerUnreachable", "StatusKind", "StatusListener"]


class ServerUnreachable(ServerError):
    """Nothing answered at the server's address (connection refused, DNS, connect timeout), after the retries."""


class _Rejected(Exception):
    def __init__(self, status: int, detail: bytes) -> None:
        super().__init__(status)
        self.status = status
        self.detail = detail


class ServerLlm:
    def __init__(
        self,
        settings: Settings,
        *,
        model: str | None = None,
        client: httpx.Client | None = None,
        retry_backoff_s: float = 0.5,
        on_status: StatusListener | None = None,
        cache_hints: CacheHints = "auto",
    ) -> None:
        llm = settings.llm
        self._base = llm.server_url.rstrip("/")
        self._wanted_model = model if model is not None else llm.server_model
        self._retries = llm.server_retries
        self._timeout_s = llm.server_timeout_s
        self._chunk_timeout_s = llm.server_chunk_timeout_s
        self._busy_notice_s = llm.server_busy_notice_s
        self._connect_s = min(llm.server_connect_timeout_s, llm.server_timeout_s)
        self._backoff_s = retry_backoff_s
        self._context_window = llm.server_context_tokens
        self._max_connections = llm.server_max_connections
        self.on_status = on_status
        headers = {"Authorization": f"Bearer {llm.server_api_key}"} if llm.server_api_key else {}
        self._owns_client = client is None
        self._client = client or httpx.Client(
            headers=headers,
            verify=_verify(llm.server_ca_file),
            # A thread blocked on a silent server must end by itself even after we gave up on it.
            timeout=httpx.Timeout(
                connect=self._connect_s,
                read=max(self._timeout_s, self._chunk_timeout_s) + 5.0,
                write=max(self._connect_s, 30.0),
                pool=self._timeout_s,
            ),
            limits=httpx.Limits(
                max_connections=llm.server_max_connections, max_keepalive_connections=llm.server_max_connections
            ),
            trust_env=False,  # the clinic server is on the clinic network: no proxy from the environment
        )
        self._model: str | None = None
        self._schema_style: SchemaStyle | None = None  # None until probed
        self._cache_hints = cache_hints
        self._cache: CacheSupport | None = {"auto": None, "on": CacheSupport(1), "off": NO_HINTS}[cache_hints]
        self._slots_listed = True  # the server's /slots answers (turned off with --no-slots: then never pinned)
        self._reachable: bool | None = None  # what the last request found; None before the first
        self._lock = threading.Lock()
        self._probe_lock = threading.Lock()
        self._cache_lock = threading.Lock()

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

    @property
    def schema_style(self) -> SchemaStyle | None:
        """How structured answers are asked for: what the probe found enforced, "prompt" if nothing; None = not yet."""
        return self._schema_style

    # -- status --------------------------------------------------------------------------------------------------
    def _notify(self, kind: StatusKind, message: str, waited_s: float = 0.0) -> None:
        log.info("server status: %s (%.1f s)", kind, waited_s)
        listener = self.on_status
        if listener is None:
            return
        try:
            listener(ServerStatus(kind, message, round(waited_s, 1)))
        except Exception:  # a listener's failure must not fail the answer
            log.exception("server status listener failed")

    def _say_queued(self, waited: float, next_notice: float) -> float:
        """While a request waits for the server to start on it: say so every `server_busy_notice_s`. Returns when
        to say it next."""
        if waited < next_notice:
            return next_notice
        self._notify("queued", f"The clinic server is busy: queued, waiting {waited:.0f} s", waited)
        return next_notice + self._busy_notice_s

    def _reached(self) -> None:
        """The server answered: say so once after a start or after it could not be reached."""
        if self._reachable is not True:
            self._reachable = True
            self._notify("ready", "The clinic server is ready")

    def _lost(self) -> None:
        if self._reachable is not False:
            self._reachable = False
            self._notify("unreachable", "The clinic server cannot be reached")

    def check_health(self, cancel: CancelToken | None = None) -> ServerHealth:
        """A quick check for the status bar (no retries, a few seconds at most); reports ready/unreachable as the
        requests do."""
        if cancel is not None:
            cancel.raise_if_cancelled()
        health = server_health.check_health(self._client, self._base, self._connect_s)
        if health.state == "ready":
            self._reached()
        elif health.state == "unreachable":
            self._lost()
        return health

    # -- errors --------------------------------------------------------------------------------------------------
    def _pause(self, seconds: float, cancel: CancelToken | None) -> None:
        # An Event nobody sets: a sleep that a cancel can cut short between slices.
        waiter = threading.Event()
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            if cancel is not None:
                cancel.raise_if_cancelled()
            waiter.wait(min(POLL_S, remaining))

    def _backoff(self, attempt: int) -> float:
        return float(min(MAX_PAUSE_S, self._backoff_s * (2**attempt)))

    def _unreachable(self, exc: Exception) -> ServerError:
        tls = tls_problem(exc)
        if tls == "certificate":
            return ServerError(
                f"The clinic server at {self._base} has a certificate this computer does not trust",
                "Name the clinic's certificate authority (a PEM file) in llm.server_ca_file, or ask IT to check "
                "the server's certificate and name",
            )
        if tls == "tls":
            return ServerError(
                f"A secure connection to the clinic server at {self._base} could not be set up",
                "Check that llm.server_url says https only if the server speaks https",
            )
        if isinstance(exc, httpx.PoolTimeout):
            return ServerError(
                f"All {self._max_connections} connections to the clinic server stayed busy for {self._timeout_s:g} s",
                "Wait for the other answers to finish, or raise llm.server_max_connections",
            )
        if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
            return ServerError(
                f"The clinic server at {self._base} did not answer within {self._timeout_s:g} s",
                "It may be busy: try again, or raise llm.server_timeout_s",
            )
        self._lost()  # the status bar says so (and the window keeps checking)
        return ServerUnreachable(
            f"Cannot reach the clinic language-model server at {self._base}",
            "Check that the server is running and that llm.server_url is right (it ends in /v1)",
        )

    def _status_error(self, status: int, what: str) -> ServerError:
        log.warning("server answered HTTP %d to %s", status, what)
        if status in (401, 403):
            return ServerError(
                f"The clinic server refused the request (HTTP {status}): the API key is missing or wrong",
                "Enter the key the server expects in Settings (llm.server_api_key, kept in the encrypted store), or "
                "with 'clinic-assistant store server-key set' ('ask' reads it with --unlock); for headless use set "
                "CLINIC_LLM__SERVER_API_KEY",
            )
        if status == 404:
            return ServerError(
                f"The clinic server at {self._base} has no OpenAI-compatible {what} endpoint (HTTP 404)",
                "Check llm.server_url: it usually ends in /v1",
            )
        if status in BUSY_STATUSES:
            return ServerError(
                f"The clinic server stayed busy (HTTP {status}) for {self._timeout_s:g} s",
                "Other rooms are using it: try again, or raise llm.server_timeout_s",
            )
        return ServerError(
            f"The clinic server failed to answer (HTTP {status} from {what})", "See the server's log, then try again"
        )

    # -- plain requests (the model list) -------------------------------------------------------------------------
    def _get_json(self, path: str, cancel: CancelToken | None) -> Any:
        url = f"{self._base}{path}"
        timeout = httpx.Timeout(self._timeout_s, connect=self._connect_s)
        for attempt in range(self._retries + 1):
            if cancel is not None:
                cancel.raise_if_cancelled()
            try:
                response = self._said_get(url, timeout, cancel)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError, httpx.ReadError) as exc:
                log.info("server attempt %d failed: %s", attempt + 1, type(exc).__name__)
                if tls_problem(exc) is not None or attempt == self._retries:
                    raise self._unreachable(exc) from None
            except httpx.TimeoutException as exc:
                raise self._unreachable(exc) from None
            else:
                if response.status_code not in RETRY_STATUSES or attempt == self._retries:
                    if response.status_code >= 400:
                        raise self._status_error(response.status_code, path)
                    self._reached()
                    try:
                        return response.json()
                    except json.JSONDecodeError:
                        raise ServerError(
                            f"The clinic server's answer to {path} is not OpenAI-compatible JSON",
                            "Check llm.server_url",
                        ) from None
                log.info("server attempt %d: HTTP %d", attempt + 1, response.status_code)
            self._pause(self._backoff(attempt), cancel)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _said_get(self, url: str, timeout: httpx.Timeout, cancel: CancelToken | None) -> httpx.Response:
        """A GET on a helper thread, so that the wait can be cancelled and is said: a server busy with other rooms
        may hold even its model list until its running answer ends (llama-cpp-python's does), and the doctor
        should see "queued", not nothing. An abandoned GET ends by its own timeout."""
        done: Future[httpx.Response] = Future()

        def get() -> None:
            try:
                done.set_result(self._client.get(url, timeout=timeout))
            except BaseException as exc:  # handed to the caller, who classifies it
                done.set_exception(exc)

        threading.Thread(target=get, name="clinic-server-get", daemon=True).start()
        began = time.monotonic()
        next_notice = self._busy_notice_s
        while True:
            if cancel is not None:
                cancel.raise_if_cancelled()
            try:
                return done.result(timeout=POLL_S)
            except FutureTimeout:
                next_notice = self._say_queued(time.monotonic() - began, next_notice)

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
        yield LoadProgress("connect", 0.5, "Checking which answer formats the server enforces")
        style = self._ensure_style(model, cancel or CancelToken())
        cache = "reused per conversation" if self._ensure_cache().offered else "the server's own"
        yield LoadProgress(
            "ready", 1.0, f"Server model '{model}' ready (note format: {style}; prompt cache: {cache})", done=True
        )

    # -- prompt cache (server_cache) -----------------------------------------------------------------------------
    def _ensure_cache(self) -> CacheSupport:
        with self._cache_lock:
            if self._cache is None:
                found = probe_support(self._client, self._base, self._connect_s)
                if found is None:
                    return NO_HINTS  # not asked this time: asked again with the next request
                self._cache = found
            return self._cache

    def _cache_fields(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        support = self._ensure_cache()
        if not support.offered:
            return {}
        slot = conversation_slot(messages, support.slots)
        if self._cache_hints == "on" or support.slots == 1:
            return hint_fields(slot)
        if self._slots_listed:
            idle = idle_slots(self._client, self._base, self._connect_s)
            if idle is None:
                self._slots_listed = False
                log.info("the server does not list its slots: requests are not pinned to one")
            elif slot in idle:
                return hint_fields(slot)
        return hint_fields(None)  # its slot is busy: the server picks an idle one (by prompt similarity)

    # -- what the server enforces --------------------------------------------------------------------------------
    def _ensure_style(self, model: str, cancel: CancelToken) -> SchemaStyle:
        with self._probe_lock:
            if self._schema_style is not None:
                return self._schema_style
            style, conclusive = self._probe(model, cancel)
            if conclusive:
                self._schema_style = style
            return style

    def _probe(self, model: str, cancel: CancelToken) -> tuple[SchemaStyle, bool]:
        """The first style the server enforces, or "prompt"; and whether that verdict can be cached (a probe answer
        cut short, e.g. interrupted by another room's request, proves nothing: it is tried again next time)."""
        conclusive = True
        for style in PROBE_STYLES:
            for _attempt in range(PROBE_ATTEMPTS):
                try:
                    text, _reason, ended = self._collect(probe_body(model, style), cancel, probing=True)
                except _Rejected as rejected:
                    log.info("server probe: %s rejected (HTTP %d)", style, rejected.status)
                    break
                if probe_enforced(text):
                    log.info("server probe: %s is enforced", style)
                    return style, True
                if ended:
                    log.info("server probe: %s accepted but not enforced", style)
                    break
                log.info("server probe: the answer for %s was cut short", style)
            else:
                conclusive = False
        if not conclusive:
            raise ServerError(
                "The clinic server cut its answers short while the app checked which note formats it enforces",
                INTERRUPT_HINT,
            )
        self._notify(
            "format",
            "The clinic server does not enforce the note format: each note is checked here and asked for once "
            "more if it is malformed",
        )
        return "prompt", True

    # -- tokens (estimates: the OpenAI API has no tokenizer endpoint) --------------------------------------------
    def count_tokens(self, text: str) -> int:
        return math.ceil(len(text.encode("utf-8")) / BYTES_PER_TOKEN_FLOOR)

    def count_prompt_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return sum(self.count_tokens(m.content) + 8 for m in messages) + 8

    # -- generation ----------------------------------------------------------------------------------------------
    def _body(self, request: GenerationRequest, model: str, style: SchemaStyle | None) -> dict[str, Any]:
        sampling = request.sampling
        messages = [m.as_dict() for m in request.messages]
        body: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens,
            "stream": True,
        }
        if sampling.seed is not None:
            body["seed"] = sampling.seed
        if sampling.repeat_penalty != 1.0:
            body["repeat_penalty"] = sampling.repeat_penalty  # llama.cpp's name; servers without it ignore it
        body.update(self._cache_fields(messages))
        if request.json_schema is not None and style is not None:
            if style == "prompt":
                instruction = prompt_instruction(request.json_schema)
                if messages and messages[0]["role"] == "system":
                    messages[0] = {"role": "system", "content": f"{messages[0]['content']}\n\n{instruction}"}
                else:
                    messages.insert(0, {"role": "system", "content": instruction})
            else:
                body.update(schema_fields(style, request.schema_name, request.json_schema))
        return body

    def _lines(self, pump: RequestPump, cancel: CancelToken, began: float) -> Iterator[str]:
        """The response's lines as they come, with the clocks: the first-data deadline (queued notices meanwhile)
        and the gap allowed in the middle of an answer. Raises `_Refused`/`_Broken` for the caller to classify."""
        started = False
        last = time.monotonic()
        next_notice = self._busy_notice_s
        try:
            while True:
                cancel.raise_if_cancelled()
                item = pump.next(POLL_S)
                now = time.monotonic()
                if item is None:
                    if not started:
                        waited = now - began
                        if waited > self._timeout_s:
                            raise ServerError(
                                f"The clinic server did not start on the request within {self._timeout_s:g} s",
                                "It is busy with other rooms: try again, or raise llm.server_timeout_s",
                            )
                        next_notice = self._say_queued(waited, next_notice)
                    elif now - last > self._chunk_timeout_s:
                        raise ServerError(
                            f"The clinic server sent nothing for {self._chunk_timeout_s:g} s mid-answer",
                            "What was shown is kept; see the server's log, then try again",
                        )
                    continue
                kind, value = item
                if kind == "line":
                    if not str(value).startswith(":"):  # a keep-alive comment is not the server working on it
                        if not started and str(value).startswith("data:"):
                            started = True  # any queued wait is over: the window stops counting
                            self._notify("started", "The clinic server is writing the answer", now - began)
                        last = now
                    yield value
                elif kind == "open":
                    self._reached()
                    last = now
                elif kind == "end":
                    return
                elif kind == "refused":
                    raise _Refused(value)
                else:
                    raise _Broken(value)
        finally:
            pump.abandon()  # also on cancel and on a consumer that stops reading: the connection closes

    def _chunks(
        self, body: dict[str, Any], cancel: CancelToken, *, probing: bool = False
    ) -> Iterator[tuple[str, str | None, bool]]:
        """(text piece, finish reason, [DONE] seen) of one chat completion, retried only while no text arrived.
        `probing`: a refusal that may be about the request's format (400, 422; llama-cpp-python says 500 when its
        request model does not know a field's value) raises `_Rejected` instead of an error."""
        url = f"{self._base}/chat/completions"
        began = time.monotonic()
        failures = 0  # connection failures and gateway errors, against llm.server_retries
        busy_rounds = 0
        while True:
            pump = RequestPump(self._client, self._client.build_request("POST", url, json=body))
            produced = False
            try:
                for payload in iter_sse_data(self._lines(pump, cancel, began)):
                    if payload.strip() == DONE:
                        yield "", None, True
                        return
                    piece, reason = _parse_chunk(payload)
                    produced = produced or bool(piece)
                    yield piece, reason, False
                return
            except _Refused as refused:
                status = refused.refusal.status
                waited = time.monotonic() - began
                if status in BUSY_STATUSES:
                    pause = parse_retry_after(refused.refusal.retry_after, MAX_PAUSE_S)
                    pause = self._backoff(min(busy_rounds, 5)) if pause is None else max(pause, POLL_S)
                    if waited + pause > self._timeout_s:
                        raise self._status_error(status, "/chat/completions") from None
                    busy_rounds += 1
                    self._notify("queued", f"The clinic server is busy: queued, waiting {waited:.0f} s", waited)
                elif status in GATEWAY_STATUSES and failures < self._retries:
                    pause = self._backoff(failures)
                    failures += 1
                    self._notify("retrying", f"The clinic server's gateway failed (HTTP {status}): trying again")
                elif probing and (status in REJECTED_STATUSES or status == 500):
                    raise _Rejected(status, refused.refusal.detail) from None
                else:
                    raise self._status_error(status, "/chat/completions") from None
            except _Broken as broken:
                exc = broken.exc
                if produced:
                    raise ServerError(
                        f"The connection to the clinic server at {self._base} broke during the answer",
                        "What was shown is kept as stopped; try again",
                    ) from None
                if not isinstance(exc, httpx.TransportError):
                    log.warning("server request failed: %s", type(exc).__name__)
                    raise ServerError(
                        f"The request to the clinic server at {self._base} failed ({type(exc).__name__})",
                        "See the app's log, then try again",
                    ) from None
                retryable = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError,
                                             httpx.ReadError, httpx.WriteError))
                if not retryable or tls_problem(exc) is not None or failures >= self._retries:
                    raise self._unreachable(exc) from None
                pause = self._backoff(failures)
                failures += 1
                log.info("server attempt %d failed: %s", failures, type(exc).__name__)
                self._notify("retrying", "The clinic server did not answer: trying again")
            self._pause(pause, cancel)

    def _collect(
        self, body: dict[str, Any], cancel: CancelToken, *, probing: bool = False
    ) -> tuple[str, str | None, bool]:
        """A whole answer: (text, finish reason, complete). Used for the probe and the repair request."""
        text: list[str] = []
        reason: str | None = None
        for piece, why, _done in self._chunks(body, cancel, probing=probing):
            text.append(piece)
            reason = why or reason
        return "".join(text), reason, reason is not None

    def _checked(
        self, request: GenerationRequest, body: dict[str, Any], answer: str, cancel: CancelToken
    ) -> tuple[str, FinishReason] | None:
        """The prompt-only path: the answer as canonical JSON when it follows the schema (after one repair request
        if it did not); None when even the repair is malformed (the caller's validation reports it)."""
        schema = request.json_schema
        assert schema is not None
        value = extract_json(answer)
        problems = ["not a JSON object"] if value is None else validate(schema, value)
        if not problems:
            return json.dumps(value, ensure_ascii=False), "stop"
        log.info("server answer does not follow the schema (%d problems): asking once more", len(problems))
        self._notify("repairing", "The server's answer did not follow the note format: asking once more")
        repair = dict(body)
        repair["messages"] = [
            *body["messages"],
            {"role": "assistant", "content": answer},
            {"role": "user", "content": repair_instruction(problems, schema)},
        ]
        text, reason, ended = self._collect(repair, cancel)
        value = extract_json(text)
        if ended and value is not None and not validate(schema, value):
            return json.dumps(value, ensure_ascii=False), "length" if reason == "length" else "stop"
        log.warning("server answer still does not follow the schema after one repair")
        return None

    def stream(self, request: GenerationRequest, cancel: CancelToken | None = None) -> TokenStream:
        cancel = cancel or CancelToken()
        outcome: list[Completion] = []

        def read() -> Iterator[str]:
            model = self._resolve_model(cancel)
            style = self._ensure_style(model, cancel) if request.json_schema is not None else None
            body = self._body(request, model, style)
            clock = StreamClock()
            text: list[str] = []
            finish: FinishReason = "stop"
            finished = False  # the server said why the answer ended: it is complete
            done = False
            for piece, reason, done in self._chunks(body, cancel):
                if reason is not None:
                    finished = True
                    finish = "length" if reason == "length" else "stop"
                if piece:
                    clock.piece(piece)
                    text.append(piece)
                    yield piece
                if done:
                    break
            if not finished and done:
                raise ServerError(
                    "The clinic server ended the answer early without saying it was finished",
                    INTERRUPT_HINT,
                )
            if not finished:
                # Some servers end the stream silently when generation fails (a prompt longer than their context).
                raise ServerError(
                    "The clinic server stopped answering before the answer was finished",
                    "The text may be too long for the server's model (llm.server_context_tokens); see the server's log",
                )
            answer = "".join(text)
            if style == "prompt" and finish == "stop":
                checked = self._checked(request, body, answer, cancel)
                if checked is not None:
                    answer, finish = checked
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


class _Refused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.status)
        self.refusal = refusal


class _Broken(Exception):
    def __init__(self, exc: BaseException) -> None:
        super().__init__(type(exc).__name__)
        self.exc = exc


def _verify(ca_file: str) -> ssl.SSLContext | bool:
    """Certificates are always checked; a clinic CA file replaces the system's authorities when named."""
    if not ca_file:
        return True
    path = Path(ca_file).expanduser()
    try:
        return ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError):
        raise ServerError(
            f"The clinic certificate authority file {path} cannot be read as PEM", "Check llm.server_ca_file"
        ) from None


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
