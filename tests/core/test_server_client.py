"""The clinic-server client against tiny fake OpenAI-compatible servers on 127.0.0.1: a server that ignores JSON
schemas, one that enforces them, one that is busy, slow, stalls, drops the answer half-way, interrupts it, or
speaks https with a certificate of its own. Every fake answers in bounded time and stops with the test."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from app.core.config import Settings
from app.core.errors import Cancelled, CancelToken, ModelError, ServerError
from app.core.llm.base import ChatMessage, GenerationRequest, Sampling
from app.core.llm.drafting import draft
from app.core.llm.openai_server import ServerLlm, ServerStatus
from app.core.llm.server_fallback import FallbackLlm
from app.core.llm.server_probe import PROBE_VALUE, extract_json, validate
from app.core.redact.pseudonyms import PseudonymMap
from app.core.services import consultation as c
from app.core.storage import Store, StoreWorker
from tests.core.test_llm_drafting import WordModel
from tests.support.certificates import self_signed_cert

NOTE = {"subjective": "Cough for two weeks.", "objective": "Chest clear.", "assessment": "Viral cough.",
        "plan": "Chest X-ray."}
QUESTION = GenerationRequest((ChatMessage("user", "Why an X-ray?"),), Sampling(0.0, 1.0, 32, 1))
Behaviour = Callable[["Handler", dict[str, Any], int], None]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._json(200, {"object": "list", "data": [{"id": "fake-model"}]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.bodies.append(body)
            index = len(self.server.bodies) - 1
        self.server.behaviour(self, body, index)

    # -- what a behaviour can send ---------------------------------------------------------------------------------
    def _json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(value).encode()
        self.send_response(status)
        for key, val in (headers or {}).items():
            self.send_header(key, val)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def status(self, code: int, headers: dict[str, str] | None = None) -> None:
        self._json(code, {"error": {"message": "nope"}}, headers)

    def start_sse(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def event(self, data: str) -> None:
        raw = f"data: {data}\n\n".encode()
        self.wfile.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
        self.wfile.flush()

    def piece(self, text: str, finish: str | None = None) -> None:
        delta = {"content": text} if text else {}
        self.event(json.dumps({"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}))

    def end_sse(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def answer(self, text: str, *, pieces: int = 4) -> None:
        self.start_sse()
        step = max(1, len(text) // pieces)
        for start in range(0, len(text), step):
            self.piece(text[start : start + step])
        self.piece("", "stop")
        self.event("[DONE]")
        self.end_sse()

    def cut(self) -> None:
        """Drop the connection without ending the chunked body: what a killed server looks like."""
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, behaviour: Behaviour) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.behaviour = behaviour
        self.bodies: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.release = threading.Event()  # behaviours that wait wait on this, so teardown never hangs
        self.scheme = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}/v1"

    def chat_bodies(self) -> list[dict[str, Any]]:
        return [b for b in self.bodies if not _is_probe(b)]

    def probes(self) -> list[dict[str, Any]]:
        return [b for b in self.bodies if _is_probe(b)]


def _is_probe(body: dict[str, Any]) -> bool:
    return any("Say hello in one word." in m["content"] for m in body["messages"])


def _serve(server: FakeServer) -> Iterator[FakeServer]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def fake(request: pytest.FixtureRequest) -> Iterator[FakeServer]:
    yield from _serve(FakeServer(request.param))


def _settings(url: str, **llm: object) -> Settings:
    settings = Settings()
    settings.llm.backend = "server"
    settings.llm.server_url = url
    settings.llm.server_timeout_s = 10.0
    settings.llm.temperature = 0.0
    settings.llm.max_tokens = 200
    for key, value in llm.items():
        setattr(settings.llm, key, value)
    return settings


def _waits(statuses: list[ServerStatus]) -> list[str]:
    """The events about waiting and checking, without the health ones ("ready", "started") every request makes."""
    return [s.kind for s in statuses if s.kind not in ("ready", "started")]


def _model(server: FakeServer, statuses: list[ServerStatus] | None = None, **llm: object) -> ServerLlm:
    return ServerLlm(_settings(server.url, **llm), retry_backoff_s=0.01,
                     on_status=statuses.append if statuses is not None else None)


# -- what a server enforces ----------------------------------------------------------------------------------------
def ignores_schemas(h: Handler, body: dict[str, Any], index: int) -> None:
    """Accepts every format and enforces none (the issue's server). The note comes as prose first, then as JSON
    once the client asks for a repair."""
    if _is_probe(body):
        h.answer("Hello!")
    elif body["messages"][-1]["role"] == "user" and "not a valid JSON object" in body["messages"][-1]["content"]:
        h.answer(json.dumps(NOTE))
    else:
        h.answer("Here is the SOAP note. Subjective: cough. Plan: X-ray.")


def enforces_json_schema(h: Handler, body: dict[str, Any], index: int) -> None:
    format_type = (body.get("response_format") or {}).get("type")
    if _is_probe(body):
        h.answer(json.dumps({"code": PROBE_VALUE}) if format_type == "json_schema" else "Hello!")
    else:
        h.answer(json.dumps(NOTE) if format_type == "json_schema" else "prose")


def always_prose(h: Handler, body: dict[str, Any], index: int) -> None:
    h.answer("Hello!" if _is_probe(body) else "I cannot write JSON today, sorry.")


def fenced_json(h: Handler, body: dict[str, Any], index: int) -> None:
    h.answer("Hello!" if _is_probe(body) else f"Sure:\n```json\n{json.dumps(NOTE)}\n```")


@pytest.mark.parametrize("fake", [ignores_schemas], indirect=True)
def test_a_server_that_ignores_schemas_is_found_out_and_the_note_is_repaired_once(fake: FakeServer) -> None:
    statuses: list[ServerStatus] = []
    llm = _model(fake, statuses)
    try:
        result = draft(llm, "soap", "[PATIENT_1] has a cough.", _settings(fake.url).llm)
        assert result.structured == NOTE
        assert llm.schema_style == "prompt"
        assert len(fake.probes()) == 4  # json_schema, json_object, body json_schema, guided_json: none enforced
        first, repair = fake.chat_bodies()
        assert "response_format" not in first and "JSON schema" in first["messages"][0]["content"]
        assert repair["messages"][-2] == {"role": "assistant", "content": "Here is the SOAP note. Subjective: "
                                          "cough. Plan: X-ray."}
        assert _waits(statuses) == ["format", "repairing"]
        draft(llm, "soap", "[PATIENT_1] has a cough again.", _settings(fake.url).llm)
        assert len(fake.probes()) == 4  # probed once per backend object
    finally:
        llm.close()


@pytest.mark.parametrize("fake", [enforces_json_schema], indirect=True)
def test_a_server_that_enforces_json_schema_gets_it(fake: FakeServer) -> None:
    llm = _model(fake)
    try:
        steps = list(llm.load())
        assert "json_schema" in steps[-1].message
        result = draft(llm, "soap", "[PATIENT_1] has a cough.", _settings(fake.url).llm)
        assert result.structured == NOTE
        assert len(fake.probes()) == 1 and fake.chat_bodies()[0]["response_format"]["type"] == "json_schema"
    finally:
        llm.close()


@pytest.mark.parametrize("fake", [always_prose], indirect=True)
def test_a_note_still_malformed_after_the_repair_is_a_clear_error(fake: FakeServer) -> None:
    llm = _model(fake)
    try:
        with pytest.raises(ModelError, match="incomplete or malformed"):
            draft(llm, "soap", "[PATIENT_1] has a cough.", _settings(fake.url).llm)
        assert len(fake.chat_bodies()) == 2  # the answer and exactly one repair
    finally:
        llm.close()


@pytest.mark.parametrize("fake", [fenced_json], indirect=True)
def test_json_in_a_code_fence_is_taken_without_a_repair(fake: FakeServer) -> None:
    llm = _model(fake)
    try:
        assert draft(llm, "soap", "[PATIENT_1] has a cough.", _settings(fake.url).llm).structured == NOTE
        assert len(fake.chat_bodies()) == 1
    finally:
        llm.close()


def test_the_validator_and_extractor() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string", "maxLength": 3},
                                               "b": {"type": "array", "items": {"type": "string"}, "maxItems": 1}},
              "required": ["a", "b"], "additionalProperties": False}
    assert validate(schema, {"a": "abc", "b": ["x"]}) == []
    assert validate(schema, {"a": "abcd", "b": ["x", "y"], "c": 1}) == ["$.a is too long", "$.b has too many items",
                                                                       "$.c is not allowed"]
    assert validate(schema, {"b": [3]}) == ["$.a is missing", "$.b[0] is not string"]
    assert validate(schema, []) == ["$ is not object"]
    assert extract_json('text {"a": 1} more {"b": 2}') == {"a": 1}
    assert extract_json("no json {here") is None


# -- under load --------------------------------------------------------------------------------------------------
def drops_half_way(h: Handler, body: dict[str, Any], index: int) -> None:
    h.start_sse()
    h.piece("The cough has")
    h.piece(" lasted two weeks.")
    h.cut()


def interrupted(h: Handler, body: dict[str, Any], index: int) -> None:
    h.start_sse()
    h.piece("The cough")
    h.event("[DONE]")  # llama-cpp-python's server, interrupted by another request
    h.end_sse()


def busy_then_answers(h: Handler, body: dict[str, Any], index: int) -> None:
    if index == 0:
        h.status(503, {"Retry-After": "0.3"})
    elif index == 1:
        h.status(429)
    else:
        h.answer("Because of the cough.")


def slow_to_start(h: Handler, body: dict[str, Any], index: int) -> None:
    h.server.release.wait(4.0)  # type: ignore[attr-defined]
    h.answer("late")


def stalls(h: Handler, body: dict[str, Any], index: int) -> None:
    h.start_sse()
    h.piece("The cough")
    h.server.release.wait(4.0)  # type: ignore[attr-defined]
    h.piece("", "stop")
    h.end_sse()


def wrong_key(h: Handler, body: dict[str, Any], index: int) -> None:
    h.status(401)


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[StoreWorker]:
    w = StoreWorker(Store(tmp_path / "store", kdf_iterations=4000))
    w.run(lambda s: s.create("server tests passphrase 71!")).result()
    yield w
    w.shutdown()


@pytest.mark.parametrize("fake", [drops_half_way], indirect=True)
def test_a_server_dropping_half_way_keeps_what_was_shown_as_stopped_and_is_not_retried(
    fake: FakeServer, worker: StoreWorker
) -> None:
    llm = _model(fake)

    def make(r: Any) -> int:
        return int(r.encounters.add(r.patients.add("Holloway", "Margaret").id).id)

    eid = worker.submit(make).result()
    pipeline = c.ConsultationPipeline(_settings(fake.url), llm=llm, store=worker)
    stage = pipeline.answer("[PATIENT_1] has a cough.", PseudonymMap(), "referral", eid, CancelToken())
    shown: list[str] = []
    try:
        with pytest.raises(ServerError, match="broke during the answer"):
            for event in stage:
                if isinstance(event, c.AnswerText):
                    shown.append(event.text)
    finally:
        llm.close()
    assert "".join(shown).strip() == "The cough has lasted two weeks."
    notes = worker.submit(lambda r: r.notes.for_encounter(eid)).result()
    assert [n.latest.text for n in notes] == [f"The cough has lasted two weeks.\n\n{c.STOPPED_MARK}"]
    assert len(fake.bodies) == 1  # text had arrived: never sent again, so never answered twice


@pytest.mark.parametrize("fake", [interrupted], indirect=True)
def test_a_bare_done_is_an_interrupted_answer_not_a_complete_one(fake: FakeServer) -> None:
    llm = _model(fake)
    pieces: list[str] = []
    try:
        with pytest.raises(ServerError, match="ended the answer early") as info:
            for piece in llm.stream(QUESTION):
                pieces.append(piece)
    finally:
        llm.close()
    assert pieces == ["The cough"] and "--interrupt_requests False" in info.value.hint


@pytest.mark.parametrize("fake", [busy_then_answers], indirect=True)
def test_a_busy_server_is_waited_for_and_said_so(fake: FakeServer) -> None:
    statuses: list[ServerStatus] = []
    llm = _model(fake, statuses)
    try:
        assert llm.complete(QUESTION).text == "Because of the cough."
    finally:
        llm.close()
    assert len(fake.bodies) == 3
    queued = [s for s in statuses if s.kind == "queued"]
    assert _waits(statuses) == ["queued", "queued"] and "queued, waiting" in queued[0].message


@pytest.mark.parametrize("fake", [slow_to_start], indirect=True)
def test_a_queued_request_reports_its_wait_and_can_be_cancelled(fake: FakeServer) -> None:
    statuses: list[ServerStatus] = []
    cancel = CancelToken()

    def heard(status: ServerStatus) -> None:
        if status.kind in ("ready", "started"):
            return
        statuses.append(status)
        if len(statuses) == 2:
            cancel.cancel()  # the doctor pressed Stop while the request waited in the queue

    llm = ServerLlm(_settings(fake.url, server_busy_notice_s=0.5), retry_backoff_s=0.01, on_status=heard)
    started = time.monotonic()
    try:
        with pytest.raises(Cancelled):
            llm.complete(QUESTION, cancel)
    finally:
        llm.close()
    assert 0.9 < time.monotonic() - started < 2.5
    assert _waits(statuses) == ["queued", "queued"] and statuses[1].waited_s >= 1.0


@pytest.mark.parametrize("fake", [slow_to_start], indirect=True)
def test_no_first_token_within_the_deadline_is_a_clear_error(fake: FakeServer) -> None:
    llm = _model(fake, server_timeout_s=1.0, server_busy_notice_s=5.0)
    started = time.monotonic()
    try:
        with pytest.raises(ServerError, match="did not start on the request within 1 s"):
            llm.complete(QUESTION)
    finally:
        llm.close()
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("fake", [stalls], indirect=True)
def test_a_stall_mid_answer_ends_after_the_gap_allowed(fake: FakeServer) -> None:
    llm = _model(fake, server_chunk_timeout_s=1.0)
    pieces: list[str] = []
    try:
        with pytest.raises(ServerError, match="sent nothing for 1 s"):
            for piece in llm.stream(QUESTION):
                pieces.append(piece)
    finally:
        llm.close()
    assert pieces == ["The cough"] and len(fake.bodies) == 1


@pytest.mark.parametrize("fake", [wrong_key], indirect=True)
def test_a_refused_key_names_the_setting(fake: FakeServer) -> None:
    llm = _model(fake)
    try:
        with pytest.raises(ServerError, match="API key") as info:
            llm.complete(QUESTION)
    finally:
        llm.close()
    assert "llm.server_api_key" in info.value.hint and len(fake.bodies) == 1


@pytest.mark.parametrize("fake", [enforces_json_schema], indirect=True)
def test_the_connection_pool_is_bounded(fake: FakeServer) -> None:
    llm = _model(fake, server_max_connections=2)
    try:
        answers: list[str] = []
        threads = [threading.Thread(target=lambda: answers.append(llm.complete(QUESTION).text)) for _ in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert answers == ["prose"] * 5
        pool = llm._client._transport._pool  # type: ignore[attr-defined]
        assert pool._max_connections == 2 and len(pool.connections) <= 2
    finally:
        llm.close()


# -- https with the clinic's own certificate authority --------------------------------------------------------------
@pytest.fixture
def tls_fake(tmp_path: Path) -> Iterator[tuple[FakeServer, Path]]:
    tls = self_signed_cert(tmp_path)
    cert, key = tls.cert, tls.key
    server = FakeServer(lambda h, body, index: h.answer("Secure answer."))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.scheme = "https"
    for running in _serve(server):
        yield running, cert


def test_an_untrusted_certificate_is_explained_and_a_clinic_ca_file_fixes_it(
    tls_fake: tuple[FakeServer, Path],
) -> None:
    server, cert = tls_fake
    llm = _model(server, server_retries=2)
    try:
        with pytest.raises(ServerError, match="certificate this computer does not trust") as info:
            llm.complete(QUESTION)
    finally:
        llm.close()
    assert "llm.server_ca_file" in info.value.hint
    trusted = _model(server, server_ca_file=str(cert))
    try:
        assert trusted.complete(QUESTION).text == "Secure answer."
    finally:
        trusted.close()


def test_a_missing_ca_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ServerError, match="cannot be read"):
        ServerLlm(_settings("https://127.0.0.1:9/v1", server_ca_file=str(tmp_path / "none.pem")))


# -- falling back to this computer's model ------------------------------------------------------------------------
def test_the_local_model_answers_when_the_server_cannot_be_reached() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once closed
    statuses: list[ServerStatus] = []
    settings = _settings(f"http://127.0.0.1:{port}/v1", server_retries=0, server_fallback_local=True)
    server = ServerLlm(settings, retry_backoff_s=0.01)
    local = WordModel()
    model = FallbackLlm(server, lambda: local, on_status=statuses.append)
    try:
        completion = model.complete(QUESTION)
        assert completion.backend == "local" and model.backend == "local"
        assert [s.kind for s in statuses] == ["unreachable", "fallback"]  # the status bar hears both
        assert model.complete(QUESTION).backend == "local"  # stays local for a while: no wait on every answer
    finally:
        model.close()
