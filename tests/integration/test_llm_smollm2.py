"""The in-process backend on a real instruct model (SmolLM2-135M, the test model): load, stream, cancel, schema.

SmolLM2's answers are poor; these tests check the plumbing on a real model's template, tokenizer and sampling.
Generations are kept short: the suite runs on a 2-core box.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.core.config import Settings
from app.core.errors import Cancelled, CancelToken
from app.core.llm.base import ChatMessage, GenerationRequest, Sampling
from app.core.llm.notes import note_schema

pytestmark = pytest.mark.integration
llama_cpp = pytest.importorskip("llama_cpp")

from app.core.llm.llama_local import LocalLlm  # noqa: E402

MODEL = "smollm2-135m-instruct"
QUESTION = GenerationRequest(
    (ChatMessage("system", "You are a concise clinical assistant."), ChatMessage("user", "What is hypertension?")),
    Sampling(temperature=0.0, top_p=1.0, max_tokens=16, seed=1),
)


def _settings() -> Settings:
    settings = Settings()
    settings.gpu.n_ctx = 2048
    return settings


@pytest.fixture(scope="module")
def captured() -> list[dict[str, Any]]:
    return []


@pytest.fixture(scope="module")
def smollm(models_dir: Path, captured: list[dict[str, Any]]) -> Iterator[LocalLlm]:
    if not (models_dir / f"{MODEL}.gguf").exists():
        pytest.skip(f"{MODEL} is not installed (clinic-assistant models install)")

    def capture(**kwargs: Any) -> Any:
        captured.append(kwargs)
        return llama_cpp.Llama(**kwargs)

    model = LocalLlm(_settings(), models_dir, model=MODEL, llama_factory=capture)
    yield model
    model.close()


def test_loads_with_progress_and_the_settings_unchanged(smollm: LocalLlm, captured: list[dict[str, Any]]) -> None:
    steps = list(smollm.load())
    assert steps[-1].done and any(s.stage == "load" for s in steps)
    assert len(captured) == 1
    kwargs = captured[0]
    assert kwargs["model_path"].endswith(f"{MODEL}.gguf")
    assert kwargs["n_ctx"] == 2048 and kwargs["n_batch"] == 512 and kwargs["split_mode"] in (0, 1)
    assert kwargs["n_threads"] == kwargs["n_threads_batch"] >= 1
    assert smollm.context_window == 2048
    assert "tokenizer.chat_template" in smollm._slot.llama.metadata  # the GGUF's own template is used


def test_streams_the_same_answer_twice_at_temperature_zero(smollm: LocalLlm) -> None:
    stream = smollm.stream(QUESTION)
    pieces = list(stream)
    assert len(pieces) >= 3 and stream.completion is not None
    assert stream.completion.text.strip()
    assert smollm.complete(QUESTION).text == stream.completion.text


def test_cancel_mid_stream(smollm: LocalLlm) -> None:
    cancel = CancelToken()
    seen: list[str] = []
    request = GenerationRequest(QUESTION.messages, Sampling(0.0, 1.0, 200, 1))
    with pytest.raises(Cancelled):
        for piece in smollm.stream(request, cancel):
            seen.append(piece)
            if len(seen) == 2:
                cancel.cancel()
    assert len(seen) == 2
    assert smollm.complete(QUESTION).text  # usable again at once


def test_json_schema_output_parses(smollm: LocalLlm) -> None:
    schema = {
        "type": "object",
        "properties": {"condition": {"type": "string", "maxLength": 40}, "chronic": {"type": "boolean"}},
        "required": ["condition", "chronic"],
        "additionalProperties": False,
    }
    request = GenerationRequest(
        (ChatMessage("user", "Hypertension: name the condition and say whether it is chronic, as JSON."),),
        Sampling(0.0, 1.0, 60, 1),
        json_schema=schema,
    )
    data = json.loads(smollm.complete(request).text)
    assert set(data) == {"condition", "chronic"} and isinstance(data["chronic"], bool)


def test_soap_note_has_every_section(smollm: LocalLlm) -> None:
    from app.core.llm.drafting import draft

    settings = _settings()
    settings.llm.temperature = 0.0
    settings.llm.seed = 1
    settings.llm.max_tokens = 300
    text = "Chest pain for 3 days, worse on exertion. BP 150/95. ECG normal. Plan: aspirin 75 mg daily, review 2 weeks."
    result = draft(smollm, "soap", text, settings.llm)
    assert result.structured is not None
    assert list(result.structured) == ["subjective", "objective", "assessment", "plan"]
    assert [line for line in result.text.splitlines() if line.isupper()] == [
        "SUBJECTIVE", "OBJECTIVE", "ASSESSMENT", "PLAN",
    ]


def test_a_note_streams_from_its_first_word_and_lists_parse(smollm: LocalLlm) -> None:
    """The note's opening is in the prompt (note_grammar.py): the first piece is it plus the model's first word."""
    from app.core.llm.drafting import draft
    from app.core.llm.prompts import task_messages

    text = "Chest pain for 3 days. BP 150/95. Plan: aspirin 75 mg daily, review 2 weeks."
    schema = note_schema("soap")
    request = GenerationRequest(task_messages("soap", text), Sampling(0.0, 1.0, 200, 1), json_schema=schema)
    stream = smollm.stream(request)
    first = next(iter(stream))
    assert first.startswith('{ "subjective": "') and len(first) > len('{ "subjective": "')
    settings = _settings()
    settings.llm.temperature = 0.0
    settings.llm.seed = 1
    settings.llm.max_tokens = 300
    result = draft(smollm, "summary", text, settings.llm)
    assert result.structured is not None and isinstance(result.structured["problems"], list)


def test_warming_the_instructions_is_reused_and_changes_no_answer(models_dir: Path) -> None:
    from app.core.llm.prompts import task_messages

    consultation = "Dry cough for two weeks. No fever. Plan: chest X-ray."
    request = GenerationRequest(task_messages("summary", consultation), Sampling(0.0, 1.0, 24, seed=1))
    cold = LocalLlm(_settings(), models_dir, model=MODEL, idle_unload_s=0)
    warm = LocalLlm(_settings(), models_dir, model=MODEL, idle_unload_s=0)
    try:
        expected = cold.complete(request).text
        evaluated = warm.warm("summary").result()
        assert evaluated > 100  # the system prompt and the task's instructions
        assert warm.warm("summary").result() == 0  # already in the cache: nothing to evaluate
        assert warm.complete(request).text == expected  # the cache is reused, the answer is unchanged
        assert warm.warm("summary").result() == 0  # a finished answer leaves the instructions cached
    finally:
        cold.close()
        warm.close()
