"""Grounding: each sentence of a drafted note linked to the consultation sentences that support it, and the facts
the consultation does not say (or says otherwise) flagged: numbers, medicines, sides, negations, ages, dates.

No model call and no Qt: pure functions over two texts. See docs/grounding.md for what it catches and misses.
"""

from app.core.grounding.ground import ground
from app.core.grounding.report import FLAG_KINDS, Flag, FlagKind, GroundingReport, SentenceGrounding, Span

__all__ = ["FLAG_KINDS", "Flag", "FlagKind", "GroundingReport", "SentenceGrounding", "Span", "ground"]
