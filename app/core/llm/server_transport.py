"""One streamed HTTP request to the clinic server, run on its own thread so the caller can keep a clock.

The caller reads the response's lines from a queue with a short timeout, which lets it tell "the server has not
started on our request yet" (queued behind other rooms: say so, keep waiting up to a deadline, stay cancellable) from
"the server stopped sending in the middle of the answer" (a stall: give up after a shorter gap), and cancel at any
moment, not only between tokens. An abandoned request closes its connection as soon as its thread gets control back,
which tells the server to stop generating; httpx's own read timeout bounds how long that can take.
"""

from __future__ import annotations

import queue
import ssl
import threading
from dataclasses import dataclass
from typing import Any, Literal

import httpx

MAX_ERROR_BODY = 64 * 1024  # an error body is only searched for a keyword, never shown (it can echo the prompt)

ItemKind = Literal["open", "line", "end", "refused", "error"]


@dataclass(frozen=True)
class Refusal:
    status: int
    retry_after: str | None
    detail: bytes


class RequestPump:
    """Sends `request` on a daemon thread; `next()` hands over ("open", None), then ("line", str)... ("end", None);
    or ("refused", Refusal) for an HTTP error status; or ("error", exception) for a transport failure."""

    def __init__(self, client: httpx.Client, request: httpx.Request) -> None:
        self._client = client
        self._request = request
        self._items: queue.Queue[tuple[ItemKind, Any]] = queue.Queue()
        self._abandoned = threading.Event()
        self._thread = threading.Thread(target=self._run, name="clinic-server-request", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            response = self._client.send(self._request, stream=True)
        except Exception as exc:  # handed to the caller, who classifies it
            self._items.put(("error", exc))
            return
        try:
            if self._abandoned.is_set():
                return
            if response.status_code >= 400:
                detail = b""
                try:
                    for chunk in response.iter_bytes():
                        detail += chunk
                        if len(detail) > MAX_ERROR_BODY:
                            break
                except httpx.HTTPError:
                    pass
                self._items.put(("refused", Refusal(response.status_code, response.headers.get("retry-after"), detail)))
                return
            self._items.put(("open", None))
            for line in response.iter_lines():
                if self._abandoned.is_set():
                    return  # closing below tells the server to stop generating
                self._items.put(("line", line))
            self._items.put(("end", None))
        except Exception as exc:
            if not self._abandoned.is_set():
                self._items.put(("error", exc))
        finally:
            response.close()

    def next(self, timeout_s: float) -> tuple[ItemKind, Any] | None:
        try:
            return self._items.get(timeout=timeout_s)
        except queue.Empty:
            return None

    def abandon(self) -> None:
        self._abandoned.set()

    def join(self, timeout_s: float) -> None:
        self._thread.join(timeout_s)


def tls_problem(exc: BaseException) -> Literal["certificate", "tls"] | None:
    """Whether a connection failed on the certificate check, on TLS otherwise, or not on TLS at all."""
    seen: BaseException | None = exc
    for _ in range(8):  # a bounded walk down the exception chain
        if seen is None:
            return None
        text = str(seen)
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in text:
            return "certificate"
        if isinstance(seen, ssl.SSLError) or "[SSL" in text:
            return "tls"
        seen = seen.__cause__ or seen.__context__
    return None


def parse_retry_after(value: str | None, ceiling_s: float) -> float | None:
    """Seconds from a Retry-After header given in seconds (the HTTP-date form is ignored), capped at `ceiling_s`."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(0.0, min(seconds, ceiling_s))
