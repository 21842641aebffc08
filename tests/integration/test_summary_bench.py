"""`bench summary` on the hand-made gold (quick: the parsers only), and the patient view with its summary at the
scale of `bench store` quick mode. The full figures (10,000 patients, the model step) come from a quiet machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.bench.common import BenchRequest
from app.core.bench.summary import TARGET, dose_key, frequency_key, gold_records, run
from app.core.config import Settings

pytestmark = pytest.mark.integration


def test_the_gold_covers_at_least_fifteen_notes_each_with_its_source_text() -> None:
    records = gold_records()
    assert len(records) >= 15
    assert all(text.strip() for _gold, text in records)
    assert sum(len(gold["medications"]) for gold, _text in records) >= 100


def test_medicine_name_and_dose_meet_the_target_with_the_parsers_alone(tmp_path: Path) -> None:
    figures = run(BenchRequest(Settings(), tmp_path / "models", tmp_path / "data", quick=True))
    assert figures["medicine_name_dose_precision"] >= TARGET, figures
    assert figures["medicine_name_dose_recall"] >= TARGET, figures
    assert figures["medicine_name_dose_within_target"] is True
    assert figures["model_skipped"] == "quick run" and figures["parse_ms_per_note_p50"] > 0


def test_doses_and_frequencies_compare_by_meaning() -> None:
    assert dose_key("1 g") == dose_key("1000 mg")
    assert dose_key("75 micrograms") == dose_key("75 mcg")
    assert dose_key("600 to 800 mg") == dose_key("600-800 mg")
    assert frequency_key("at bedtime") == frequency_key("once daily")
    assert frequency_key("4-6 times daily as needed") == frequency_key("as needed")
    assert frequency_key("once weekly") != frequency_key("once daily")
