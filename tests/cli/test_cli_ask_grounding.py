"""`clinic-assistant ask --json` carries the grounding of its answer against the text asked about, in the shape of
`check-note --json`. The redactor is the real one; the model is a seam that answers a fixed note (one wrong dose,
one sentence nobody said), because the point is the check of the answer, not the model's words."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.cli.main import main
from tests.support.echo_model import EchoingModel

REPO = Path(__file__).resolve().parents[2]
ANSWER = "Amoxicillin 250 mg three times daily for 5 days. Smoking cessation advice was given."


def test_ask_json_has_the_sentences_of_the_answer_checked_against_the_question(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fixed(*_args: Any, **_kwargs: Any) -> EchoingModel:
        return EchoingModel(ANSWER)

    monkeypatch.setattr("app.core.llm.factory.create_language_model", fixed)
    dictation = REPO / "resources" / "sample" / "dictation.txt"
    code = main(["ask", str(dictation.read_text(encoding="utf-8")), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    answer, sentences = result["answer"], result["sentences"]
    assert answer == ANSWER
    assert [s["text"] for s in sentences] == [
        "Amoxicillin 250 mg three times daily for 5 days.", "Smoking cessation advice was given."
    ]
    for sentence in sentences:  # check-note's shape: offsets into the answer
        assert set(sentence) == {"text", "start", "end", "support", "flags"}
        assert answer[sentence["start"]:sentence["end"]] == sentence["text"]
    dose, smoking = sentences
    assert dose["support"] and smoking["support"] == []
    assert [(f["kind"], f["text"], f["reason"]) for f in dose["flags"]] == [
        ("number", "250 mg", "250 mg: the consultation says 500 mg")
    ]
