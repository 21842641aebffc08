"""Cut-off detection for the containers whose decoder does not notice it.

FFmpeg trims a WAV's declared length to the bytes present, and takes an Ogg file's duration from its last page, so
a recording interrupted while being written decodes "successfully" but shorter. Both headers say how much should be
there; these checks compare that with what the file holds. Other formats (flac, mp3, m4a) declare a duration the
decoder checks against (see `decode.py`).
"""

from __future__ import annotations

import struct
from pathlib import Path

# Streaming writers that cannot seek back leave these sizes in the header: "unknown", not "truncated".
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)
_OGG_EOS = 0x04
_OGG_TAIL_BYTES = 1 << 16  # an Ogg page is at most 65,307 bytes


def wav_is_truncated(path: Path) -> bool:
    """True when the 'data' chunk declares more bytes than the file holds."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        header = fh.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            return False
        offset = 12
        while offset + 8 <= size:
            fh.seek(offset)
            chunk_id, chunk_size = struct.unpack("<4sI", fh.read(8))
            if chunk_id == b"data":
                if chunk_size in _UNKNOWN_SIZES:
                    return False
                return offset + 8 + chunk_size > size
            offset += 8 + chunk_size + (chunk_size & 1)  # chunks are word-aligned
    return False


def ogg_is_truncated(path: Path) -> bool:
    """True when the last page is incomplete or is not marked end-of-stream."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        if fh.read(4) != b"OggS":
            return False
        start = max(0, size - _OGG_TAIL_BYTES)
        fh.seek(start)
        tail = fh.read()
    page = tail.rfind(b"OggS")
    if page < 0 or len(tail) - page < 27:
        return True
    flags = tail[page + 5]
    segments = tail[page + 26]
    table_end = page + 27 + segments
    if table_end > len(tail):
        return True
    body = sum(tail[page + 27 : table_end])
    return table_end + body > len(tail) or not flags & _OGG_EOS


def is_truncated(path: Path) -> bool:
    """Judged by the file's magic bytes, not its name: a mislabelled .wav is still checked correctly."""
    return wav_is_truncated(path) or ogg_is_truncated(path)
