"""Redaction quality per data set: how the rules hold on text they were not written against.

Sets (`bench redact --sets dev,heldout,nursing,conversations,world,aci` or `--sets all`):
- dev: the deid development set minus the held-out split, the text the rules were written against;
- heldout: the held-out split of that set (`tests/data/deid/heldout_ids.txt`, see `deid_split.py`);
- nursing, conversations, world: the cases in `tests/data/deid_heldout/`, written for the project;
- aci: the ACI-BENCH dialogues, checked for the patient's first and family name from each record's metadata.

Figures per gold set (Safe Harbor kinds only, as `redact --eval`; places marked `"safe_harbor": false`, countries and
states, are neither required nor counted against precision):
- span_recall: the share of gold spans with every letter and digit hidden but a title, a state or country in a
  place, and a label before a number (the scorer's rule, evaluate.py); span_recall_strict: with those hidden too;
- name_recall / name_recall_strict: the same for NAME spans; per_kind: both per gold kind;
- char_precision: of the letters and digits hidden, the share inside an identifier;
- over_redaction_per_1000: letters and digits hidden outside any gold span, per 1,000 characters of text;
- ms_per_300_words: time to detect, one text at a time as the app does, scaled to a 300-word text.
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.bench.deid_split import read_heldout_list
from app.core.errors import InputError
from app.core.paths import install_root
from app.core.redact.base import Span
from app.core.redact.evaluate import GoldRecord, Scorer, gold_record

GOLD_SETS = ("dev", "heldout", "nursing", "conversations", "world")
ALL_SETS = (*GOLD_SETS, "aci")
LABELS = {
    "dev": "development (rules written against)",
    "heldout": "held-out split",
    "nursing": "nursing notes (new)",
    "conversations": "conversations (new)",
    "world": "world names and addresses (new)",
    "aci": "ACI-BENCH dialogues, patient names",
}
Detect = Callable[[str], list[Span]]


def parse_sets(value: str) -> tuple[str, ...]:
    names = ALL_SETS if value.strip() == "all" else tuple(n.strip() for n in value.split(",") if n.strip())
    unknown = [n for n in names if n not in ALL_SETS]
    if unknown:
        raise InputError(f"Unknown data set '{unknown[0][:40]}'", f"Use 'all' or some of: {', '.join(ALL_SETS)}")
    return names


def _data_file(*parts: str) -> Path | None:
    """The shared development data beside the checkout, else the copy among the test fixtures."""
    for root in (install_root().parent / "shared" / "data", install_root() / "tests" / "data"):
        if root.joinpath(*parts).is_file():
            return root.joinpath(*parts)
    return None


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def scored_record(obj: dict[str, Any]) -> GoldRecord:
    """`gold_record`, with the spans the data marks as not required (countries, states) moved to the ignored."""
    record = gold_record(obj)
    optional = {(int(p["start"]), int(p["end"])) for p in obj.get("phi") or [] if p.get("safe_harbor") is False}
    if not optional:
        return record
    keep = [g for g in record.spans if (g.start, g.end) not in optional]
    moved = [g for g in record.spans if (g.start, g.end) in optional]
    return GoldRecord(record.id, record.text, keep, [*record.ignored, *moved], record.has_any_gold)


def load_gold_set(name: str) -> list[dict[str, Any]] | None:
    """The records of a gold set, or None when its data is not in this installation."""
    if name in ("dev", "heldout"):
        dev = _data_file("deid", "dev.jsonl")
        ids_path = install_root() / "tests" / "data" / "deid" / "heldout_ids.txt"
        if dev is None or not ids_path.is_file():
            return None
        held = read_heldout_list(ids_path)
        return [r for r in _jsonl(dev) if (str(r["id"]) in held) == (name == "heldout")]
    path = install_root() / "tests" / "data" / "deid_heldout" / f"{name}.jsonl"
    return _jsonl(path) if path.is_file() else None


@dataclass
class _Strict:
    gold: int = 0
    hidden: int = 0


def _alnum(text: str, start: int, end: int) -> set[int]:
    return {i for i in range(start, end) if text[i].isalnum()}


def _hidden(text: str, spans: Iterable[Span]) -> set[int]:
    out: set[int] = set()
    for s in spans:
        out |= _alnum(text, s.start, s.end)
    return out


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def detect_timed(detect: Detect, texts: list[str]) -> tuple[list[list[Span]], float]:
    started = time.perf_counter()
    spans = [detect(t) for t in texts]
    return spans, time.perf_counter() - started


def score_gold_set(records: list[dict[str, Any]], detect: Detect) -> dict[str, Any]:
    gold = [scored_record(r) for r in records]
    predicted, seconds = detect_timed(detect, [g.text for g in gold])
    scorer = Scorer()
    strict: dict[str, _Strict] = defaultdict(_Strict)
    outside = chars = words = 0
    for record, spans in zip(gold, predicted, strict=True):
        scorer.add(record, spans)
        hidden = _hidden(record.text, spans)
        for g in record.spans:
            letters = _alnum(record.text, g.start, g.end)
            for key in (g.kind, "overall"):
                strict[key].gold += 1
                strict[key].hidden += bool(letters) and letters <= hidden
        any_gold = set().union(*(_alnum(record.text, g.start, g.end) for g in [*record.spans, *record.ignored]))
        outside += len(hidden - any_gold)
        chars += len(record.text)
        words += len(record.text.split())
    report = scorer.report()
    per_kind = {
        kind: {
            "gold_spans": f["gold_spans"],
            "span_recall": f["span_recall"],
            "span_recall_strict": _ratio(strict[kind].hidden, strict[kind].gold),
        }
        for kind, f in report["per_kind"].items()
        if f["gold_spans"]
    }
    names = per_kind.get("NAME", {})
    return {
        "records": len(gold),
        "gold_spans": report["overall"]["gold_spans"],
        "span_recall": report["overall"]["span_recall"],
        "span_recall_strict": _ratio(strict["overall"].hidden, strict["overall"].gold),
        "name_recall": names.get("span_recall"),
        "name_recall_strict": names.get("span_recall_strict"),
        "char_precision": report["overall"]["char_precision"],
        "over_redaction_per_1000": round(1000 * outside / chars, 2) if chars else None,
        "ms_per_300_words": round(1000 * seconds * 300 / words, 1) if words else None,
        "per_kind": per_kind,
    }


def name_mentions(dialogue: str, metadata: dict[str, Any]) -> list[tuple[int, int]]:
    """Where the patient's first or family name (from the record's metadata) occurs in the dialogue."""
    out: list[tuple[int, int]] = []
    for key in ("patient_firstname", "patient_familyname"):
        name = metadata.get(key)
        if name:
            out += [(m.start(), m.end()) for m in re.finditer(rf"\b{re.escape(str(name))}\b", dialogue, re.IGNORECASE)]
    return out


def score_aci(records: list[dict[str, Any]], detect: Detect) -> dict[str, Any]:
    """Patient-name mentions left visible, and what else was hidden (an upper bound on over-redaction: the
    dialogues' other identifiers, such as a doctor's name, are not marked)."""
    dialogues = [str(r["dialogue"]) for r in records]
    predicted, seconds = detect_timed(detect, dialogues)
    mentions = left = with_left = outside = 0
    for record, text, spans in zip(records, dialogues, predicted, strict=True):
        hidden = _hidden(text, spans)
        found = name_mentions(text, record.get("metadata") or {})
        names: set[int] = set()
        missed = 0
        for start, end in found:
            letters = _alnum(text, start, end)
            names |= letters
            missed += not letters <= hidden
        mentions += len(found)
        left += missed
        with_left += missed > 0
        outside += len(hidden - names)
    chars = sum(len(t) for t in dialogues)
    words = sum(len(t.split()) for t in dialogues)
    return {
        "records": len(records),
        "patient_name_mentions": mentions,
        "patient_name_mentions_left": left,
        "dialogues_with_a_name_left": with_left,
        "over_redaction_per_1000": round(1000 * outside / chars, 2) if chars else None,
        "ms_per_300_words": round(1000 * seconds * 300 / words, 1) if words else None,
    }


def score_sets(names: Iterable[str], detect: Detect, progress: Callable[[str], None]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        if name == "aci":
            path = _data_file("clinical", "aci_bench_dev.jsonl")
            figures = score_aci(_jsonl(path), detect) if path else {"missing": "clinical/aci_bench_dev.jsonl"}
        else:
            records = load_gold_set(name)
            figures = score_gold_set(records, detect) if records else {"missing": f"the {name} records"}
        out[name] = {"label": LABELS[name], **figures}
        progress(f"scored {LABELS[name]}")
    return out


def sets_table(sets: dict[str, Any]) -> Iterator[str]:
    """The per-set figures as plain-text lines: one row per set, then each set's recall per kind."""

    def cell(value: Any, width: int) -> str:
        return f"{'-' if value is None else value:>{width}}"

    heads = f"{'recall':>8}{'strict':>8}{'names':>8}{'n.strict':>9}{'chr prec':>9}{'over/1k':>9}{'ms/300w':>9}"
    yield f"  {'set':<38}{heads}"
    for figures in sets.values():
        if "missing" in figures:
            yield f"  {figures['label']:<38}not found: {figures['missing']}"
        elif "patient_name_mentions" in figures:
            yield (
                f"  {figures['label']:<38}names left {figures['patient_name_mentions_left']} of "
                f"{figures['patient_name_mentions']} (in {figures['dialogues_with_a_name_left']} of "
                f"{figures['records']} dialogues){cell(figures['over_redaction_per_1000'], 9)}"
                f"{cell(figures['ms_per_300_words'], 9)}"
            )
        else:
            yield (
                f"  {figures['label']:<38}{cell(figures['span_recall'], 8)}{cell(figures['span_recall_strict'], 8)}"
                f"{cell(figures['name_recall'], 8)}{cell(figures['name_recall_strict'], 9)}"
                f"{cell(figures['char_precision'], 9)}{cell(figures['over_redaction_per_1000'], 9)}"
                f"{cell(figures['ms_per_300_words'], 9)}"
            )
    for figures in sets.values():
        kinds = figures.get("per_kind")
        if kinds:
            parts = [f"{k} {f['span_recall']}/{f['span_recall_strict']} ({f['gold_spans']})" for k, f in kinds.items()]
            yield f"  {figures['label']}: " + ", ".join(parts)
