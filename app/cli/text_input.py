"""Free text from the command line or standard input, decoded so that it is never lost and never crashes a command.

The policy, for every command that takes free text (redact --text, ask, speak):

- Bytes that are not UTF-8 (an argument typed in a Latin-1 terminal, a binary file piped in) and lone surrogates
  (how Python carries such argument bytes) become U+FFFD, one per bad character, so the rest of the doctor's text
  is kept and offsets into it stay meaningful. A one-line warning on stderr says how many were replaced; it never
  quotes the text.
- Standard input is read as bytes and decoded as UTF-8 (a UTF-8 byte-order mark is dropped; UTF-16 with a
  byte-order mark, as some Windows tools write, is recognised).

JSON lines are stricter (see cmd_redact): a line that is not UTF-8 JSON, or whose strings hold lone surrogates, is
reported by its line number and skipped, because a record is only useful whole.
"""

from __future__ import annotations

import re
import sys
from typing import TextIO

from app.cli.context import CliContext

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def replace_lone_surrogates(text: str) -> tuple[str, int]:
    """`text` with every lone surrogate replaced by U+FFFD, and how many there were."""
    return _LONE_SURROGATE.subn(REPLACEMENT, text)


def has_lone_surrogates(text: str) -> bool:
    return _LONE_SURROGATE.search(text) is not None


def decode_bytes(raw: bytes) -> tuple[str, int]:
    """UTF-8 (or UTF-16 with a byte-order mark) to text; each undecodable byte becomes U+FFFD. Returns the count."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), 0
        except UnicodeDecodeError:
            text = raw.decode("utf-16", errors="replace")
            return text, max(1, text.count(REPLACEMENT) - raw.decode("utf-16", errors="ignore").count(REPLACEMENT))
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    # surrogateescape maps each bad byte to one lone surrogate, exactly as Python does for arguments
    return replace_lone_surrogates(raw.decode("utf-8", errors="surrogateescape"))


def read_stdin(stdin: TextIO | None = None) -> tuple[str, int]:
    """All of standard input, decoded as above, with line endings made '\\n' (as text-mode reading does)."""
    stream = stdin if stdin is not None else sys.stdin
    if stream is None:  # no standard input at all (a windowed launcher)
        return "", 0
    buffer = getattr(stream, "buffer", None)
    if buffer is not None and hasattr(buffer, "read"):
        text, replaced = decode_bytes(buffer.read())
        return text.replace("\r\n", "\n").replace("\r", "\n"), replaced
    return replace_lone_surrogates(stream.read())  # already text (a StringIO in tests, an embedding app)


def text_argument(raw: str | None, ctx: CliContext) -> str:
    """The text of a TEXT argument ('-' reads standard input), with bad characters replaced and counted on stderr."""
    if raw is None:
        return ""
    if raw == "-":
        text, replaced = read_stdin()
        where = "standard input"
    else:
        text, replaced = replace_lone_surrogates(raw)
        where = "the text argument"
    if replaced:
        ctx.message(
            f"warning: {replaced} character(s) in {where} were not valid UTF-8 text and were replaced by U+FFFD; "
            "the rest of the text is used as given"
        )
    return text
