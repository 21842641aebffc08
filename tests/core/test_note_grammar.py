"""The grammar a local model writes a structured note with, after the note's opening (llm/note_grammar.py)."""

from __future__ import annotations

import pytest

from app.core.llm.note_grammar import note_opening_and_grammar
from app.core.llm.notes import note_schema


def test_the_opening_ends_inside_the_first_section() -> None:
    soap = note_schema("soap")
    summary = note_schema("summary")
    assert soap is not None and summary is not None
    opening, grammar = note_opening_and_grammar(soap)
    assert opening == '{ "subjective": "'
    assert grammar.startswith('root ::= char* "\\"" ws "," ws "\\"objective\\""')
    assert grammar.index('"\\"assessment\\""') < grammar.index('"\\"plan\\""')  # the schema's order
    assert note_opening_and_grammar(summary)[1].count('"[" list-rest') == 2  # problems, medications


def test_a_schema_of_another_shape_is_refused() -> None:
    with pytest.raises(ValueError):
        note_opening_and_grammar({"type": "object", "properties": {"chronic": {"type": "boolean"}}})
    with pytest.raises(ValueError):
        note_opening_and_grammar({"type": "array", "items": {"type": "string"}})
