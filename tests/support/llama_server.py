"""llama-cpp-python's real OpenAI-compatible server (`python -m llama_cpp.server`) on 127.0.0.1, for integration tests.

Why a helper: several test modules need the same real server (plain, https, one that queues instead of interrupting,
one killed mid-answer), each started with a bounded wait and always stopped, whatever the test did.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.certificates import TlsFiles

API_KEY = "test-key-123"
ALIAS = "tiny-clinic"
STARTUP_LIMIT_S = 120.0
STOP_LIMIT_S = 15.0


def free_port() -> int:
    """A port nothing listens on once this returns (the socket is closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LlamaServer:
    proc: subprocess.Popen[bytes]
    url: str  # ends in /v1
    log_path: Path

    def log_tail(self, chars: int = 2000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def kill(self) -> None:
        """SIGKILL, as when the server's machine loses power: no goodbye on open connections."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=STOP_LIMIT_S)

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=STOP_LIMIT_S)
        except subprocess.TimeoutExpired:
            self.kill()


def _answers(url: str, api_key: str | None, tls: TlsFiles | None) -> bool:
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=str(tls.cert)) if tls else True
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        return httpx.get(f"{url}/models", headers=headers, timeout=2, verify=verify, trust_env=False).is_success
    except httpx.TransportError:
        return False


def _wait_until_ready(server: LlamaServer, api_key: str | None, tls: TlsFiles | None, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while not _answers(server.url, api_key, tls):  # bounded poll: each round waits on the process (notices a crash)
        try:
            server.proc.wait(timeout=0.2)
            pytest.fail(f"the test server exited early:\n{server.log_tail()}")
        except subprocess.TimeoutExpired:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"the test server did not start within {limit_s:g} s:\n{server.log_tail()}")


@contextmanager
def llama_server(
    model: Path,
    *,
    api_key: str | None = API_KEY,
    tls: TlsFiles | None = None,
    extra_args: Sequence[str] = (),
    n_ctx: int = 2048,
    startup_limit_s: float = STARTUP_LIMIT_S,
) -> Iterator[LlamaServer]:
    """The server on a free port, ready (its model list answers), stopped on exit even if a test killed it."""
    port = free_port()
    log_path = model.parent / f"server-{port}.log"
    args = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
            "--port", str(port), "--n_ctx", str(n_ctx), "--model_alias", ALIAS, *extra_args]
    if api_key:
        args += ["--api_key", api_key]
    if tls is not None:
        args += ["--ssl_keyfile", str(tls.key), "--ssl_certfile", str(tls.cert)]
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT)
    server = LlamaServer(proc, f"{'https' if tls else 'http'}://127.0.0.1:{port}/v1", log_path)
    try:
        _wait_until_ready(server, api_key, tls, startup_limit_s)
        yield server
    finally:
        server.stop()
