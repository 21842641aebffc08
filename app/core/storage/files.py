"""Files the store writes besides its database: owner-only from their first byte, and never left half-written.

Copies (backups, the salvaged store, the copy kept before a migration) are written under `<target>.partial` and
renamed into place when verified. A process killed meanwhile leaves the partial file and its SQLite journal behind:
every partial file is listed, with the id of the process writing it, in `<data dir>/clinic.db.partials.json`, and
the next start or store command removes those whose process is gone — wherever the backup was going, and only files
this app made. The list holds file names and process ids, never patient data.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

PARTIAL_SUFFIX = ".partial"
DB_COMPANIONS = ("", "-journal", "-wal", "-shm")
# Partial files in the data folder that only this app makes (clinic.db.before-v2-from-v1.partial,
# clinic-salvaged-<time>.db.partial) and their SQLite companions.
_OWN_PARTIAL = re.compile(r"^clinic[^/\\]*\.partial(-journal|-wal|-shm)?$")


def remove_db_files(path: Path) -> None:
    """A database file and its companions (encrypted leftovers of an interrupted operation)."""
    for suffix in DB_COMPANIONS:
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()


def create_private(path: Path) -> None:
    """A new, empty file that only its owner can read or write, made before SQLite opens it: SQLite gives the -journal
    and -wal files it creates the permissions of their database file, so they are owner-only too. (Changing the
    process umask instead would also affect files other threads create meanwhile.)"""
    remove_db_files(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    os.close(fd)
    os.chmod(path, 0o600)  # whatever the umask left


def copy_private(src: Path, dest: Path) -> None:
    """Copy `src` into a new owner-only file `dest` (never readable by others, not even for a moment)."""
    create_private(dest)
    with open(src, "rb") as reader, open(dest, "r+b") as writer:
        while chunk := reader.read(1 << 20):
            writer.write(chunk)
        writer.flush()
        os.fsync(writer.fileno())


def _process_alive(pid: int) -> bool:
    import psutil  # a dependency already; imported here so that importing the store stays light

    try:
        return bool(psutil.pid_exists(pid))
    except (OSError, ValueError):
        return False


class PartialFiles:
    """The partial files being written, so that what a killed process left can be found again."""

    def __init__(self, registry: Path, data_dir: Path) -> None:
        self.registry = registry
        self.data_dir = data_dir

    def _load(self) -> list[dict[str, object]]:
        try:
            data = json.loads(self.registry.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError):
            log.warning("the list of partial files is unreadable; starting a new one")
            return []
        entries = data.get("partial") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            return []
        return [e for e in entries if isinstance(e, dict) and isinstance(e.get("path"), str)]

    def _save(self, entries: list[dict[str, object]]) -> None:
        try:
            if not entries:
                with contextlib.suppress(FileNotFoundError):
                    self.registry.unlink()
                return
            self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = self.registry.with_name(self.registry.name + ".tmp")
            tmp.write_text(json.dumps({"format": 1, "partial": entries}, indent=1), encoding="utf-8")
            os.replace(tmp, self.registry)
        except OSError:
            log.warning("could not update the list of partial files")

    @contextlib.contextmanager
    def writing(self, partial: Path) -> Iterator[Path]:
        """Create `partial` owner-only and list it while the block runs; afterwards it and its companions are gone
        (renamed into place by the block, or removed here)."""
        entry: dict[str, object] = {"path": str(partial), "pid": os.getpid()}
        self._save([e for e in self._load() if e.get("path") != entry["path"]] + [entry])
        try:
            create_private(partial)
            yield partial
        finally:
            remove_db_files(partial)
            self._save([e for e in self._load() if e.get("path") != entry["path"]])

    def sweep(self) -> list[Path]:
        """Remove the partial files of processes that are gone (and this app's own leftovers in the data folder).
        Returns what was removed."""
        removed: list[Path] = []
        kept: list[dict[str, object]] = []
        entries = self._load()
        for entry in entries:
            path, pid = Path(str(entry["path"])), entry.get("pid")
            if isinstance(pid, int) and pid != os.getpid() and _process_alive(pid):
                kept.append(entry)  # still being written by another Clinic Assistant process
                continue
            present = [p for p in (Path(f"{path}{s}") for s in DB_COMPANIONS) if p.exists()]
            try:
                remove_db_files(path)
            except OSError:  # a folder we may no longer write to (a backup disk now read-only): try next time
                log.warning("could not remove a partial file left by an interrupted copy")
                kept.append(entry)
                continue
            removed.extend(present)
        in_use = {str(e["path"]) for e in kept}
        with contextlib.suppress(OSError):
            for candidate in self.data_dir.iterdir():
                base = re.sub(r"(-journal|-wal|-shm)$", "", str(candidate))
                if _OWN_PARTIAL.match(candidate.name) and base not in in_use and candidate.is_file():
                    with contextlib.suppress(OSError):
                        candidate.unlink()
                        removed.append(candidate)
        if kept != entries:
            self._save(kept)
        if removed:
            log.info("removed %d partial file(s) left by an interrupted copy", len(removed))
        return removed
