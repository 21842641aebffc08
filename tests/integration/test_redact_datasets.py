"""The redaction engine on the development data: the figures issue 4 asks for, kept as regressions.

- deid dev set (Safe Harbor kinds only): span recall >= 0.97 overall and >= 0.99 for names, precision >= 0.90.
- ACI-BENCH dialogues: the patient's name (from each record's metadata) never survives.
- MTSamples notes: over-redaction (characters removed per 1,000) stays low.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app.core.redact.engine import SpacyRedactor
from app.core.redact.evaluate import Scorer, gold_record
from app.core.redact.lexicon import Lexicon

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def redactor(models_dir: Path) -> SpacyRedactor:
    return SpacyRedactor.load(models_dir, Lexicon.build())


def _jsonl(path: Path) -> list[dict[str, object]]:
    if not path.is_file():
        pytest.skip(f"development data not found: {path}")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_dev_set_targets(redactor: SpacyRedactor, fixture_data: Path) -> None:
    gold = [gold_record(r) for r in _jsonl(fixture_data / "deid" / "dev.jsonl")]
    scorer = Scorer()
    for record, spans in zip(gold, redactor.detect_many([g.text for g in gold]), strict=True):
        scorer.add(record, spans)
    report = scorer.report()
    assert report["overall"]["span_recall"] >= 0.97
    assert report["per_kind"]["NAME"]["span_recall"] >= 0.99
    assert report["overall"]["span_precision"] >= 0.90
    assert report["records_without_identifiers"]["false_positive_rate"] <= 0.10


def test_aci_bench_patient_names_never_survive(redactor: SpacyRedactor, fixture_data: Path) -> None:
    survivors = []
    for record in _jsonl(fixture_data / "clinical" / "aci_bench_dev.jsonl"):
        meta = record["metadata"]
        assert isinstance(meta, dict)
        redacted = redactor.redact(str(record["dialogue"])).redacted_text
        for name in (meta.get("patient_firstname"), meta.get("patient_familyname")):
            if name and re.search(rf"\b{re.escape(str(name))}\b", redacted, re.IGNORECASE):
                survivors.append(record["id"])
    assert survivors == []


def test_mtsamples_over_redaction_is_low(redactor: SpacyRedactor, fixture_data: Path) -> None:
    notes = [str(r["text"]) for r in _jsonl(fixture_data / "clinical" / "mtsamples_sample50.jsonl")]
    removed = sum(s.end - s.start for spans in redactor.detect_many(notes) for s in spans)
    per_thousand = 1000 * removed / sum(len(n) for n in notes)
    assert per_thousand < 15.0
