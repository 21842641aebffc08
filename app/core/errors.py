"""Typed errors that reach the user.

Every failure a doctor or a script can cause is an `AppError` with a message that says what went wrong and a hint
that says what to do. Messages never contain patient data: they name files, settings and engines, not content.
"""

from __future__ import annotations


class AppError(Exception):
    """A failure the user can act on. `message` says what happened, `hint` what to do about it."""

    kind = "error"

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip() if self.hint else self.message

    def one_line(self) -> str:
        """The form the CLI prints: `message. hint`, on one line."""
        text = self.message.rstrip(".") + "."
        if self.hint:
            text += " " + self.hint.rstrip(".") + "."
        return " ".join(text.split())


class ConfigError(AppError):
    kind = "config"


class ModelError(AppError):
    """A model is missing, corrupt, or cannot be loaded."""

    kind = "model"


class EngineUnavailable(AppError):
    """A native library (llama.cpp, CTranslate2, Piper, spaCy, SQLCipher, PortAudio) cannot be imported."""

    kind = "engine"


class AudioError(AppError):
    """No microphone, a device that vanished, an unreadable audio file."""

    kind = "audio"


class StorageError(AppError):
    kind = "storage"


class WrongPassphrase(StorageError):
    kind = "passphrase"


class ContextTooLong(AppError):
    """Input that does not fit the model's context window and cannot be chunked."""

    kind = "context"


class GpuError(AppError):
    kind = "gpu"


class ServerError(AppError):
    """The clinic's OpenAI-compatible server is down, refuses, or answers something unexpected."""

    kind = "server"


class InputError(AppError):
    """Bad input on the command line or in a file (empty text, malformed JSONL)."""

    kind = "input"


class Cancelled(Exception):
    """Raised inside long work when its cancel token was set. Not an error: nothing to show the user."""


class CancelToken:
    """Checked between items by every long-running core generator (segments, tokens, audio chunks)."""

    __slots__ = ("_cancelled",)

    def __init__(self) -> None:
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def raise_if_cancelled(self) -> None:
        if self._cancelled:
            raise Cancelled()
