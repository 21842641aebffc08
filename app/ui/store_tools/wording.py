"""How a backup's contents are said to the doctor: counts of records, never their content."""

from __future__ import annotations

from app.core.storage.records import BackupInfo

# The records a doctor counts, in the order they think of them (the audit log and the maps are left out).
COUNTED = (("patients", "patient", "patients"), ("encounters", "encounter", "encounters"), ("notes", "note", "notes"))


def records(counts: dict[str, int]) -> str:
    parts = []
    for table, one, many in COUNTED:
        if table in counts:
            n = counts[table]
            parts.append(f"{n} {one if n == 1 else many}")
    return ", ".join(parts) or "no records"


def megabytes(size: int) -> str:
    return f"{max(size / (1024 * 1024), 0.1):.1f} MB"


def backup_summary(info: BackupInfo) -> str:
    return f"{records(info.counts)} ({megabytes(info.bytes)})"
