"""Every word list the redaction rules read is a file in resources/redaction/ whose first line says where it came
from, read through the one reader of shipped lists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.core.paths import resource
from app.core.redact import lexicon, name_words, rules_ner, vetoes_clinical
from app.core.word_lists import read_word_list

FOLDER = resource("redaction")
PROVENANCE = re.compile(r"^# .*(?:written for this project|derived from|from scowl)", re.IGNORECASE)


@pytest.mark.parametrize("path", sorted(FOLDER.glob("*.txt")), ids=lambda p: p.name)
def test_each_list_says_where_it_came_from(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert PROVENANCE.match(first), first


def test_the_rules_read_the_lists_from_the_files() -> None:
    def words(name: str) -> frozenset[str]:
        return frozenset(w.lower() for w in read_word_list(FOLDER / name))

    assert words("function_words.txt") == name_words.FUNCTION_WORDS and "the" in name_words.FUNCTION_WORDS
    assert words("clinical_heads.txt") == lexicon.CLINICAL_HEADS and "syndrome" in lexicon.CLINICAL_HEADS
    assert "texas" in rules_ner.US_STATES and "new hampshire" in rules_ner.US_STATES
    assert "positive" in lexicon.CLINICAL_HEADS and "positive" not in vetoes_clinical.EPONYM_HEADS
    assert lexicon.MEDICAL_ENDINGS.search("lisinopril") and not lexicon.MEDICAL_ENDINGS.search("margaret")
    assert not any(line.startswith("#") for line in read_word_list(FOLDER / "allow.txt"))
