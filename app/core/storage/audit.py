"""The audit log: who (OS user) did what (action) to which record, and when. Never content.

Repositories record an entry inside the same transaction as the change, so a change and its audit entry are saved
together or not at all. The table refuses UPDATE and DELETE (triggers in the schema).
"""

from __future__ import annotations

import csv
import getpass
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from enum import StrEnum
from typing import TextIO

from app.core.storage.connection import Database
from app.core.storage.records import AuditEntry
from app.core.storage.schema import from_db_time, to_db_time, utc_now


class AuditAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    VIEW = "view"
    ACCEPT = "accept"
    UNACCEPT = "unaccept"
    EXPORT = "export"
    BACKUP = "backup"
    RESTORE = "restore"
    REKEY = "rekey"
    UNLOCK = "unlock"
    LOCK = "lock"
    MIGRATE = "migrate"
    CREATE_STORE = "create_store"
    SALVAGE = "salvage"  # in a salvaged store: it was made from a damaged one
    KEEP_FLAG = "keep_flag"  # a note accepted with a grounding flag left open: one entry per flag, never its text
    CLEAR = "clear"  # a secret (the clinic server's API key) removed from the store


EXPORT_FIELDS = ("id", "at", "os_user", "action", "record_type", "record_id")


def current_os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name in a stripped-down environment
        return "unknown"


class AuditLog:
    def __init__(self, db: Database, os_user: str, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._user = os_user
        self._clock = clock

    def record(self, action: AuditAction, record_type: str, record_id: int | None = None) -> None:
        with self._db.transaction("write the audit log"):
            self._db.execute(
                "INSERT INTO audit_log(at, os_user, action, record_type, record_id) VALUES (?, ?, ?, ?, ?)",
                (to_db_time(self._clock()), self._user, action.value, record_type, record_id),
            )

    def record_open_flags(self, record_type: str, record_id: int, count: int) -> None:
        """A note accepted with `count` grounding flags the doctor chose to keep. The log holds no number and no
        content, so the count is that many KEEP_FLAG entries on the note, beside its ACCEPT."""
        for _ in range(count):
            self.record(AuditAction.KEEP_FLAG, record_type, record_id)

    def entries(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        record_type: str | None = None,
        record_id: int | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[AuditEntry]:
        clauses: list[str] = []
        params: list[object] = []
        if since is not None:
            clauses.append("at >= ?")
            params.append(to_db_time(since))
        if until is not None:
            clauses.append("at < ?")
            params.append(to_db_time(until))
        if record_type is not None:
            clauses.append("record_type = ?")
            params.append(record_type)
        if record_id is not None:
            clauses.append("record_id = ?")
            params.append(record_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        order = "DESC" if newest_first else "ASC"
        sql = f"SELECT id, at, os_user, action, record_type, record_id FROM audit_log {where} ORDER BY id {order}"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [
            AuditEntry(id=r[0], at=from_db_time(r[1]), os_user=r[2], action=r[3], record_type=r[4], record_id=r[5])
            for r in self._db.all(sql, params)
        ]

    def count(self) -> int:
        return int(self._db.scalar("SELECT count(*) FROM audit_log"))


def _export_rows(entries: list[AuditEntry]) -> Iterator[dict[str, object]]:
    for e in entries:
        yield {
            "id": e.id,
            "at": e.at.isoformat(),
            "os_user": e.os_user,
            "action": e.action,
            "record_type": e.record_type,
            "record_id": e.record_id,
        }


def write_audit_csv(entries: list[AuditEntry], out: TextIO) -> int:
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for row in _export_rows(entries):
        writer.writerow(row)
        count += 1
    return count


def write_audit_json(entries: list[AuditEntry], out: TextIO) -> int:
    rows = list(_export_rows(entries))
    json.dump(rows, out, indent=1)
    out.write("\n")
    return len(rows)
