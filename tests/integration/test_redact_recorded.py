"""The engine's output on every fixture text, pinned: spans (offsets, kind, label, source, confidence), their
placeholders, and the redacted text (by digest), as recorded in tests/data/redact_recorded.json.gz.

Changes made for speed must not change what is redacted. The recording was made before the long-text work (issue
#18) from the texts in tests/data: the deid dev texts, the MTSamples reports (text and description) and the
ACI-BENCH dialogues and notes, each redacted alone, through `redact_many`, and the ACI-BENCH texts one after another
in one encounter map. A deliberate change of the rules changes the recording: run
`REDACT_RECORD=1 .venv/bin/python -m pytest tests/integration/test_redact_recorded.py` to write it again, and say
in the commit why the output changed.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from app.core.config import load_settings
from app.core.redact import PseudonymMap, RedactionResult, SpacyRedactor

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[1] / "data"
RECORDING = DATA / "redact_recorded.json.gz"
SOURCES = [
    DATA / "deid" / "dev.jsonl",
    DATA / "clinical" / "aci_bench_dev.jsonl",
    DATA / "clinical" / "mtsamples_sample50.jsonl",
]
FIELDS = ("dialogue", "note", "text", "description")


def fixture_texts() -> dict[str, str]:
    """'<file>:<id>:<field>' (deid texts: 'deid:<id>') -> text, in a fixed order."""
    missing = [str(p) for p in SOURCES if not p.is_file()]
    if missing:
        pytest.skip(f"fixture texts not found: {', '.join(missing)}")
    texts: dict[str, str] = {}
    for line in SOURCES[0].read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            texts[f"deid:{record['id']}"] = record["text"]
    for path in sorted(SOURCES[1:]):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            for field in FIELDS:
                if isinstance(record.get(field), str) and record[field].strip():
                    texts[f"{path.stem}:{record['id']}:{field}"] = record[field]
    return texts


def canonical(result: RedactionResult) -> dict[str, Any]:
    return {
        "spans": [
            [
                p.span.start,
                p.span.end,
                p.span.kind.value,
                p.span.label,
                p.span.source,
                round(p.span.confidence, 3),
                p.placeholder,
            ]
            for p in result.placed
        ],
        "redacted_sha256": hashlib.sha256(result.redacted_text.encode("utf-8")).hexdigest(),
    }


def encounter_keys(texts: dict[str, str]) -> list[str]:
    return [k for k in texts if k.startswith("aci_bench_dev:")]


@pytest.fixture(scope="module")
def redactor(models_dir: Path) -> SpacyRedactor:
    return SpacyRedactor.from_settings(load_settings().settings, models_dir)


@pytest.fixture(scope="module")
def recorded(redactor: SpacyRedactor) -> dict[str, Any]:
    texts = fixture_texts()
    if os.environ.get("REDACT_RECORD") == "1":
        record(redactor, texts)
        pytest.skip(f"recording written to {RECORDING}")
    if not RECORDING.is_file():
        pytest.skip(f"no recording at {RECORDING}: run with REDACT_RECORD=1 to make one")
    data: dict[str, Any] = json.loads(gzip.decompress(RECORDING.read_bytes()))
    assert set(data["texts"]) == set(texts), "the fixture texts changed: record again"
    return data


def record(redactor: SpacyRedactor, texts: dict[str, str]) -> None:
    encounter = PseudonymMap()
    data = {
        "texts": {key: canonical(redactor.redact(text)) for key, text in texts.items()},
        "encounter": {key: canonical(redactor.redact(texts[key], encounter)) for key in encounter_keys(texts)},
    }
    RECORDING.write_bytes(gzip.compress(json.dumps(data, sort_keys=True, separators=(",", ":")).encode(), mtime=0))


def _differences(expected: dict[str, Any], got: dict[str, Any]) -> list[str]:
    return [key for key in expected if expected[key] != got.get(key)]


def test_each_text_alone(redactor: SpacyRedactor, recorded: dict[str, Any]) -> None:
    texts = fixture_texts()
    got = {key: canonical(redactor.redact(text)) for key, text in texts.items()}
    changed = _differences(recorded["texts"], got)
    assert not changed, f"{len(changed)} of {len(texts)} texts redact differently, e.g. {changed[:5]}"


def test_batched(redactor: SpacyRedactor, recorded: dict[str, Any]) -> None:
    texts = fixture_texts()
    got = {key: canonical(r) for key, r in zip(texts, redactor.redact_many(texts.values()), strict=True)}
    changed = _differences(recorded["texts"], got)
    assert not changed, f"{len(changed)} of {len(texts)} texts redact differently in a batch, e.g. {changed[:5]}"


def test_one_encounter(redactor: SpacyRedactor, recorded: dict[str, Any]) -> None:
    """The ACI-BENCH texts in one map: names known from earlier texts, partial names, misheard names."""
    texts = fixture_texts()
    encounter = PseudonymMap()
    got = {key: canonical(redactor.redact(texts[key], encounter)) for key in encounter_keys(texts)}
    changed = _differences(recorded["encounter"], got)
    assert not changed, f"{len(changed)} texts of the encounter redact differently, e.g. {changed[:5]}"
