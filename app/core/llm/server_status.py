"""What the clinic-server backend tells the window while it works: its status events and the server's health.

These types are separate from the backend (`openai_server.py`) so the window can use them: it reaches the engines
only through `app.core.services`, but it shows these events. A listener is called on the thread that runs the
request (the window's LLM lane); the window hands each event to its own thread through a queued signal. No event
ever carries patient text or the server's reply body.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from app.core.errors import CancelToken

StatusKind = Literal[
    "queued",  # the server has not started on the request yet (busy with other rooms): waited_s says how long
    "started",  # the server began sending the answer (a queued wait is over)
    "retrying",  # a connection failure or a gateway error before any text: trying again
    "unreachable",  # nothing answered at the server's address, after the retries
    "ready",  # the server answered again (after a start, or after being unreachable)
    "format",  # the server does not enforce the note format: notes are checked here
    "repairing",  # a note did not follow the format: asked once more
    "fallback",  # this computer's model answers while the server cannot be reached
]


@dataclass(frozen=True)
class ServerStatus:
    """Something the window should show while an answer waits or is being checked (never patient text)."""

    kind: StatusKind
    message: str
    waited_s: float = 0.0


StatusListener = Callable[[ServerStatus], None]

HealthState = Literal["ready", "starting", "unreachable", "refused", "problem"]


@dataclass(frozen=True)
class ServerHealth:
    """The answer to a health check: ready, starting (still loading its model), unreachable, refused (the key),
    or a problem the server reports (an HTTP error)."""

    state: HealthState
    detail: str = ""  # plain words for the doctor, never the server's reply body


@runtime_checkable
class ReportsServerStatus(Protocol):
    """A language model that talks to the clinic server (the server backend, or the fallback in front of it)."""

    on_status: StatusListener | None

    def check_health(self, cancel: CancelToken | None = None) -> ServerHealth: ...


def listen(llm: object, listener: StatusListener) -> bool:
    """Give `listener` the server's events when `llm` talks to a clinic server. Returns whether it does."""
    if isinstance(llm, ReportsServerStatus):
        llm.on_status = listener
        return True
    return False


def check_health(llm: object, cancel: CancelToken | None = None) -> ServerHealth | None:
    """The clinic server's health, or None when `llm` is not a server backend (a local model has none to check)."""
    if isinstance(llm, ReportsServerStatus):
        return llm.check_health(cancel)
    return None
