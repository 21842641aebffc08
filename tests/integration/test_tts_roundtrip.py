"""Round trip: clinical sentences -> normaliser -> Piper -> the embedded Whisper model -> the same words back.

Both sides go through the same normaliser before comparing, so "140 over 90" from Whisper and "one hundred forty
over ninety" from us count as equal, and only what was really heard differs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.core.installed_models import locate
from app.core.tts.normalise import ClinicalNormaliser
from app.core.tts.piper_engine import PiperSpeaker
from app.core.tts.playback import resample
from app.core.tts.spoken_numbers import cardinal
from app.core.tts.voices import resolve_voice

pytestmark = pytest.mark.integration

SENTENCES = [
    "Give 0.5 mg of morphine IV now.",
    "BP 140/90 mmHg and heart rate 72 bpm.",
    "Take 5-10 mg of oxycodone every 4 hours as needed.",
    "Metformin 500 mg b.i.d. with meals.",
    "Temperature 38.5 °C and oxygen saturation 94%.",
    "Dr. Jones reviewed the potassium of 4.2 mmol/L.",
    "Inject 0.25 mL subcutaneously.",
    "Review on 2024-03-12.",
    "Weight 72.4 kg ± 0.5 kg.",
]
NUMBER_AND_UNIT_WORDS = {word for n in range(1000) for word in cardinal(n).split()} | {
    "point", "over", "to", "minus", "percent", "per", "twice", "daily", "milligrams", "milliliters", "millimeters",
    "millimoles", "kilograms", "degrees", "beats", "minute", "liter", "mercury",
}


@pytest.fixture(scope="module")
def normaliser() -> ClinicalNormaliser:
    return ClinicalNormaliser()


@pytest.fixture(scope="module")
def whisper(models_dir: Path) -> Any:
    from faster_whisper import WhisperModel

    return WhisperModel(str(locate("whisper-tiny.en", models_dir)), device="cpu", compute_type="int8")


@pytest.fixture(scope="module")
def speaker(models_dir: Path) -> PiperSpeaker:
    return PiperSpeaker(resolve_voice("en_US-joe-medium", models_dir))


def words(text: str, normaliser: ClinicalNormaliser) -> list[str]:
    return re.sub(r"[^a-z' ]", " ", normaliser(text).lower().replace("-", " ")).split()


def edit_distance(a: list[str], b: list[str]) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def test_edit_distance() -> None:
    assert edit_distance(["a", "b", "c"], ["a", "x", "c", "d"]) == 2


def test_whisper_hears_the_normalised_clinical_text(
    speaker: PiperSpeaker, whisper: Any, normaliser: ClinicalNormaliser
) -> None:
    exact_doses = 0
    distances: list[tuple[int, int]] = []  # (word errors, words) per sentence
    report: list[str] = []
    for sentence in SENTENCES:
        audio = np.concatenate([c.samples for c in speaker.synthesize(sentence)])
        segments, _ = whisper.transcribe(
            resample(audio, speaker.sample_rate, 16000), language="en", beam_size=1, vad_filter=False,
            condition_on_previous_text=False,
        )
        heard = " ".join(s.text for s in segments)
        expected, got = words(sentence, normaliser), words(heard, normaliser)
        distance = edit_distance(expected, got)
        distances.append((distance, len(expected)))
        # Doses, pressures and decimals must come back exactly, whatever happens to a drug name.
        doses_expected = [w for w in expected if w in NUMBER_AND_UNIT_WORDS]
        exact_doses += doses_expected == [w for w in got if w in NUMBER_AND_UNIT_WORDS]
        report.append(f"{distance}/{len(expected)} {expected} -> {got}")
    # Piper samples noise on every call and tiny.en mishears long words ("oxicot on", "up to you tenuously"), so one
    # short sentence can lose most of its words; measured here over 6 runs: 6-10 % word errors overall, doses exact
    # in 8-9 of 9 sentences. Hence bounds on the whole set, not per sentence.
    detail = "\n".join(report)
    assert sum(e for e, _ in distances) / sum(c for _, c in distances) <= 0.15, detail
    assert exact_doses >= len(SENTENCES) - 2, detail
