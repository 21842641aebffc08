"""A self-signed certificate for 127.0.0.1, for tests of https to the clinic server (a fake one or a real one)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path


def self_signed_cert(directory: Path) -> TlsFiles:
    """A one-day certificate made with the openssl command (skips the test when it is missing). It is its own
    authority: naming it in llm.server_ca_file makes it trusted; without that, no system authority vouches for it."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    files = TlsFiles(directory / "cert.pem", directory / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(files.key), "-out", str(files.cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )
    return files
