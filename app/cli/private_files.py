"""Files the CLI writes with patient content (a spoken note, a read-aloud export) are readable by their owner only.

The writers (app/core/tts/wav.py) open the path with `open(path, "wb")`, which keeps the mode of an existing file and
creates a new one with the umask (usually 0644: world-readable). Creating the file first with 0600, or narrowing an
existing one, before the writer truncates it means the audio is never readable by other accounts, not even briefly.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.core.errors import InputError

PRIVATE_MODE = 0o600


def create_private(path: Path) -> Path:
    """Make `path` an owner-only file (0600 on POSIX; on Windows the mode only keeps it writable)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_MODE)
        try:
            if hasattr(os, "fchmod"):  # an existing file keeps its mode through O_CREAT: narrow it too
                os.fchmod(fd, PRIVATE_MODE)
            else:
                os.chmod(path, PRIVATE_MODE)
        finally:
            os.close(fd)
    except OSError as exc:
        raise InputError(
            f"The file {path} could not be written ({exc.strerror})", "Check the folder's permissions and free space"
        ) from None
    return path
