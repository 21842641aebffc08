"""Scoring redaction against gold spans (the format of shared/data/deid/dev.jsonl).

Only Safe Harbor identifiers are scored: TITLE, NRP and ORGANIZATION spans, ages under 90 and bare years are not
identifiers on their own, so they are neither required nor counted as false positives when redacted.

- Span recall: a gold span counts as found when detections (of any kind: what matters is that it is hidden)
  cover every letter and digit of it that Safe Harbor requires hidden: all but a title ("Dr", "Mrs"), a US state
  or a country in a place, and a label before a number ("Patient ID:", "ref. code"). A gold span made only of
  those words is not scored. Reported per gold kind.
- Span precision: a detection is correct when it overlaps a Safe Harbor gold span, wrong when it overlaps no gold
  span at all; detections that only touch non-Safe-Harbor gold spans are not counted. Reported per detected kind.
- Character level: the same over letters and digits instead of spans.
- False-positive rate: of the records with no gold span at all, the share where anything was redacted.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from app.core.redact.base import Span
from app.core.redact.lexicon import shipped_words

NOT_SAFE_HARBOR = frozenset({"TITLE", "NRP", "ORGANIZATION"})
_WORD = re.compile(r"[^\W_]+")


_TITLES = shipped_words("titles_abbreviated.txt") | shipped_words("titles_spoken.txt")
_PLACES = shipped_words("us_states.txt") | shipped_words("scoring_places.txt")
_LABELS = shipped_words("scoring_labels.txt")
_NAMED_KINDS = frozenset({"NAME", "LOCATION", "DATE", "AGE"})


def _exempt(kind: str, word: str) -> bool:
    """A word of a gold span of this kind that need not be hidden."""
    word = word.lower()
    if word in _TITLES:
        return True
    if kind == "LOCATION":
        return word in _PLACES
    return kind not in _NAMED_KINDS and word in _LABELS
_BARE_YEAR = re.compile(r"\s*(?:in\s+)?['’]?(?:\d{2}|\d{4})s?\s*")


@dataclass(frozen=True)
class GoldSpan:
    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class GoldRecord:
    id: str
    text: str
    spans: list[GoldSpan]  # Safe Harbor spans
    ignored: list[GoldSpan]  # gold spans that are not Safe Harbor identifiers
    has_any_gold: bool


def is_safe_harbor(kind: str, text: str) -> bool:
    if kind in NOT_SAFE_HARBOR:
        return False
    if kind == "AGE":
        digits = re.findall(r"\d+", text)
        return bool(digits) and int(digits[0]) >= 90
    return not (kind == "DATE" and _BARE_YEAR.fullmatch(text))


def gold_record(obj: dict[str, Any]) -> GoldRecord:
    """One line of the gold file; raises ValueError when it is not in the expected shape."""
    text = obj["text"]
    if not isinstance(text, str):
        raise ValueError("text is not a string")
    keep: list[GoldSpan] = []
    ignored: list[GoldSpan] = []
    phi = obj.get("phi") or []
    for item in phi:
        start, end, kind = int(item["start"]), int(item["end"]), str(item["type"])
        if not 0 <= start < end <= len(text):
            raise ValueError("span outside the text")
        (keep if is_safe_harbor(kind, text[start:end]) else ignored).append(GoldSpan(start, end, kind))
    return GoldRecord(str(obj.get("id", "")), text, keep, ignored, bool(phi))


def _alnum_positions(text: str, start: int, end: int) -> set[int]:
    return {i for i in range(start, end) if text[i].isalnum()}


def required_positions(text: str, span: GoldSpan) -> set[int]:
    """The letters and digits of a gold span that must be hidden for it to count as found."""
    required: set[int] = set()
    for m in _WORD.finditer(text, span.start, span.end):
        if not _exempt(span.kind, m.group()):
            required.update(range(m.start(), m.end()))
    return required


@dataclass
class KindTally:
    gold_spans: int = 0
    found_spans: int = 0
    pred_spans: int = 0
    pred_correct: int = 0
    gold_chars: int = 0
    gold_chars_found: int = 0
    pred_chars: int = 0
    pred_chars_correct: int = 0

    def figures(self) -> dict[str, Any]:
        def ratio(a: int, b: int) -> float | None:
            return round(a / b, 4) if b else None

        return {
            "gold_spans": self.gold_spans,
            "span_recall": ratio(self.found_spans, self.gold_spans),
            "detected_spans": self.pred_spans,
            "span_precision": ratio(self.pred_correct, self.pred_spans),
            "char_recall": ratio(self.gold_chars_found, self.gold_chars),
            "char_precision": ratio(self.pred_chars_correct, self.pred_chars),
        }


@dataclass
class Scorer:
    per_kind: dict[str, KindTally] = field(default_factory=lambda: defaultdict(KindTally))
    overall: KindTally = field(default_factory=KindTally)
    records: int = 0
    clean_records: int = 0
    clean_with_detection: int = 0
    misses: list[dict[str, Any]] = field(default_factory=list)
    false_positives: list[dict[str, Any]] = field(default_factory=list)

    def add(self, record: GoldRecord, predicted: Iterable[Span]) -> None:
        preds = list(predicted)
        text = record.text
        self.records += 1
        if not record.has_any_gold:
            self.clean_records += 1
            self.clean_with_detection += bool(preds)
        pred_chars: set[int] = set()
        for p in preds:
            pred_chars |= _alnum_positions(text, p.start, p.end)
        gold_chars: set[int] = set()
        for g in record.spans:
            required = required_positions(text, g)
            if not required:  # only a title, a state, a country or a label: nothing Safe Harbor requires hidden
                continue
            chars = _alnum_positions(text, g.start, g.end)
            gold_chars |= chars
            covered = len(chars & pred_chars)
            found = required <= pred_chars
            for tally in (self.per_kind[g.kind], self.overall):
                tally.gold_spans += 1
                tally.found_spans += found
                tally.gold_chars += len(chars)
                tally.gold_chars_found += covered
            if not found:
                self.misses.append({"id": record.id, "kind": g.kind, "text": text[g.start : g.end]})
        ignored_chars: set[int] = set()
        for g in record.ignored:
            ignored_chars |= _alnum_positions(text, g.start, g.end)
        for p in preds:
            hits_gold = any(p.start < g.end and g.start < p.end for g in record.spans)
            hits_ignored = any(p.start < g.end and g.start < p.end for g in record.ignored)
            chars = _alnum_positions(text, p.start, p.end) - (ignored_chars - gold_chars)
            for tally in (self.per_kind[p.kind.value], self.overall):
                if hits_gold or not hits_ignored:
                    tally.pred_spans += 1
                    tally.pred_correct += hits_gold
                tally.pred_chars += len(chars)
                tally.pred_chars_correct += len(chars & gold_chars)
            if not hits_gold and not hits_ignored:
                self.false_positives.append({"id": record.id, "kind": p.kind.value, "text": p.text, "source": p.source})

    def report(self, with_errors: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "records": self.records,
            "overall": self.overall.figures(),
            "per_kind": {kind: t.figures() for kind, t in sorted(self.per_kind.items())},
            "records_without_identifiers": {
                "count": self.clean_records,
                "with_any_detection": self.clean_with_detection,
                "false_positive_rate": round(self.clean_with_detection / self.clean_records, 4)
                if self.clean_records
                else None,
            },
            "definitions": {
                "span_found": "every letter and digit of a gold span redacted, but titles, states and countries in "
                "places, and labels before a number",
                "excluded": "TITLE, NRP, ORGANIZATION, ages under 90, bare years",
            },
        }
        if with_errors:
            out["misses"] = self.misses
            out["false_positives"] = self.false_positives
        return out


def format_table(report: dict[str, Any]) -> Iterator[str]:
    """The report as a plain-text table (one line per kind)."""

    def cell(value: float | None) -> str:
        return "   -  " if value is None else f"{value:6.3f}"

    yield f"{'kind':<16}{'gold':>6}{'found':>8}{'recall':>8}{'detected':>10}{'prec.':>8}{'chr rec':>9}{'chr prec':>9}"
    rows = [*report["per_kind"].items(), ("OVERALL", report["overall"])]
    for kind, f in rows:
        found = round((f["span_recall"] or 0) * f["gold_spans"])
        yield (
            f"{kind:<16}{f['gold_spans']:>6}{found:>8}  {cell(f['span_recall'])}{f['detected_spans']:>10}"
            f"  {cell(f['span_precision'])}   {cell(f['char_recall'])}   {cell(f['char_precision'])}"
        )
    clean = report["records_without_identifiers"]
    yield (
        f"records without identifiers: {clean['count']}, with any detection: {clean['with_any_detection']} "
        f"(false-positive rate {clean['false_positive_rate']})"
    )
