"""Combining what the detectors found: filters (allow list, protected clinical terms, confidence), mention
propagation, and merging overlaps into one span per identifier.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from app.core.redact.base import Kind, Span
from app.core.redact.intervals import Ranges, as_ranges
from app.core.redact.lexicon import NameLists
from app.core.redact.name_words import FUNCTION_WORDS, TITLES_ABBREV, TITLES_WORD
from app.core.redact.rules_names import Word, is_lowercase_text

# Detections that rest on a statistical model or a name list: a protected clinical term overrides them.
WEAK_SOURCES = frozenset({"ner", "rule:names", "propagated", "rule:facility", "rule:proper"})
# When overlapping detections disagree about the kind, the more specific evidence names the merged span.
KIND_RANK = {
    Kind.EMAIL: 0, Kind.URL: 1, Kind.IP: 2, Kind.SSN: 3, Kind.MRN: 4, Kind.HEALTH_PLAN_ID: 5, Kind.ACCOUNT: 6,
    Kind.LICENSE: 7, Kind.VEHICLE: 8, Kind.DEVICE: 9, Kind.BIOMETRIC: 10, Kind.PHOTO: 11, Kind.FAX: 12,
    Kind.PHONE: 13, Kind.DATE: 14, Kind.AGE: 15, Kind.LOCATION: 16, Kind.NAME: 17, Kind.ID: 18,
}  # fmt: skip


def inside(span: Span, ranges: Iterable[tuple[int, int]]) -> bool:
    return any(a <= span.start and span.end <= b for a, b in ranges)


def filter_spans(
    spans: Iterable[Span],
    allow: Ranges | Iterable[tuple[int, int]],
    protected: Ranges | Iterable[tuple[int, int]],
    min_confidence: float,
) -> list[Span]:
    # Indexed, not scanned per span: a long text has thousands of spans and of protected terms.
    allowed, clinical = as_ranges(allow), as_ranges(protected)
    kept: list[Span] = []
    for span in spans:
        if span.source in ("manual", "deny", "known"):
            kept.append(span)
            continue
        if span.confidence < min_confidence or allowed.contains(span.start, span.end):
            continue
        if span.source in WEAK_SOURCES and clinical.contains(span.start, span.end):
            continue
        kept.append(span)
    return kept


def _score(span: Span, union_len: int) -> tuple[float, int]:
    covers_all = 0.1 if span.length == union_len else 0.0
    priority = 1.0 if span.source in ("manual", "deny", "known") else 0.0
    return (priority + span.confidence + covers_all, -KIND_RANK[span.kind])


def merge_overlaps(text: str, spans: Iterable[Span]) -> list[Span]:
    """One span per cluster of overlapping detections, covering all of them (redacting a little more is safer
    than leaving half an address). The cluster takes the kind and label of its best-supported member."""
    ordered = sorted(spans, key=lambda s: (s.start, -s.end))
    out: list[Span] = []
    cluster: list[Span] = []
    end = -1
    for span in [*ordered, None]:
        if span is not None and cluster and span.start < end:
            cluster.append(span)
            end = max(end, span.end)
            continue
        if cluster:
            start = cluster[0].start
            union_len = end - start
            best = max(cluster, key=lambda s: _score(s, union_len))
            confidence = max(s.confidence for s in cluster)
            out.append(Span(start, end, best.kind, text[start:end], confidence, best.source, best.label))
        if span is not None:
            cluster = [span]
            end = span.end
    return out


def trim(text: str, span: Span) -> Span | None:
    """Drop surrounding spaces and punctuation that are not part of the identifier."""
    start, end = span.start, span.end
    while start < end and (text[start].isspace() or text[start] in ",;:()[]\"'"):
        if text[start] == "(" and ")" in text[start:end]:
            break  # "(617) 555-0142": the bracket belongs to the number
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ",;:()[]\"'?!"):
        end -= 1
    if end > start and text[end - 1] == ".":
        # Keep the full stop of an abbreviation or initial ("St.", "J."), not the one ending the sentence.
        word = re.search(r"(\w+)\.$", text[start:end])
        keep = word and word.group(1).isalpha() and len(word.group(1)) <= 3
        if not (keep and span.kind in (Kind.NAME, Kind.LOCATION)):
            end -= 1
    if end <= start:
        return None
    return span if (start, end) == (span.start, span.end) else span.moved(start, end, text[start:end])


def find_mentions(text: str, phrase: str) -> Iterable[tuple[int, int]]:
    """Whole-word, case-insensitive occurrences of a phrase."""
    if not phrase.strip():
        return []
    pattern = r"(?<![\w])" + r"\s+".join(re.escape(p) for p in phrase.split()) + r"(?![\w])"
    return ((m.start(), m.end()) for m in re.finditer(pattern, text, re.IGNORECASE))


# Sources whose names spread to every later mention of their words, whether or not a name list knows the words.
STRONG_NAME_SOURCES = ("rule:title", "rule:spelled", "known", "deny", "manual", "rule:names", "rule:staff")
# Sources that found a name written in capitals by the words around it ("DR. WHITAKER"): its later mentions in
# capitals are the same person, though words in capitals are otherwise abbreviations.
CONTEXT_NAME_SOURCES = ("rule:staff", "rule:relative")


def propagate_mentions(
    text: str, words: list[Word], spans: list[Span], allow: Ranges, protected: Ranges, names: NameLists
) -> list[Span]:
    """Every mention of a word of a name found elsewhere in the text ("stephanie morales ... thanks
    stephanie"). Words that are also English words ("green", "king") spread only with a capital letter."""
    found: dict[str, Span] = {}
    for span in spans:
        if span.kind != Kind.NAME:
            continue
        for w in re.findall(r"[^\W\d_][\w'’-]*", span.text):
            norm = w.lower().rstrip("'’s") if w.lower().endswith(("'s", "’s")) else w.lower()
            if len(norm) < 3 or norm in FUNCTION_WORDS or norm in TITLES_ABBREV or norm in TITLES_WORD:
                continue
            if w.isupper() and len(w) > 1 and not (span.source in CONTEXT_NAME_SOURCES and len(w) >= 4):
                continue  # "XYZ", "WNL": abbreviations spread nothing
            # Only words a name list knows, or names found by strong evidence, are looked for elsewhere.
            # A word no dictionary knows, greeted or named in a conversation ("hi thorunn"), is no ordinary word.
            unknown = span.source == "rule:dialogue" and not names.known_word(norm) and not names.is_name_word(norm)
            if span.source in STRONG_NAME_SOURCES or norm in names.first or norm in names.surnames or unknown:
                found.setdefault(norm, span)
    if not found:
        return []
    lower_text = is_lowercase_text(text)
    out: list[Span] = []
    for w in words:
        source = found.get(w.norm)
        if source is None or (source.start <= w.start < source.end):
            continue
        ordinary = names.is_ambiguous(w.norm) or w.norm in names.english or "'" in w.norm
        # "randy gutierrez ... bye randy": an ambiguous first name spreads when its full name was certain.
        anchored = w.norm in names.first_ambiguous and any(
            t in names.first or t in names.surnames for t in re.findall(r"[a-z]+", source.text.lower())
        )
        if ordinary and (lower_text or not w.titlecase) and not anchored:
            continue
        candidate = Span(w.start, w.end, Kind.NAME, text[w.start : w.end], 0.7, "propagated", source.label)
        if not (allow.contains(w.start, w.end) or protected.contains(w.start, w.end)):
            out.append(candidate)
    return out
