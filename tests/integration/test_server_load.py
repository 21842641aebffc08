"""Several rooms at once against a real llama-cpp-python server on 127.0.0.1, and the `bench server` load test."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from app.core.bench.common import BenchRequest
from app.core.config import Settings
from app.core.errors import ServerError
from app.core.llm.base import ChatMessage, GenerationRequest, Sampling
from app.core.llm.openai_server import ServerLlm, ServerStatus
from tests.integration.test_server_backend import REQUEST, _settings, server_url  # noqa: F401  (the fixture)

pytestmark = pytest.mark.integration
pytest.importorskip("llama_cpp.server.app", reason="needs llama-cpp-python[server]")

MODELS = Path(__file__).resolve().parents[2] / "models"
SCHEMA = {
    "type": "object",
    "properties": {"finding": {"type": "string", "maxLength": 10}, "urgent": {"type": "boolean"}},
    "required": ["finding", "urgent"],
}


def test_rooms_at_once_on_the_default_server_are_interrupted_and_say_so(server_url: str) -> None:  # noqa: F811
    """llama-cpp-python's server interrupts a streaming answer when another request arrives (its default): each room
    gets a complete answer or a clear error, never a truncated answer passed off as complete."""
    results: list[str] = []
    errors: list[str] = []
    statuses: list[ServerStatus] = []
    request = GenerationRequest(REQUEST.messages, Sampling(0.0, 1.0, 60, 3), json_schema=SCHEMA)

    def room() -> None:
        llm = ServerLlm(_settings(server_url), retry_backoff_s=0.01, on_status=statuses.append)
        try:
            results.append(llm.complete(request).text)
        except ServerError as exc:
            errors.append(exc.message)
        finally:
            llm.close()

    threads = [threading.Thread(target=room) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) + len(errors) == 4
    for text in results:
        assert set(json.loads(text)) == {"finding", "urgent"}  # every answer taken as complete is whole JSON
    assert all("ended the answer early" in e or "cut its answers short" in e for e in errors)


def test_bench_server_quick(tmp_path: Path) -> None:
    if not (MODELS / "smollm2-135m-instruct.gguf").is_file():
        pytest.skip("needs the smollm2-135m-instruct model in models/")
    from app.core.bench import server as bench

    figures = bench.run(BenchRequest(Settings(), MODELS, tmp_path, quick=True))
    assert figures["answers_lost"] == 0 and figures["answers_duplicated"] == 0
    assert figures["answers_complete"] >= figures["rooms"]
    assert figures["rooms_resumed"] == figures["rooms"]  # every room answered again after the restart
    assert figures["first_token_p50_s"] is not None and figures["answers_per_min"] > 0
    # llama-cpp-python's server has no /props: the app offers it no cache hint, and the forced hint is harmless.
    assert figures["cache_hints_offered_by_server"] is False
    assert figures["second_turn_first_token_with_hint_p50_s"] > 0


def test_probe_is_cached_and_a_chat_question_needs_no_probe(server_url: str) -> None:  # noqa: F811
    llm = ServerLlm(_settings(server_url), retry_backoff_s=0.01)
    try:
        llm.complete(GenerationRequest((ChatMessage("user", "Hello"),), Sampling(0.0, 1.0, 8, 3)))
        assert llm.schema_style is None
        list(llm.load())
        assert llm.schema_style == "json_object"
    finally:
        llm.close()
