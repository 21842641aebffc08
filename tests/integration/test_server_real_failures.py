"""The clinic-server backend's failures against llama-cpp-python's REAL server on 127.0.0.1 (issue #22): a certificate
this computer does not trust, a server busy with another room's answer, falling back to this computer's model when
nothing listens, and a server killed in the middle of an answer. The same cases against scripted fakes are in
tests/core/test_server_client.py; these check that the real server's behaviour is what the fakes assume."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.errors import ServerError
from app.core.llm.base import Completion, GenerationRequest, LanguageModel, Sampling
from app.core.llm.factory import create_language_model
from app.core.llm.openai_server import ServerLlm, ServerStatus, ServerUnreachable
from app.core.llm.server_fallback import FallbackLlm
from tests.integration.test_server_backend import REQUEST, _settings, server_url  # noqa: F401  (the fixture)
from tests.support.certificates import TlsFiles, self_signed_cert
from tests.support.llama_server import ALIAS, free_port, llama_server
from tests.support.tiny_gguf import write_tiny_gguf

pytestmark = pytest.mark.integration
pytest.importorskip("llama_cpp.server.app", reason="needs llama-cpp-python[server]")

LOCAL_MODEL = "smollm2-135m-instruct"
THREADS_LIMIT_S = 60.0
# Several seconds of tokens from the tiny model (greedy decoding never ends it early): long enough that a second
# room's short deadline passes while the server is still writing it, even on a fast machine.
LONG = GenerationRequest(REQUEST.messages, Sampling(0.0, 1.0, 3000, 3))
SHORT = GenerationRequest(REQUEST.messages, Sampling(0.0, 1.0, 8, 3))


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_gguf(tmp_path_factory.mktemp("failures") / "tiny.gguf")


@pytest.fixture(autouse=True)
def _no_threads_left() -> Iterator[None]:
    """Every thread a test started has ended when it does. Abandoned requests end theirs by themselves (when the
    server next sends, or at httpx's read timeout): waited for, bounded."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + THREADS_LIMIT_S
    for thread in set(threading.enumerate()) - before:
        thread.join(max(0.0, deadline - time.monotonic()))
    left = [t.name for t in set(threading.enumerate()) - before]
    assert not left, f"threads outlived the test: {left}"


# -- 1. https with a certificate this computer does not trust ------------------------------------------------------
@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def https_url(tiny_model: Path, tls_files: TlsFiles) -> Iterator[str]:
    with llama_server(tiny_model, tls=tls_files) as server:
        yield server.url


def test_an_untrusted_certificate_is_explained_without_retries(https_url: str) -> None:
    assert https_url.startswith("https://")
    model = ServerLlm(_settings(https_url, server_retries=2), retry_backoff_s=1.0)  # verification on: the default
    started = time.monotonic()
    try:
        with pytest.raises(ServerError, match="certificate this computer does not trust") as info:
            model.complete(SHORT)
    finally:
        model.close()
    assert https_url.removesuffix("/v1") in info.value.message
    assert "llm.server_ca_file" in info.value.hint
    # Not "unreachable": a fallback must not hide it behind the local model, and retrying cannot help.
    assert not isinstance(info.value, ServerUnreachable)
    assert time.monotonic() - started < 1.0  # no back-off pause was taken (one would be at least 1 s)


def test_the_clinic_ca_file_makes_the_https_server_answer(https_url: str, tls_files: TlsFiles) -> None:
    model = ServerLlm(_settings(https_url, server_ca_file=str(tls_files.cert)), retry_backoff_s=0.01)
    try:
        completion = model.complete(SHORT)
    finally:
        model.close()
    assert completion.text and completion.backend == "server" and completion.model == ALIAS
    assert completion.finish_reason == "length"


def test_https_to_a_plain_http_server_says_to_check_the_url(server_url: str) -> None:  # noqa: F811
    url = server_url.replace("http://", "https://", 1)
    model = ServerLlm(_settings(url), retry_backoff_s=0.01)
    try:
        with pytest.raises(ServerError, match="secure connection") as info:
            model.complete(SHORT)
    finally:
        model.close()
    assert "llm.server_url" in info.value.hint and not isinstance(info.value, ServerUnreachable)


# -- 2. a server busy with another room's answer -------------------------------------------------------------------
@pytest.fixture(scope="module")
def queueing_url(tiny_model: Path) -> Iterator[str]:
    """One request at a time, the others wait their turn (not llama-cpp-python's default of interrupting)."""
    with llama_server(tiny_model, n_ctx=4096, extra_args=["--interrupt_requests", "False"]) as server:
        yield server.url


class LongAnswer(threading.Thread):
    """The first room: streams LONG, and says when the server has started writing it."""

    def __init__(self, url: str) -> None:
        super().__init__(name="first-room")
        self.llm = ServerLlm(_settings(url), retry_backoff_s=0.01)
        self.writing = threading.Event()
        self.completion: Completion | None = None
        self.error: Exception | None = None

    def run(self) -> None:
        stream = self.llm.stream(LONG)
        try:
            for _piece in stream:
                self.writing.set()
            self.completion = stream.completion
        except Exception as exc:  # handed to the test, which fails on it
            self.error = exc
        finally:
            self.writing.set()
            self.llm.close()


def test_a_busy_server_is_reported_as_queued_then_busy_and_the_first_answer_completes(queueing_url: str) -> None:
    statuses: list[ServerStatus] = []
    quick = {"server_timeout_s": 2.0, "server_busy_notice_s": 0.5, "server_chunk_timeout_s": 5.0}
    second = ServerLlm(_settings(queueing_url, **quick), retry_backoff_s=0.01, on_status=statuses.append)
    cold_statuses: list[ServerStatus] = []
    cold = ServerLlm(  # has not asked the server anything yet
        _settings(queueing_url, **quick), retry_backoff_s=0.01, on_status=cold_statuses.append
    )
    cold_errors: list[ServerError] = []

    def cold_room() -> None:
        try:
            cold.complete(SHORT)
        except ServerError as exc:
            cold_errors.append(exc)

    first = LongAnswer(queueing_url)
    cold_thread = threading.Thread(target=cold_room, name="cold-room")
    try:
        assert second.complete(SHORT).text  # the second room is connected before the server gets busy
        statuses.clear()
        first.start()
        assert first.writing.wait(60), "the first answer did not start"
        cold_thread.start()
        started = time.monotonic()
        with pytest.raises(ServerError, match="did not start on the request within 2 s") as info:
            second.complete(SHORT)
        waited = time.monotonic() - started
        cold_thread.join(30)
        assert first.is_alive(), "the first answer ended before the second room's deadline: make LONG longer"
    finally:
        first.join(120)
        cold_thread.join(30)
        second.close()
        cold.close()
    assert "busy" in info.value.hint and "llm.server_timeout_s" in info.value.hint
    assert 2.0 <= waited < 10.0
    queued = [s for s in statuses if s.kind == "queued"]
    assert queued and "queued" in queued[0].message and 0.5 <= queued[0].waited_s <= 2.5
    assert "started" not in [s.kind for s in statuses]  # the server never began the second answer
    # A room that had not yet listed the server's models waits on the model list instead (llama-cpp-python holds it
    # behind the running answer): it is told it is queued there too, and the error says busy.
    assert len(cold_errors) == 1 and "did not answer within 2 s" in cold_errors[0].message
    assert "busy" in cold_errors[0].hint
    assert [s for s in cold_statuses if s.kind == "queued"]
    assert first.error is None and first.completion is not None
    assert first.completion.finish_reason == "length" and len(first.completion.text) > 1000


# -- 3. this computer's model while nothing listens at the server's address ----------------------------------------
def test_the_local_model_answers_when_nothing_listens_and_only_then(models_dir: Path) -> None:
    if not (models_dir / f"{LOCAL_MODEL}.gguf").is_file():
        pytest.skip(f"needs the {LOCAL_MODEL} model in models/ (clinic-assistant models install)")
    settings = _settings(f"http://127.0.0.1:{free_port()}/v1", server_retries=1, server_fallback_local=True)
    settings.llm.model = LOCAL_MODEL
    settings.gpu.n_ctx = 2048
    statuses: list[ServerStatus] = []
    model = create_language_model(settings, models_dir)
    assert isinstance(model, FallbackLlm)
    model.on_status = statuses.append
    try:
        completion = model.complete(SHORT)
    finally:
        model.close()
    assert completion.text and completion.backend == "local" and completion.model == LOCAL_MODEL
    assert [s.kind for s in statuses][-2:] == ["unreachable", "fallback"]  # the status bar hears both


def test_without_fallback_nothing_listening_is_server_unreachable(models_dir: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    settings = _settings(url, server_retries=1)
    statuses: list[ServerStatus] = []
    model = create_language_model(settings, models_dir)
    assert isinstance(model, ServerLlm)
    model.on_status = statuses.append
    try:
        with pytest.raises(ServerUnreachable, match="Cannot reach") as info:
            model.complete(SHORT)
    finally:
        model.close()
    assert url in info.value.message and "llm.server_url" in info.value.hint
    assert [s.kind for s in statuses] == ["unreachable"]


def test_with_fallback_a_reachable_server_answers_and_its_refusal_is_not_hidden(
    server_url: str, models_dir: Path  # noqa: F811
) -> None:
    def never_local() -> LanguageModel:
        raise AssertionError("the local model was asked for while the server could be reached")

    model = FallbackLlm(ServerLlm(_settings(server_url), retry_backoff_s=0.01), never_local)
    try:
        assert model.complete(SHORT).backend == "server"
    finally:
        model.close()
    settings = _settings(server_url, server_fallback_local=True)
    settings.llm.server_api_key = "wrong"
    refused = create_language_model(settings, models_dir)
    try:
        with pytest.raises(ServerError, match="API key"):
            refused.complete(SHORT)
        assert refused.backend == "server"  # a wrong key is reported, not answered by this computer's model
    finally:
        refused.close()


# -- 4. the server killed in the middle of an answer --------------------------------------------------------------
def test_a_server_killed_mid_answer_is_an_error_and_the_caller_keeps_what_streamed(tiny_model: Path) -> None:
    request = GenerationRequest(REQUEST.messages, Sampling(0.0, 1.0, 1500, 3))
    shown: list[str] = []
    with llama_server(tiny_model) as server:
        llm = ServerLlm(_settings(server.url, server_retries=2), retry_backoff_s=0.01)
        try:
            whole = llm.complete(request).text  # the same answer, whole (greedy decoding: the same every time)
            stream = llm.stream(request)
            with pytest.raises(ServerError, match="broke during the answer") as info:
                for piece in stream:
                    shown.append(piece)
                    if len(shown) == 5:
                        server.kill()  # SIGKILL: the connection drops without an end
            assert server.proc.returncode is not None
        finally:
                llm.close()
    text = "".join(shown)
    assert len(shown) >= 5 and text and len(text) < len(whole)
    assert whole.startswith(text)  # what streamed before the break is the answer's start, nothing lost or doubled
    assert stream.completion is None  # never passed off as a complete answer
    assert "kept as stopped" in info.value.hint
    # Not "unreachable": with the fallback on, the local model must not answer it a second time.
    assert not isinstance(info.value, ServerUnreachable)
