"""Clinic-server load test: many rooms drafting at once through the app's real server backend, and a server crash.

A real OpenAI-compatible server (llama-cpp-python's, the small SmolLM2 model) is started on 127.0.0.1 at a free port.
Each simulated room is a thread with its own `ServerLlm` (as each room's workstation has its own app) drafting short
referral letters from ACI-BENCH dialogues (tests/data/clinical, redacted enough for a benchmark) through `draft()`:
prompt, fit to context, stream, check. Half-way through, the server is killed (SIGKILL) and started again; the rooms
carry on. Everything is bounded: a fixed run time, answers capped at a few tokens, every wait has a timeout, and the
server process is always stopped at the end.

Figures:
- rooms, slots (llama-cpp-python's server has one: requests queue, which is what the busy notices are for), model,
  max_tokens, run_s.
- answers_complete / answers_stopped (the server died mid-answer: the text shown was kept, marked stopped) /
  answers_failed_before_text (a clear error before anything was shown: nothing to keep), answers_lost (a request
  with no outcome at all: must be 0), answers_duplicated (a request saved twice, or a saved text that is not exactly
  what was shown: must be 0).
- first_token_p50_s / p95 (queueing included), answer_p50_s / p95, answers_per_min.
- queued_notices: "queued, waiting N s" heard by the rooms; rooms_resumed: rooms that completed an answer after the
  restart (must equal rooms).
- second_turn_first_token_*: before the rooms start, a chat's second turn in one encounter with and without the
  prompt-cache hint, and after another encounter's request in between (bench/server_cache.py).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from app.core.bench import server_cache
from app.core.bench.common import BenchRequest
from app.core.config import Settings
from app.core.errors import AppError, InputError
from app.core.installed_models import locate
from app.core.llm.base import Completion
from app.core.llm.drafting import draft
from app.core.llm.openai_server import ServerLlm, ServerStatus
from app.core.paths import install_root

log = logging.getLogger(__name__)

MODEL = "smollm2-135m-instruct"
ALIAS = "bench-smollm2"
DIALOGUES = Path("tests/data/clinical/aci_bench_dev.jsonl")
DIALOGUE_CHARS = 800  # the opening of each consultation: short prompts keep a 2-core run meaningful
STARTUP_LIMIT_S = 120.0
EXTRA_ANSWERS = 2
CACHE_ENCOUNTERS = 6  # each variant measured twice in each place of the order


@dataclass
class Outcome:
    room: int
    index: int
    kind: str  # complete | stopped | failed | lost
    started: float
    first_token_s: float | None = None
    total_s: float | None = None
    shown: str = ""
    saved: list[str] = field(default_factory=list)
    completion: Completion | None = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _dialogues() -> list[str]:
    path = install_root() / DIALOGUES
    if not path.is_file():
        raise InputError(f"The bench dialogues {path} are missing", "Run the bench from a source checkout")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [str(row["dialogue"])[:DIALOGUE_CHARS] for row in rows]


class ServerProcess:
    """llama-cpp-python's server on 127.0.0.1; killed and restarted on the same port."""

    def __init__(self, model: Path, port: int, api_key: str, log_path: Path) -> None:
        self.model = model
        self.port = port
        self.api_key = api_key
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> float:
        started = time.monotonic()
        with open(self.log_path, "ab") as log_file:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model), "--host", "127.0.0.1",
                 "--port", str(self.port), "--n_ctx", "2048", "--n_threads", "2", "--model_alias", ALIAS,
                 "--api_key", self.api_key, "--interrupt_requests", "False"],
                stdout=log_file, stderr=subprocess.STDOUT,
            )
        deadline = started + STARTUP_LIMIT_S
        while time.monotonic() < deadline:  # bounded poll
            # Any HTTP answer will do: the model is loaded before the server listens. (Its /v1/models waits for the
            # model lock, so behind queued rooms it would answer only when they are done.)
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/", timeout=2, trust_env=False)
                return time.monotonic() - started
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        raise AppError("The bench's language-model server did not start", f"See {self.log_path}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)


@contextmanager
def _server(request: BenchRequest, port: int) -> Iterator[ServerProcess]:
    try:
        model = locate(MODEL, request.models_dir)
    except AppError as exc:
        raise InputError(f"The server bench needs the model '{MODEL}'", exc.hint) from None
    log_dir = request.data_dir / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    server = ServerProcess(model, port, secrets.token_hex(8), log_dir / "server-bench.log")
    try:
        yield server
    finally:
        server.stop()


def _settings(base: Settings, url: str, api_key: str, max_tokens: int) -> Settings:
    settings = base.model_copy(deep=True)
    llm = settings.llm
    llm.backend = "server"
    llm.server_url = url
    llm.server_api_key = api_key
    llm.server_model = ""
    llm.server_context_tokens = 2048
    # One slot, eight rooms: a request may queue behind all the others (and after the restart, behind the retries
    # of all of them); the doctor sees "Queued, N s" meanwhile. A clinic on a one-slot server sets it as high.
    llm.server_timeout_s = 120.0
    llm.server_chunk_timeout_s = 20.0
    llm.server_busy_notice_s = 3.0
    llm.server_retries = 5  # about 15 s of growing pauses: long enough for the restart
    llm.server_ca_file = ""
    llm.max_tokens = max_tokens
    llm.temperature = 0.0
    llm.seed = 1
    return settings


class Room(threading.Thread):
    def __init__(
        self, number: int, settings: Settings, dialogues: list[str], until: float, restarted: threading.Event
    ) -> None:
        super().__init__(name=f"bench-room-{number}", daemon=True)
        self.number = number
        self.settings = settings
        self.dialogues = dialogues
        self.until = until
        self.restarted = restarted
        self.restarted_at: float | None = None
        self.outcomes: list[Outcome] = []
        self.notices: list[ServerStatus] = []

    def run(self) -> None:
        llm = ServerLlm(self.settings, retry_backoff_s=0.5, on_status=self.notices.append)
        try:
            index = 0
            extra = 0  # after the run time, at most EXTRA_ANSWERS more to show the room resumed after the restart
            while True:
                if time.monotonic() >= self.until:
                    if self.resumed() or extra >= EXTRA_ANSWERS or not self.restarted.is_set():
                        break
                    extra += 1
                text = self.dialogues[(self.number * 5 + index) % len(self.dialogues)]
                self.outcomes.append(self._one(llm, index, text))
                index += 1
        finally:
            llm.close()

    def resumed(self) -> bool:
        """An answer started after the server came back completed."""
        at = self.restarted_at
        return at is not None and any(o.kind == "complete" and o.started >= at for o in self.outcomes)

    def _one(self, llm: ServerLlm, index: int, text: str) -> Outcome:
        outcome = Outcome(self.number, index, "lost", time.monotonic())
        shown: list[str] = []

        def piece(text: str) -> None:
            if outcome.first_token_s is None:
                outcome.first_token_s = time.monotonic() - outcome.started
            shown.append(text)

        try:
            result = draft(llm, "referral", text, self.settings.llm, on_piece=piece)
        except AppError as exc:
            outcome.shown = "".join(shown)
            outcome.kind = "stopped" if outcome.shown else "failed"
            if outcome.shown:  # what the pipeline does: keep what was shown, marked stopped
                outcome.saved.append(outcome.shown)
            log.info("room %d answer %d: %s (%s)", self.number, index, outcome.kind, exc.kind)
            return outcome
        except Exception:  # anything else is a bug: the answer counts as lost
            log.exception("room %d answer %d lost", self.number, index)
            return outcome
        outcome.kind = "complete"
        outcome.total_s = time.monotonic() - outcome.started
        outcome.shown = "".join(shown)
        outcome.completion = result.completion
        outcome.saved.append(result.completion.text)
        return outcome


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)], 3)


def run(request: BenchRequest) -> dict[str, Any]:
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llama_cpp.server") is None:
        return {"skipped": "needs llama-cpp-python[server] (pip install 'llama-cpp-python[server]')"}
    rooms_n = 3 if request.quick else 8
    run_s = 20.0 if request.quick else 60.0
    max_tokens = 16 if request.quick else 64
    dialogues = _dialogues()
    with _server(request, _free_port()) as server:
        startup_s = server.start()
        settings = _settings(request.settings, server.url, server.api_key, max_tokens)
        request.progress("server bench: second turns with and without the prompt-cache hint")
        cache = server_cache.measure(settings, dialogues, 1 if request.quick else CACHE_ENCOUNTERS)
        began = time.monotonic()
        until = began + run_s
        restarted = threading.Event()
        rooms = [Room(n, settings, dialogues, until, restarted) for n in range(rooms_n)]
        for room in rooms:
            room.start()
        request.progress(f"server bench: {rooms_n} rooms drafting")
        time.sleep(run_s * 0.45)
        request.progress("server bench: killing the server mid-run")
        server.kill()
        time.sleep(0.5)
        restart_s = server.start()
        for room in rooms:
            room.restarted_at = time.monotonic()
        restarted.set()
        request.progress("server bench: server restarted; rooms resuming")
        for room in rooms:
            room.join(run_s + 600.0)  # bounded: every request inside has its own timeouts
        wall_s = time.monotonic() - began
        hung = [room.number for room in rooms if room.is_alive()]

    outcomes = [o for room in rooms for o in room.outcomes]
    complete = [o for o in outcomes if o.kind == "complete"]
    duplicated = sum(
        1 for o in outcomes
        if len(o.saved) > 1 or (o.completion is not None and o.completion.text.strip() != o.shown.strip())
    )
    first = [o.first_token_s for o in complete if o.first_token_s is not None]
    totals = [o.total_s for o in complete if o.total_s is not None]
    return {
        "server": "llama-cpp-python (uvicorn, --interrupt_requests False)",
        "model": MODEL,
        "rooms": rooms_n,
        "slots": 1,
        "max_tokens": max_tokens,
        "run_s": run_s,
        "server_startup_s": round(startup_s, 2),
        "server_restart_s": round(restart_s, 2),
        "answers_complete": len(complete),
        "answers_stopped": sum(o.kind == "stopped" for o in outcomes),
        "answers_failed_before_text": sum(o.kind == "failed" for o in outcomes),
        "answers_lost": sum(o.kind == "lost" for o in outcomes) + len(hung),
        "answers_duplicated": duplicated,
        "first_token_p50_s": _percentile(first, 0.5),
        "first_token_p95_s": _percentile(first, 0.95),
        "answer_p50_s": _percentile(totals, 0.5),
        "answer_p95_s": _percentile(totals, 0.95),
        "answers_per_min": round(len(complete) / wall_s * 60, 1) if wall_s > 0 else None,
        "queued_notices": sum(sum(s.kind == "queued" for s in room.notices) for room in rooms),
        "rooms_resumed": sum(room.resumed() for room in rooms),
        **cache,
    }
