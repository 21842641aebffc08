"""Prompt-cache hints and the health check against small fake servers on 127.0.0.1: one that answers like llama.cpp's
llama-server (/props with total_slots, /slots with each slot's state), one that answers like vLLM or ollama (no
/props) and refuses any field it does not know, and nothing at all (a closed port). A real llama-server is not
installed here; llama-cpp-python's real server is covered in tests/integration/test_server_backend.py."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from app.core.llm.base import ChatMessage, GenerationRequest, Sampling
from app.core.llm.openai_server import ServerLlm, ServerStatus
from app.core.llm.server_cache import conversation_slot
from tests.core.test_server_client import FakeServer, Handler, _serve, _settings

CONSULTATION = "[PATIENT_1] has had a cough for two weeks."
FIRST = GenerationRequest(
    (ChatMessage("system", "You write notes."), ChatMessage("user", f"Why an X-ray? {CONSULTATION}")),
    Sampling(0.0, 1.0, 16, 1),
)
NEXT_TURN = GenerationRequest(
    (*FIRST.messages, ChatMessage("assistant", "To rule out pneumonia."), ChatMessage("user", "And bloods?")),
    Sampling(0.0, 1.0, 16, 1),
)
OTHER = GenerationRequest(
    (ChatMessage("system", "You write notes."), ChatMessage("user", "[PATIENT_2] has a sprained ankle.")),
    Sampling(0.0, 1.0, 16, 1),
)
SLOTS = 4
OPENAI_FIELDS = {"model", "messages", "temperature", "top_p", "max_tokens", "stream", "seed"}


class LlamaServerLike(Handler):
    def do_GET(self) -> None:
        server: Any = self.server
        if self.path == "/props":
            self._json(200, {"total_slots": SLOTS, "default_generation_settings": {}})
        elif self.path == "/slots":
            if server.slots_listed:
                self._json(200, [{"id": i, "is_processing": i in server.busy} for i in range(SLOTS)])
            else:
                self._json(501, {"error": {"message": "This server does not support slots endpoint."}})
        elif self.path == "/health":
            self._json(server.health_status, {"status": "ok"})
        else:
            super().do_GET()


class PlainOpenAi(Handler):
    """vLLM/ollama-like: no /props, and (strictly) a 400 for any request field it does not know."""

    def do_GET(self) -> None:
        if self.path in ("/props", "/slots"):
            self._json(404, {"detail": "Not Found"})
        else:
            super().do_GET()


def answers(h: Handler, body: dict[str, Any], index: int) -> None:
    if isinstance(h, PlainOpenAi) and set(body) - OPENAI_FIELDS:
        h.status(400)
    else:
        h.answer("Because of the cough.")


def _fake(handler: type[Handler]) -> Iterator[FakeServer]:
    server = FakeServer(answers)
    server.RequestHandlerClass = handler
    server.busy = set()  # type: ignore[attr-defined]
    server.slots_listed = True  # type: ignore[attr-defined]
    server.health_status = 200  # type: ignore[attr-defined]
    yield from _serve(server)


@pytest.fixture
def llama_server() -> Iterator[FakeServer]:
    yield from _fake(LlamaServerLike)


@pytest.fixture
def plain_server() -> Iterator[FakeServer]:
    yield from _fake(PlainOpenAi)


def test_a_conversation_keeps_its_slot_while_it_is_idle(llama_server: FakeServer) -> None:
    llm = ServerLlm(_settings(llama_server.url), retry_backoff_s=0.01)
    try:
        assert list(llm.load())[-1].message.endswith("prompt cache: reused per conversation)")
        llm.complete(FIRST)
        llm.complete(NEXT_TURN)  # the chat's next turn opens with the same messages: the same slot
        slot = conversation_slot([m.as_dict() for m in FIRST.messages], SLOTS)
        llama_server.busy = {slot}  # type: ignore[attr-defined]
        llm.complete(NEXT_TURN)  # its slot is busy: the server chooses (a pinned request would wait for it)
        llama_server.busy = set()  # type: ignore[attr-defined]
        llama_server.slots_listed = False  # type: ignore[attr-defined]  # started with --no-slots
        llm.complete(FIRST)
        llm.complete(FIRST)
    finally:
        llm.close()
    bodies = llama_server.chat_bodies()  # the format probes at load are plain requests
    assert all(b["cache_prompt"] is True for b in bodies)
    assert [b.get("id_slot") for b in bodies] == [slot, slot, None, None, None]
    assert 0 <= slot < SLOTS and conversation_slot([m.as_dict() for m in OTHER.messages], SLOTS) in range(SLOTS)


def test_other_servers_get_plain_openai_requests(plain_server: FakeServer) -> None:
    statuses: list[ServerStatus] = []
    llm = ServerLlm(_settings(plain_server.url), retry_backoff_s=0.01, on_status=statuses.append)
    try:
        assert list(llm.load())[-1].message.endswith("prompt cache: the server's own)")
        assert llm.complete(FIRST).text == "Because of the cough."  # a strict server would refuse unknown fields
        assert llm.complete(NEXT_TURN).text == "Because of the cough."
    finally:
        llm.close()
    assert all(set(b) <= OPENAI_FIELDS for b in plain_server.chat_bodies())
    assert [s.kind for s in statuses].count("ready") == 1  # said once, not on every request


def test_health_ready_starting_and_unreachable(llama_server: FakeServer) -> None:
    statuses: list[ServerStatus] = []
    llm = ServerLlm(_settings(llama_server.url), retry_backoff_s=0.01, on_status=statuses.append)
    try:
        llama_server.health_status = 503  # type: ignore[attr-defined]  # llama-server loading its model
        assert llm.check_health().state == "starting"
        llama_server.health_status = 200  # type: ignore[attr-defined]
        assert llm.check_health().state == "ready"
    finally:
        llm.close()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once closed
    gone = ServerLlm(_settings(f"http://127.0.0.1:{port}/v1"), retry_backoff_s=0.01, on_status=statuses.append)
    try:
        health = gone.check_health()
    finally:
        gone.close()
    assert health.state == "unreachable" and "nothing answers" in health.detail
    assert [s.kind for s in statuses] == ["ready", "unreachable"]
    assert json.dumps([s.message for s in statuses])  # plain messages only
