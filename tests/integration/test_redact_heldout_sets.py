"""The redactor on data its rules were not written against (issue #20): the held-out split of the dev set and the
written nursing notes, conversations and world texts (`tests/data/deid_heldout/`), scored as `bench redact --sets`.

The floors are what the engine achieved when the sets were written, less a little: they catch a regression and are
meant to be raised as the rules improve. The issue's targets are an xfail (not strict) so the gap stays visible.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.core.bench.redact_sets import load_gold_set, score_gold_set
from app.core.config import load_settings
from app.core.redact.engine import SpacyRedactor

pytestmark = pytest.mark.integration

HELD_OUT = ("heldout", "nursing", "conversations", "world")

# Floors to raise, not targets: measured on the sets, minus a margin for small changes in the engine.
# When the sets were written: heldout 0.986 / names 0.987 / char precision 0.938; nursing 0.608 / 0.547 / 0.737
# (over-redaction 16.9 per 1,000); conversations 0.356 / 0.344 / 0.726; world 0.967 / 0.981 / 0.958.
# After the rules for nursing notes and conversations (issue #20): heldout 0.989 / 0.987 / 0.938; nursing 0.941 /
# 0.983 / 0.895 (8.0 per 1,000); conversations 0.712 / 0.721 / 0.926; world 0.984 / 1.0 / 0.959.
# Scored strictly (every letter hidden), after the address lines, places and conversation rules: heldout 0.991 /
# 0.987 / 0.960; nursing 0.961 / 0.991 / 0.951 (3.6 per 1,000); conversations 0.877 / 0.918 / 0.939; world 0.992 /
# 1.0 / 0.978.
FLOORS: dict[str, dict[str, float]] = {
    "heldout": {"span_recall": 0.98, "name_recall": 0.98, "char_precision": 0.95},
    "nursing": {"span_recall": 0.95, "name_recall": 0.98, "char_precision": 0.93},
    "conversations": {"span_recall": 0.85, "name_recall": 0.90, "char_precision": 0.92},
    "world": {"span_recall": 0.98, "name_recall": 0.99, "char_precision": 0.96},
}
NURSING_OVER_REDACTION_CEILING = 5.0  # characters per 1,000; a ceiling to lower

# Issue #20's targets on every held-out set; the held-out split and the world texts meet them, the nursing notes and
# the conversations not yet.
TARGETS = {"span_recall": 0.97, "name_recall": 0.98, "char_precision": 0.90}
MEETING_TARGETS = ("heldout", "world")
SHORT_OF_TARGETS = ("nursing", "conversations")
NURSING_PRECISION_TARGET = 0.80  # the lower bar asked of the nursing notes


@pytest.fixture(scope="module")
def figures(models_dir: Path) -> dict[str, dict[str, Any]]:
    redactor = SpacyRedactor.from_settings(load_settings().settings, models_dir)
    out: dict[str, dict[str, Any]] = {}
    for name in HELD_OUT:
        records = load_gold_set(name)
        assert records, f"the {name} records are missing"
        out[name] = score_gold_set(records, lambda text: redactor.detect_many([text])[0])
    return out


@pytest.mark.parametrize("name", HELD_OUT)
def test_held_out_sets_stay_above_their_floors(figures: dict[str, dict[str, Any]], name: str) -> None:
    got = figures[name]
    low = {key: got[key] for key, floor in FLOORS[name].items() if got[key] is None or got[key] < floor}
    assert not low, f"{name} fell below its floors: {low}"


def test_nursing_notes_lose_little_clinical_text(figures: dict[str, dict[str, Any]]) -> None:
    assert figures["nursing"]["over_redaction_per_1000"] <= NURSING_OVER_REDACTION_CEILING


def _short(got: dict[str, Any]) -> dict[str, Any]:
    return {key: got[key] for key, target in TARGETS.items() if got[key] is None or got[key] < target}


@pytest.mark.parametrize("name", MEETING_TARGETS)
def test_issue_targets_on_held_out_data(figures: dict[str, dict[str, Any]], name: str) -> None:
    assert not _short(figures[name]), f"{name} is short of the targets: {_short(figures[name])}"


@pytest.mark.xfail(strict=False, reason="issue #20: nursing notes short of recall (dates), conversations of names")
@pytest.mark.parametrize("name", SHORT_OF_TARGETS)
def test_issue_targets_on_nursing_notes_and_conversations(figures: dict[str, dict[str, Any]], name: str) -> None:
    assert not _short(figures[name]), f"{name} is short of the targets: {_short(figures[name])}"


def test_nursing_notes_precision_target(figures: dict[str, dict[str, Any]]) -> None:
    assert figures["nursing"]["char_precision"] >= NURSING_PRECISION_TARGET


@pytest.mark.xfail(strict=False, reason="issue #20: lower-case first names that are also words survive")
def test_no_name_survives_in_the_conversations(figures: dict[str, dict[str, Any]]) -> None:
    assert figures["conversations"]["name_recall_strict"] == 1.0
