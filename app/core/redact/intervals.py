"""Index structures that keep redaction linear in the length of the text.

The filters ask the same questions of every detected span: is it inside an allowed or protected range, does a
protected term cover this position, which term does it run into; and several rules ask for the line a match sits
on. Answered by scanning all ranges, or the text from its start, each question costs time proportional to the
text, so a long paste cost time proportional to its square (2 MB took minutes). Here each is a binary search over
structures built once per text; the answers are exactly those of the scans they replace.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from functools import lru_cache
from itertools import accumulate

# Below this length a scan of the text is cheaper than building (and caching) its line index.
LONG_TEXT = 8_192
_NEWLINE = re.compile("\n")


class Ranges:
    """Half-open (start, end) ranges, sorted once for binary searches."""

    def __init__(self, ranges: Iterable[tuple[int, int]] = ()) -> None:
        # (start, original position, end): the original order decides between several overlapping ranges.
        items = sorted((a, i, b) for i, (a, b) in enumerate(ranges))
        self._items = items
        self._starts = [a for a, _i, _b in items]
        self._max_end = list(accumulate((b for _a, _i, b in items), max))
        self._longest = max((b - a for a, _i, b in items), default=0)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        """The ranges in their original order."""
        return ((a, b) for a, _i, b in sorted(self._items, key=lambda t: t[1]))

    def contains(self, start: int, end: int) -> bool:
        """Some range holds all of [start, end): `any(a <= start and end <= b ...)`."""
        k = bisect_right(self._starts, start)  # the ranges with a <= start: the furthest end among them decides
        return k > 0 and self._max_end[k - 1] >= end

    def covers(self, pos: int) -> bool:
        """Some range holds the position: `any(a <= pos < b ...)`."""
        k = bisect_right(self._starts, pos)
        return k > 0 and self._max_end[k - 1] > pos

    def first_crossing(self, start: int, end: int) -> tuple[int, int] | None:
        """The first range (in the original order) that overlaps [start, end) without holding all of it."""
        # A range that overlaps ends after `start`, so it starts less than the longest range's length before it.
        lo = bisect_right(self._starts, start - self._longest)
        hi = bisect_left(self._starts, end)
        best: tuple[int, int, int] | None = None
        for a, i, b in self._items[lo:hi]:
            if start < b and not (a <= start and end <= b) and (best is None or i < best[0]):
                best = (i, a, b)
        return (best[1], best[2]) if best else None


def as_ranges(ranges: Ranges | Iterable[tuple[int, int]]) -> Ranges:
    return ranges if isinstance(ranges, Ranges) else Ranges(ranges)


@lru_cache(maxsize=4)  # the rules of one redaction ask about the same text; the hash of a str is computed once
def _newlines(text: str) -> list[int]:
    return [m.start() for m in _NEWLINE.finditer(text)]


def line_start(text: str, pos: int) -> int:
    """Offset of the start of the line holding `pos`: `text.rfind("\\n", 0, pos) + 1` (pos >= 0)."""
    if len(text) < LONG_TEXT:
        return text.rfind("\n", 0, pos) + 1
    newlines = _newlines(text)
    k = bisect_left(newlines, pos)
    return newlines[k - 1] + 1 if k > 0 else 0


def next_newline(text: str, pos: int) -> int:
    """`text.find("\\n", pos)`: the first line break at or after `pos`, or -1 (pos >= 0)."""
    if len(text) < LONG_TEXT:
        return text.find("\n", pos)
    newlines = _newlines(text)
    k = bisect_left(newlines, pos)
    return newlines[k] if k < len(newlines) else -1


def line_number(text: str, pos: int) -> int:
    """`text.count("\\n", 0, pos)`: the 0-based line of `pos` (pos >= 0)."""
    if len(text) < LONG_TEXT:
        return text.count("\n", 0, pos)
    return bisect_left(_newlines(text), pos)


def blank(text: str, start: int, end: int) -> bool:
    """`not text[start:end].strip()`, looking back from `end` only as far as the last character that is not space
    (a number's context is just before it; copying the whole line before it made every number cost a line)."""
    step = 64
    hi = end
    while hi > start:
        lo = max(start, hi - step)
        if text[lo:hi].strip():
            return False
        hi = lo
        step *= 2
    return True
