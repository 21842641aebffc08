"""Secrets the app needs and the settings file must not hold, encrypted with the rest of the store: the only SQL on
the secrets table.

Today one secret: the clinic server's API key (`SERVER_API_KEY`). A secret is read by name; setting or clearing it
writes an audit entry naming the secret (as the record type), never its value. Nothing here logs a value.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from app.core.errors import InputError
from app.core.storage.audit import AuditAction, AuditLog
from app.core.storage.connection import Database
from app.core.storage.schema import to_db_time, utc_now

SERVER_API_KEY = "llm.server_api_key"
MAX_SECRET_CHARS = 500  # the settings field's own limit


class SecretRepository:
    def __init__(self, db: Database, audit: AuditLog, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._audit = audit
        self._clock = clock

    def get(self, name: str) -> str | None:
        value = self._db.scalar("SELECT value FROM secrets WHERE name = ?", (name,))
        return None if value is None else str(value)

    def set(self, name: str, value: str) -> bool:
        """Store `value` under `name`. Returns False (and writes nothing) when it is already the value stored."""
        if not value or value != value.strip() or len(value) > MAX_SECRET_CHARS or "\n" in value or "\x00" in value:
            raise InputError(
                "The key is empty, too long, or starts or ends with a space",
                f"Give the key exactly as the server expects it (one line, at most {MAX_SECRET_CHARS} characters)",
            )
        with self._db.transaction("save the key"):
            current = self.get(name)
            if current == value:
                return False
            self._db.execute(
                "INSERT INTO secrets(name, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (name, value, to_db_time(self._clock())),
            )
            self._audit.record(AuditAction.CREATE if current is None else AuditAction.UPDATE, name)
        return True

    def clear(self, name: str) -> bool:
        """Remove the secret. Returns False when there was none."""
        with self._db.transaction("remove the key"):
            if self.get(name) is None:
                return False
            self._db.execute("DELETE FROM secrets WHERE name = ?", (name,))
            self._audit.record(AuditAction.CLEAR, name)
        return True
