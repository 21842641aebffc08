"""What the review screen needs: the doctor un-redacts a false positive or marks a missed identifier, and the
redacted text and the encounter's map are rendered again from the edited spans.

Placeholders already given stay the same (the map only grows), so text sent earlier in the encounter still
re-identifies correctly.
"""

from __future__ import annotations

from app.core.redact.base import Kind, RedactionResult, Span, manual_span
from app.core.redact.pseudonyms import PseudonymMap, render


def without_span(spans: list[Span], span: Span) -> list[Span]:
    """The spans minus one the doctor un-redacted."""
    return [s for s in spans if (s.start, s.end) != (span.start, span.end)]


def with_manual_span(text: str, spans: list[Span], start: int, end: int, kind: Kind, label: str = "") -> list[Span]:
    """The spans plus one the doctor marked; detections it overlaps give way to it."""
    added = manual_span(text, start, end, kind, label)
    return sorted([s for s in spans if not s.overlaps(added)] + [added], key=lambda s: s.start)


def rerender(text: str, spans: list[Span], pseudonyms: PseudonymMap) -> RedactionResult:
    """The redacted text for the doctor's final choice of spans."""
    return render(text, spans, pseudonyms)
