"""The clinic-server backend against a real OpenAI-compatible server (llama-cpp-python's) on 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.core.config import Settings
from app.core.errors import Cancelled, CancelToken, ServerError
from app.core.llm.base import ChatMessage, GenerationRequest, LanguageModel, Sampling
from app.core.llm.openai_server import ServerLlm
from tests.support.llama_server import ALIAS, API_KEY, free_port, llama_server
from tests.support.tiny_gguf import write_tiny_gguf

pytestmark = pytest.mark.integration
pytest.importorskip("llama_cpp.server.app", reason="needs llama-cpp-python[server]")

REQUEST = GenerationRequest(
    (ChatMessage("system", "You write notes."), ChatMessage("user", "Chest pain, 3 days.")),
    Sampling(temperature=0.0, top_p=1.0, max_tokens=20, seed=3),
)


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with llama_server(write_tiny_gguf(tmp_path_factory.mktemp("server") / "tiny.gguf")) as server:
        yield server.url


def _settings(url: str, **llm: object) -> Settings:
    settings = Settings()
    settings.llm.backend = "server"
    settings.llm.server_url = url
    settings.llm.server_api_key = API_KEY
    settings.llm.server_timeout_s = 30.0
    for key, value in llm.items():
        setattr(settings.llm, key, value)
    return settings


@pytest.fixture()
def server_llm(server_url: str) -> Iterator[ServerLlm]:
    model = ServerLlm(_settings(server_url), retry_backoff_s=0.01)
    yield model
    model.close()


def test_connects_and_finds_the_model(server_llm: ServerLlm) -> None:
    assert isinstance(server_llm, LanguageModel)
    steps = list(server_llm.load())
    assert steps[0].stage == "connect" and steps[-1].done
    assert server_llm.model_name == ALIAS


def test_streams_tokens_deterministically(server_llm: ServerLlm) -> None:
    stream = server_llm.stream(REQUEST)
    pieces = list(stream)
    assert len(pieces) > 3
    assert stream.completion is not None
    assert stream.completion.text == "".join(pieces)
    assert stream.completion.backend == "server" and stream.completion.model == ALIAS
    assert stream.completion.finish_reason == "length"
    assert server_llm.complete(REQUEST).text == stream.completion.text


def test_cancel_mid_stream_and_the_server_still_answers(server_llm: ServerLlm) -> None:
    cancel = CancelToken()
    seen: list[str] = []
    long_request = GenerationRequest(REQUEST.messages, Sampling(0.0, 1.0, 500, 3))
    with pytest.raises(Cancelled):
        for piece in server_llm.stream(long_request, cancel):
            seen.append(piece)
            if len(seen) == 3:
                cancel.cancel()
    assert len(seen) == 3
    assert server_llm.complete(REQUEST).text


def test_json_schema_answer_parses_with_format_fallback(server_llm: ServerLlm) -> None:
    schema = {
        "type": "object",
        "properties": {"finding": {"type": "string", "maxLength": 10}, "urgent": {"type": "boolean"}},
        "required": ["finding", "urgent"],
    }
    request = GenerationRequest(REQUEST.messages, Sampling(0.0, 1.0, 60, 3), json_schema=schema)
    data = json.loads(server_llm.complete(request).text)
    assert set(data) == {"finding", "urgent"}
    assert server_llm.schema_style == "json_object"  # the probe found json_schema rejected, json_object enforced


def test_wrong_model_name_lists_what_the_server_offers(server_url: str) -> None:
    model = ServerLlm(_settings(server_url, server_model="gpt-4"), retry_backoff_s=0.01)
    try:
        with pytest.raises(ServerError, match="no model named 'gpt-4'") as info:
            model.complete(REQUEST)
    finally:
        model.close()
    assert ALIAS in info.value.message and "llm.server_model" in info.value.hint


def test_wrong_api_key_is_explained(server_url: str) -> None:
    settings = _settings(server_url)
    settings.llm.server_api_key = "wrong"
    model = ServerLlm(settings, retry_backoff_s=0.01)
    try:
        with pytest.raises(ServerError, match="API key"):
            list(model.load())
    finally:
        model.close()


def test_server_down_is_a_clear_error_after_retries() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    model = ServerLlm(_settings(url, server_retries=2), retry_backoff_s=0.01)
    started = time.monotonic()
    try:
        with pytest.raises(ServerError, match="Cannot reach") as info:
            model.complete(REQUEST)
    finally:
        model.close()
    assert url in info.value.message and "llm.server_url" in info.value.hint
    assert time.monotonic() - started < 10


def test_retries_then_succeeds_when_the_server_comes_back(server_url: str) -> None:
    """Two failed connections (a transport that refuses twice), then the real server answers."""
    real = httpx.HTTPTransport()
    attempts: list[str] = []

    class FlakyTransport(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            attempts.append(request.url.path)
            if len(attempts) <= 2:
                raise httpx.ConnectError("refused", request=request)
            return real.handle_request(request)

    client = httpx.Client(transport=FlakyTransport(), headers={"Authorization": f"Bearer {API_KEY}"})
    model = ServerLlm(_settings(server_url, server_retries=2), client=client, retry_backoff_s=0.01)
    try:
        assert model.complete(REQUEST).text
    finally:
        client.close()
    assert attempts[:3] == ["/v1/models"] * 3


def test_an_answer_the_server_drops_is_an_error_not_an_empty_draft(server_llm: ServerLlm) -> None:
    """llama-cpp-python's server ends the stream silently when the prompt exceeds its context."""
    too_long = GenerationRequest((ChatMessage("user", "word " * 3000),), Sampling(0.0, 1.0, 20, 3))
    with pytest.raises(ServerError, match="stopped answering"):
        server_llm.complete(too_long)
    assert server_llm.complete(REQUEST).text  # the server is fine for the next request


def test_cli_ask_through_the_server(server_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from app.cli.main import main

    config = tmp_path / "settings.toml"
    config.write_text(
        f'[llm]\nserver_url = "{server_url}"\nserver_api_key = "{API_KEY}"\ntemperature = 0.0\nmax_tokens = 24\n'
    )
    code = main(["--config", str(config), "ask", "What dose of aspirin?", "--backend", "server", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    result = json.loads(out)
    assert result["backend"] == "server" and result["model"] == ALIAS
    assert result["answer"] and result["timings"]["total_s"] > 0


def test_cli_ask_reads_the_key_from_the_store_with_unlock(
    server_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import io

    from app.cli.main import main
    from app.core.services.server_key import store_key
    from app.core.storage import Store

    passphrase = "correct horse battery staple"
    monkeypatch.setenv("CLINIC_STORAGE__KDF_ITERATIONS", "64000")
    monkeypatch.delenv("CLINIC_LLM__SERVER_API_KEY", raising=False)
    data = tmp_path / "data"
    with Store(data, kdf_iterations=64000) as store:
        store.create(passphrase)
        store_key(store, API_KEY)
    config = tmp_path / "settings.toml"
    config.write_text(f'[llm]\nserver_url = "{server_url}"\ntemperature = 0.0\nmax_tokens = 16\n')
    argv = ["--config", str(config), "--data-dir", str(data), "ask", "What dose of aspirin?", "--backend", "server"]

    assert main([*argv, "--json"]) == 2  # no key in the settings or the environment: the server says no
    assert "--unlock" in capsys.readouterr().err  # and the message says how to use the stored one

    monkeypatch.setattr("sys.stdin", io.StringIO(passphrase + "\n"))
    assert main([*argv, "--json", "--unlock", "--passphrase-stdin"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["backend"] == "server" and API_KEY not in out + err
