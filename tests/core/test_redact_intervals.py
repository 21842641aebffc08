"""The index structures that keep redaction linear give exactly the answers of the scans they replaced."""

from __future__ import annotations

import random

from app.core.redact.intervals import LONG_TEXT, Ranges, blank, line_number, line_start, next_newline


def _random_ranges(rnd: random.Random, n: int, span: int = 400, longest: int = 40) -> list[tuple[int, int]]:
    out = []
    for _ in range(n):
        a = rnd.randrange(span)
        out.append((a, a + rnd.randrange(1, longest)))
    return out


def test_ranges_answer_as_the_scans_did() -> None:
    rnd = random.Random(18)
    for _ in range(200):
        ranges = _random_ranges(rnd, rnd.randrange(0, 30))
        index = Ranges(ranges)
        assert list(index) == ranges
        for _ in range(50):
            start = rnd.randrange(-5, 450)
            end = start + rnd.randrange(1, 60)
            assert index.contains(start, end) == any(a <= start and end <= b for a, b in ranges)
            assert index.covers(start) == any(a <= start < b for a, b in ranges)
            crossing = next(
                ((a, b) for a, b in ranges if a < end and start < b and not (a <= start and end <= b)), None
            )
            assert index.first_crossing(start, end) == crossing


def test_line_helpers_answer_as_the_string_methods_did() -> None:
    rnd = random.Random(7)
    for size in (50, LONG_TEXT + 500):
        for newline_share in (0.0, 0.02, 0.3):
            text = "".join("\n" if rnd.random() < newline_share else rnd.choice("ab \t") for _ in range(size))
            for pos in [0, len(text), *(rnd.randrange(len(text) + 1) for _ in range(300))]:
                assert line_start(text, pos) == text.rfind("\n", 0, pos) + 1
                assert next_newline(text, pos) == text.find("\n", pos)
                assert line_number(text, pos) == text.count("\n", 0, pos)
                first = line_start(text, pos)
                assert blank(text, first, pos) == (not text[first:pos].strip())
