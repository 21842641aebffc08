"""A quick, cheap check of whether the clinic server is there and ready, for the window's status bar.

llama.cpp's `llama-server` and vLLM answer `GET /health` (llama-server says 503 while it loads its model); servers
without it (llama-cpp-python's, ollama) answer 404, which still proves the server is up. Nothing here asks for the
model list: llama-cpp-python's server answers that only when the model is free, so behind queued rooms a health
check would wait as long as they do. The check never retries (the caller checks again later) and is bounded by a
short timeout, so it never holds up an answer for long.
"""

from __future__ import annotations

import logging

import httpx

from app.core.llm.server_status import ServerHealth
from app.core.llm.server_transport import tls_problem

log = logging.getLogger(__name__)

HEALTH_TIMEOUT_S = 5.0


def server_root(base: str) -> str:
    """The server's own address: the OpenAI base URL without its trailing /v1 (where /health and /props live)."""
    base = base.rstrip("/")
    return base[: -len("/v1")] if base.endswith("/v1") else base


def check_health(client: httpx.Client, base: str, connect_s: float) -> ServerHealth:
    timeout = httpx.Timeout(HEALTH_TIMEOUT_S, connect=min(connect_s, HEALTH_TIMEOUT_S))
    try:
        response = client.get(f"{server_root(base)}/health", timeout=timeout)
    except httpx.HTTPError as exc:
        log.info("server health check: %s", type(exc).__name__)
        if tls_problem(exc) is not None:
            return ServerHealth("problem", "its certificate or secure connection is not accepted")
        return ServerHealth("unreachable", "nothing answers at its address")
    status = response.status_code
    response.close()
    if status < 400 or status in (404, 405):  # a server without /health is still up and answering
        return ServerHealth("ready")
    if status == 503:
        return ServerHealth("starting", "it is starting (loading its model)")
    if status in (401, 403):
        return ServerHealth("refused", "it refuses this computer's API key")
    log.info("server health check: HTTP %d", status)
    return ServerHealth("problem", f"it reports a problem (HTTP {status})")
