"""Identifier redaction: detect the 18 HIPAA Safe Harbor identifier kinds, replace them with placeholders that are
consistent per encounter, and re-identify model output for display.

Typical use (one engine per worker thread; one map per encounter, stored with `to_json`):

    redactor = SpacyRedactor.from_settings(settings, models_dir)
    pseudonyms = PseudonymMap(reference_date=visit_date)
    result = redactor.redact(dictation, pseudonyms)        # result.redacted_text goes to the model
    found = redactor.detect(dictation, pseudonyms)         # the same spans, the map untouched (for a review)
    shown = pseudonyms.reidentify(model_answer)            # placeholders back to identifiers
"""

from app.core.redact.base import Alias, Detection, Kind, PlacedSpan, RedactionResult, Redactor, Span, manual_span
from app.core.redact.engine import SpacyRedactor
from app.core.redact.lexicon import Lexicon
from app.core.redact.pseudonyms import PseudonymMap, StreamingReidentifier, render

__all__ = [
    "Alias",
    "Detection",
    "Kind",
    "Lexicon",
    "PlacedSpan",
    "PseudonymMap",
    "RedactionResult",
    "Redactor",
    "SpacyRedactor",
    "Span",
    "StreamingReidentifier",
    "manual_span",
    "render",
]
