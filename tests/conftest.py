"""Suite-wide fixtures: every test gets fresh settings and data, the shared installed models, and no network."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from app.core.offline import enforce_offline

enforce_offline()

REPO = Path(__file__).resolve().parents[1]
MODELS_DIR = Path(os.environ.get("CLINIC_TEST_MODELS_DIR", REPO / "models"))
# Third-party fixtures copied from the development data with their licences (tests/data/README.md): the suite
# passes from the repository alone, without the development data folder beside it.
FIXTURE_DATA = REPO / "tests" / "data"

_LOOPBACK = ("127.", "::1", "localhost")


def _is_local(address: object) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    if isinstance(address, tuple) and address:
        host = str(address[0])
        return host.startswith(_LOOPBACK) or host == ""
    return False


@pytest.fixture(autouse=True)
def _no_outbound_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline by construction: any connection to a non-loopback address fails the test."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded(self: socket.socket, address: object) -> object:
        if not _is_local(address):
            raise AssertionError(f"test attempted an outbound connection to {address!r}")
        return real_connect(self, address)  # type: ignore[arg-type]

    def guarded_ex(self: socket.socket, address: object) -> object:
        if not _is_local(address):
            raise AssertionError(f"test attempted an outbound connection to {address!r}")
        return real_connect_ex(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_ex)


@pytest.fixture(autouse=True)
def isolated_app_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Fresh config file and data dir per test; the installed models are shared (read-only)."""
    root = tmp_path_factory.mktemp("app")
    monkeypatch.setenv("CLINIC_CONFIG_FILE", str(root / "config" / "settings.toml"))
    monkeypatch.setenv("CLINIC_STORAGE__DATA_DIR", str(root / "data"))
    monkeypatch.setenv("CLINIC_STORAGE__MODELS_DIR", str(MODELS_DIR))
    for key in list(os.environ):
        if key.startswith("CLINIC_") and key not in {
            "CLINIC_CONFIG_FILE",
            "CLINIC_STORAGE__DATA_DIR",
            "CLINIC_STORAGE__MODELS_DIR",
            "CLINIC_TEST_MODELS_DIR",
            "CLINIC_CACHE",
            "CLINIC_LLAMA_CMAKE_ARGS",
        }:
            monkeypatch.delenv(key)
    yield root


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return MODELS_DIR


@pytest.fixture(scope="session")
def fixture_data() -> Path:
    return FIXTURE_DATA
