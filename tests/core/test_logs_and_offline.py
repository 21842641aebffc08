"""Logs never carry patient text; core operations never open a network connection."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from app.core.logs import close_logging, safe_traceback, setup_logging, text_stats
from app.core.offline import OFFLINE_ENV, enforce_offline

SECRET = "Zebulon Quixotefinch"


def test_text_stats_never_contains_the_text() -> None:
    assert SECRET not in text_stats(f"Patient {SECRET} has chest pain")


def test_safe_traceback_withholds_the_message() -> None:
    try:
        raise ValueError(f"cannot parse {SECRET}")
    except ValueError as exc:
        rendered = safe_traceback(exc)
    assert "ValueError" in rendered and SECRET not in rendered


def test_rotating_log_file_is_written(tmp_path: Path) -> None:
    path = setup_logging(tmp_path / "logs")
    logging.getLogger("app.test").info("event %s", text_stats(SECRET))
    close_logging()
    content = path.read_text()
    assert "event <" in content and SECRET not in content


def test_offline_environment_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in OFFLINE_ENV:
        monkeypatch.delenv(key, raising=False)
    enforce_offline()
    import os

    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_core_operations_open_no_socket(monkeypatch: pytest.MonkeyPatch, models_dir: Path) -> None:
    """Any connection attempt at all (even loopback) during core work fails this test."""
    attempts: list[object] = []

    def record(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", record)
    monkeypatch.setattr(socket.socket, "connect_ex", record)
    from app.core.config import load_settings
    from app.core.installed_models import list_models, locate, verify

    load_settings()
    list_models(models_dir)
    list(verify(["whisper-tiny.en", "spacy-en_core_web_sm"], models_dir))
    import numpy as np
    from faster_whisper import WhisperModel

    model = WhisperModel(str(locate("whisper-tiny.en", models_dir)), device="cpu", compute_type="int8")
    segments, _ = model.transcribe(np.zeros(16000, dtype=np.float32), language="en", vad_filter=True)
    list(segments)
    import spacy

    spacy.load(locate("spacy-en_core_web_sm", models_dir))("Seen at the clinic.")
    assert attempts == []
