"""Nursing notes through the whole engine (spaCy's NER and the rules), on notes written for this test (issue #20).

The NER model takes charting shorthand for people and places ("Abd soft", "Foley draining", "Amio gtt", "Lochia mod
rubra") and a relative's role for part of their name ("Son Erik"); those must come back as written. The staff,
relatives, dates and places in the same notes must still be hidden.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.core.config import load_settings
from app.core.redact.engine import SpacyRedactor

pytestmark = pytest.mark.integration

_PLACEHOLDER = re.compile(r"\[[A-Z_]+_\d+(?: \([^)]*\))?\]")

SHORTHAND = [
    "Abd soft, non-tender, BS x4. Foley draining clear yellow urine.",
    "Hgb 7.9, 1 unit PRBC transfused. Tdap given. Amio gtt at 0.5 mg/min.",
    "Jevity 1.5 at 50 mL/hr via PEG, residuals < 60. Shiley trach 6.0 intact.",
    "Lochia mod rubra. Fundus firm at U-1. Incision with scant serosang drainage.",
    "Mepilex to sacrum. SCDs on. Hoyer lift to chair. Purewick in place.",
    "Transferred from CCU to SICU. RX SENT TO PHARMACY. 67 YO M ADMITTED FROM HOME.",
    "BP 98/54, HR 124 ST. Glucose 140-190 overnight. Shift 0700-1900.",
]

NOTE = (
    "0700 RN ASSESSMENT. DR. HALVORSEN AWARE OF HR 124 ST. NP KOWALCZYK AT BEDSIDE.\n"
    "Son Erik at bedside, updated. Daughter Marisol to call back at 555-0148 ext 2231.\n"
    "Last BM 11/28. PIV placed 11/26, due for change 11/30. F/U WITH LAKESIDE FAMILY MEDICINE.\n"
    "Pt lives in Hallstead with his wife; his father is 94 and lives with them.\n"
    "0300 DR PATEL NOTIFIED, NEW ORDER FOR HALDOL 0.5 MG IV.\n"
)
NOTE_GONE = (
    "HALVORSEN", "KOWALCZYK", "Erik", "Marisol", "0148", "2231", "11/28", "11/26", "11/30", "LAKESIDE", "94", "PATEL"
)  # fmt: skip
NOTE_KEPT = ("RN ASSESSMENT", "HR 124 ST", "Son ", "Daughter ", "Last BM", "PIV placed", "his father is", "NOTIFIED")


@pytest.fixture(scope="module")
def redactor(models_dir: Path) -> SpacyRedactor:
    return SpacyRedactor.from_settings(load_settings().settings, models_dir)


@pytest.mark.parametrize("text", SHORTHAND)
def test_charting_shorthand_is_not_redacted(redactor: SpacyRedactor, text: str) -> None:
    assert redactor.redact(text).redacted_text == text


def test_a_nursing_note_loses_its_identifiers_and_keeps_its_charting(redactor: SpacyRedactor) -> None:
    redacted = redactor.redact(NOTE).redacted_text
    visible = _PLACEHOLDER.sub(" ", redacted)
    left = [g for g in NOTE_GONE if re.search(rf"(?<![^\W_]){re.escape(g)}(?![^\W_])", visible, re.IGNORECASE)]
    assert not left, f"{left} survived in {redacted!r}"
    lost = [k for k in NOTE_KEPT if k not in redacted]
    assert not lost, f"{lost} lost in {redacted!r}"
    assert "[RELATIVE_" in redacted and "[CLINICIAN_" in redacted
