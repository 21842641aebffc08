"""Server-sent events, as OpenAI-compatible servers stream chat completions (`data: {...}` then `data: [DONE]`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

DONE = "[DONE]"


def iter_sse_data(lines: Iterable[str]) -> Iterator[str]:
    """The data of each event, in order. Comment lines (`: keep-alive`) and other fields (event, id, retry) are
    skipped; several `data:` lines in one event are joined with newlines, as the SSE specification says."""
    data: list[str] = []
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:  # a stream cut off without the closing blank line still delivers its last event
        yield "\n".join(data)
