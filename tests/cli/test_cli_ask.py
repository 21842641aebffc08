"""`clinic-assistant ask`: redaction before the model, streaming, re-identification, --json, errors.

Real redactor (spaCy + rules) and real llama.cpp on the generated tiny GGUF; one test swaps the model for a fake
that echoes placeholders (a unit seam), because a random-weight model cannot be asked to repeat a name.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from app.cli.main import main
from tests.support.echo_model import EchoingModel
from tests.support.tiny_gguf import write_tiny_gguf

pytest.importorskip("llama_cpp")

QUESTION = "Patient John Smith, MRN 4432118, has had chest pain for 3 days. What should I check first?"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_gguf(tmp_path_factory.mktemp("ask") / "tiny.gguf")


@pytest.fixture()
def short_answers(tmp_path: Path) -> Path:
    config = tmp_path / "settings.toml"
    config.write_text("[llm]\ntemperature = 0.0\nmax_tokens = 24\n")
    return config


def test_ask_json_redacts_before_the_model_and_reports_timings(
    tiny: Path, short_answers: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--config", str(short_answers), "ask", QUESTION, "--model", str(tiny), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    assert {"question_redacted", "answer", "model", "backend", "timings"} <= set(result)
    assert "John Smith" not in result["question_redacted"] and "4432118" not in result["question_redacted"]
    assert "[PATIENT_1]" in result["question_redacted"]
    assert result["model"] == "tiny" and result["backend"] == "local" and result["draft"] is True
    assert result["answer"]
    assert result["timings"]["completion_tokens"] > 0 and result["timings"]["load_s"] > 0


def test_ask_streams_the_answer_and_marks_it_a_draft(
    tiny: Path, short_answers: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--config", str(short_answers), "ask", QUESTION, "--model", str(tiny)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.strip()
    assert "DRAFT" in err and "identifier(s) replaced" in err


def test_ask_reads_stdin(tiny: Path, short_answers: Path, capsys: pytest.CaptureFixture[str],
                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("Is 75 mg of aspirin a usual dose?"))
    assert main(["--config", str(short_answers), "ask", "-", "--model", str(tiny), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["question_redacted"] == "Is 75 mg of aspirin a usual dose?"


def test_a_cut_off_soap_note_is_an_error_not_a_partial_note(
    tiny: Path, short_answers: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The tiny model never closes a JSON string, so 24 tokens always cut the note off.
    code = main(["--config", str(short_answers), "ask", "Chest pain 3 days.", "--model", str(tiny), "--task", "soap"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert "error: The model's soap note was cut off" in err and "llm.max_tokens" in err


def test_empty_question_and_unknown_model_are_one_line_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "   "]) == 2
    assert "error: The question is empty" in capsys.readouterr().err
    assert main(["ask", "Why?", "--model", "no-such-model"]) == 2
    err = capsys.readouterr().err
    assert "error: No model named 'no-such-model'" in err and "Traceback" not in err


@pytest.mark.parametrize("as_json", [False, True])
def test_streamed_answer_is_reidentified(
    as_json: bool, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    model = EchoingModel("Ask [PATIENT_1] about pain; check record [MRN_1].")

    def fake_factory(*_args: Any, **_kwargs: Any) -> EchoingModel:
        return model

    monkeypatch.setattr("app.core.llm.factory.create_language_model", fake_factory)
    code = main(["ask", QUESTION] + (["--json"] if as_json else []))
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "John Smith" not in model.seen[0] and "4432118" not in model.seen[0]  # the model saw placeholders only
    answer = json.loads(out)["answer"] if as_json else out
    assert "Ask John Smith about pain; check record 4432118." in answer


def test_structured_note_is_rendered_and_reidentified(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    note = {"subjective": "[PATIENT_1] reports chest pain.", "objective": "", "assessment": "Angina?", "plan": "ECG."}
    monkeypatch.setattr("app.core.llm.factory.create_language_model", lambda *a, **k: EchoingModel(json.dumps(note)))
    assert main(["ask", QUESTION, "--task", "soap"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("SUBJECTIVE\nJohn Smith reports chest pain.")
    assert "OBJECTIVE\nNot documented" in out and "PLAN\nECG." in out
