"""Over-redaction of clinical words: anatomy, findings, tests, dosing and brand-name drugs are not names or places,
and relatives are not identifiers; real names that share a word with the clinic ("Iris", "Rose", "Blood") still are.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.redact.engine import SpacyRedactor
from app.core.redact.lexicon import Lexicon

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def redactor(models_dir: Path) -> SpacyRedactor:
    return SpacyRedactor.load(models_dir, Lexicon.build())


SURVIVE = [
    "HEENT: Pupils equal and reactive. Sclerae anicteric. Nares patent. Oropharynx clear without exudate.",
    "Conjunctivae pink. Tympanic membranes intact bilaterally.",
    "Iris: normal. Lens clear. Fundus unremarkable.",
    "Extremities: No edema. Varicosities noted on the left calf. Dorsiflexion and plantar flexion intact.",
    "Neuro: Cranial nerves intact. Downgoing toes with normal Babinskis.",
    "Psych: Mood and affect appropriate.",
    "Abdomen: Nontender, nondistended. Bowel sounds present.",
    "Mom reports that the child has had a fever for two days. Dad is at the bedside.",
    "Grandma brought him in after the fall.",
    "Temperature 99.1 degrees Fahrenheit, pulse 88.",
    "Calcium 9.1, magnesium 2.0, potassium 4.2.",
    "Blood cultures are pending.",
    "Chest x-ray shows no infiltrate.",
    "Elevated AST and ALT on admission.",
    "LDL cholesterol was 160 on the last panel.",
    "She has a history of ulnar neuropathy and nasal polypectomy.",
    "The wound was closed with Steri-Strips.",
    "The incision was carried down to the Gluteus Maximus Muscle.",
    "Allergies: Sulfa.",
    "Medications: Cosopt eye drops, Penlac nail lacquer, Tums as needed and Mylanta as needed.",
    "She takes Zonegran and Tarka daily, and Inderal LA at night.",
    "He was placed on Zoloft 10 years ago after the transplant.",
    "Digoxin 0.125 mg one p.o. q.d.",
    "Fentanyl 100 mcg.",
    "She received 3000cGy to the right parotid mass.",
    "Newly diagnosed T-cell lymphoma.",
    "Normal wall motion by Cardiolite imaging.",
    "Daypro was stopped and Unasyn was started.",
    "Proventil MDI two puffs and Azmacort MDI four puffs twice a day.",
    "The scope was retroflexed in the rectum.",
    "Negative.",
]


@pytest.mark.parametrize("text", SURVIVE)
def test_clinical_sentence_survives(redactor: SpacyRedactor, text: str) -> None:
    spans = redactor.detect(text).spans
    assert [(s.kind.name, s.text) for s in spans] == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Iris Chang attends for review of her asthma.", "Iris"),
        ("Iris Chang attends for review of her asthma.", "Chang"),
        ("Dr Rose reviewed the chest x-ray.", "Rose"),
        ("Mr Blood was seen in clinic today.", "Blood"),
        ("Mrs Ruby Okafor was seen with her daughter.", "Okafor"),
        ("Rose Whitfield called about her Zoloft refill.", "Whitfield"),
    ],
)
def test_real_names_still_redacted(redactor: SpacyRedactor, text: str, name: str) -> None:
    redacted = redactor.redact(text).redacted_text
    assert name not in redacted
