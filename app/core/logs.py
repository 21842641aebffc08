"""Logging to a rotating file in the user's log directory.

Rule for every module: log events, counts, ids, durations and file names, never text that could be about a patient
(transcripts, prompts, answers, names). `text_stats` gives a safe description of a text when one is needed.
"""

from __future__ import annotations

import logging
import logging.handlers
import traceback
from pathlib import Path

LOG_FILE_NAME = "clinic-assistant.log"
# Until setup_logging runs (e.g. a settings error at start-up), app records go nowhere rather than to stderr.
logging.getLogger("app").addHandler(logging.NullHandler())

_NOISY = ("faster_whisper", "ctranslate2", "httpx", "httpcore", "urllib3", "numba", "matplotlib", "piper", "PIL")


def setup_logging(log_dir: Path, debug: bool = False) -> Path:
    """Route the `app` logger to a rotating file; idempotent (a second call replaces the handler)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / LOG_FILE_NAME
    root = logging.getLogger("app")
    for handler in list(root.handlers):
        if getattr(handler, "_clinic_file", False):
            root.removeHandler(handler)
            handler.close()
    # backslashreplace: a file name that is not UTF-8 in a message must not become a "Logging error" on stderr
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=1_000_000, backupCount=5, encoding="utf-8", errors="backslashreplace"
    )
    handler._clinic_file = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    root.propagate = False
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)
    return path


def close_logging() -> None:
    root = logging.getLogger("app")
    for handler in list(root.handlers):
        if getattr(handler, "_clinic_file", False):
            root.removeHandler(handler)
            handler.close()


def text_stats(text: str) -> str:
    """What may be logged about a text: its size, never its content."""
    return f"<{len(text)} chars, {len(text.split())} words>"


def safe_traceback(exc: BaseException) -> str:
    """A traceback with frames and exception types only: exception messages can quote patient text."""
    lines: list[str] = []
    for frame in traceback.extract_tb(exc.__traceback__):
        lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
    lines.append(f"{type(exc).__module__}.{type(exc).__qualname__} (message withheld)")
    return "\n".join(lines)
