"""Prompt-cache reuse on the clinic server: consecutive requests of one conversation reuse what the server already
read, so only the new part is evaluated.

llama.cpp's `llama-server` keeps each slot's KV cache after a request. A new request that starts with the same
tokens (a chat's next turn extends the previous prompt; a redraft repeats it) evaluates only the rest when
`cache_prompt` is on (the default in recent releases, off in older ones) and when it lands in the slot holding that
prefix. Recent releases pick an idle slot by prompt similarity (`--slot-prompt-similarity`); `id_slot` pins a request
to one slot, but a pinned request waits for that slot even while others are idle. So a conversation has a stable
slot (a hash of its opening messages) and is pinned to it only when that slot is idle right now (`GET /slots`);
otherwise the server chooses.

Only llama-server gets these fields: it is recognised by `GET /props` answering with `total_slots`. Other servers
get none of them (vLLM and ollama cache prefixes by themselves, and a strict server could refuse fields it does not
know), so their requests stay plain OpenAI. llama-cpp-python's server has no /props: it gets no hints, and reuses
the prefix of the one request before anyway (it has a single model state).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from app.core.llm.server_health import server_root

log = logging.getLogger(__name__)

QUERY_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class CacheSupport:
    slots: int  # the server's parallel slots; 0 = it takes no cache hints

    @property
    def offered(self) -> bool:
        return self.slots > 0


NO_HINTS = CacheSupport(0)


def _fetch(client: httpx.Client, url: str, connect_s: float, what: str) -> tuple[int, Any] | None:
    """(HTTP status, the JSON body when the status is 200 and the body is JSON, else None) of a GET; None when the
    server could not be asked. Bodies are only read here, never logged."""
    try:
        response = client.get(url, timeout=httpx.Timeout(QUERY_TIMEOUT_S, connect=min(connect_s, QUERY_TIMEOUT_S)))
    except httpx.HTTPError as exc:
        log.info("server %s: %s", what, type(exc).__name__)
        return None
    try:
        return response.status_code, (response.json() if response.status_code == 200 else None)
    except ValueError:
        return response.status_code, None


def probe_support(client: httpx.Client, base: str, connect_s: float) -> CacheSupport | None:
    """What the server's /props says; None when it could not be asked now (ask again next time)."""
    fetched = _fetch(client, f"{server_root(base)}/props", connect_s, "cache probe")
    if fetched is None:
        return None
    status, props = fetched
    slots = props.get("total_slots") if isinstance(props, dict) else None
    if isinstance(slots, int) and not isinstance(slots, bool) and slots >= 1:
        log.info("server cache probe: llama-server with %d slots", slots)
        return CacheSupport(slots)
    log.info("server cache probe: HTTP %d, no slots named (no cache hints)", status)
    return NO_HINTS


def conversation_slot(messages: Sequence[dict[str, Any]], slots: int) -> int:
    """The slot of a conversation: the same for every request that opens with the same two messages (the system
    prompt and the consultation: a chat's turns, a redraft of one note), spread over the slots by a hash. The text
    is hashed in memory only."""
    opening = json.dumps(list(messages[:2]), ensure_ascii=False, sort_keys=True).encode("utf-8")
    return int.from_bytes(hashlib.sha256(opening).digest()[:8], "big") % max(slots, 1)


def idle_slots(client: httpx.Client, base: str, connect_s: float) -> set[int] | None:
    """The slots idle right now; None when the server does not say (its /slots endpoint is turned off)."""
    fetched = _fetch(client, f"{server_root(base)}/slots", connect_s, "slots query")
    listing = fetched[1] if fetched is not None else None
    if not isinstance(listing, list):
        return None
    return {
        int(slot["id"]) for slot in listing
        if isinstance(slot, dict) and isinstance(slot.get("id"), int) and slot.get("is_processing") is False
    }


def hint_fields(slot: int | None) -> dict[str, Any]:
    """The request fields: always `cache_prompt`, and `id_slot` when the request is pinned."""
    fields: dict[str, Any] = {"cache_prompt": True}
    if slot is not None:
        fields["id_slot"] = slot
    return fields
