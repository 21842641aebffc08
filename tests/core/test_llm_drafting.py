"""Prompts, structured notes, context fitting (map-reduce) and SSE parsing.

The context tests use a small fake language model (a unit seam: words are tokens) so the arithmetic is visible;
the same code runs against real models in test_llm_local.py and the integration tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

import pytest

from app.core.errors import CancelToken, ContextTooLong, InputError, ModelError
from app.core.llm.base import (
    Backend,
    ChatMessage,
    Completion,
    GenerationRequest,
    LanguageModel,
    LoadProgress,
    Sampling,
    Timings,
    TokenStream,
)
from app.core.llm.context import fit_input, split_into_parts
from app.core.llm.drafting import draft
from app.core.llm.notes import note_schema, parse_note, render_note
from app.core.llm.prompts import TASKS, condense_messages, load_prompt, task_messages
from app.core.llm.sse import iter_sse_data


class WordModel:
    """Words are tokens. Condensing keeps the first `keep` words of a part; other tasks echo a canned answer."""

    def __init__(self, window: int = 1000, keep: int = 5, answer: str = "ok", finish: str = "stop") -> None:
        self.window = window
        self.keep = keep
        self.answer = answer
        self.finish = finish
        self.requests: list[GenerationRequest] = []

    backend: Backend = "local"
    model_name = "words"

    @property
    def context_window(self) -> int:
        return self.window

    def load(self, cancel: CancelToken | None = None) -> Iterator[LoadProgress]:
        yield LoadProgress("ready", 1.0, "ready", done=True)

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def count_prompt_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return sum(self.count_tokens(m.content) for m in messages) + 4

    def stream(self, request: GenerationRequest, cancel: CancelToken | None = None) -> TokenStream:
        self.requests.append(request)
        user = request.messages[-1].content
        if "List every clinically relevant fact" in user:
            part = user.split("):\n", 1)[1]
            text = " ".join(part.split()[: self.keep])
            finish = "stop"
        else:
            text, finish = self.answer, self.finish
        pieces = text.split(" ")
        result = Completion(text, "words", "local", finish, Timings())  # type: ignore[arg-type]

        def gen() -> Iterator[str]:
            for i, piece in enumerate(pieces):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                yield piece if i == 0 else " " + piece

        return TokenStream(gen(), lambda: result)

    def complete(self, request: GenerationRequest, cancel: CancelToken | None = None) -> Completion:
        return self.stream(request, cancel).collect()

    def close(self) -> None:
        pass


def test_word_model_satisfies_the_protocol() -> None:
    assert isinstance(WordModel(), LanguageModel)


# -- prompts -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("task", TASKS)
def test_every_task_has_a_prompt_that_wraps_the_text(task: str) -> None:
    messages = task_messages(task, "PATIENT TEXT HERE")  # type: ignore[arg-type]
    assert [m.role for m in messages] == ["system", "user"]
    assert "PATIENT TEXT HERE" in messages[1].content
    assert "$text" not in messages[1].content
    assert "placeholder" in messages[0].content.lower()  # the model is told to keep [PATIENT_1] as is


def test_condensed_input_says_so_and_condense_prompt_numbers_parts() -> None:
    messages = task_messages("soap", "facts", condensed_parts=3)
    assert "3 parts" in messages[1].content
    condense = condense_messages("some text", 2, 5)[1].content
    assert "part 2 of 5" in condense and "some text" in condense
    assert load_prompt("system")


# -- structured notes ----------------------------------------------------------------------------------------------
def _completion(text: str, finish: str = "stop") -> Completion:
    return Completion(text, "m", "local", finish, Timings())  # type: ignore[arg-type]


def test_soap_schema_requires_every_section() -> None:
    schema = note_schema("soap")
    assert schema is not None
    assert schema["required"] == ["subjective", "objective", "assessment", "plan"]
    assert schema["additionalProperties"] is False
    assert note_schema("referral") is None and note_schema("question") is None


def test_note_parses_and_renders_every_section_even_empty_ones() -> None:
    raw = json.dumps({"summary": "Seen for chest pain.", "problems": ["Angina"], "medications": [], "follow_up": ""})
    data = parse_note("summary", _completion(raw))
    text = render_note("summary", data)
    assert text.splitlines()[0] == "SUMMARY"
    assert "- Angina" in text
    assert text.count("Not documented") == 2  # empty medications and follow-up are shown, not dropped


@pytest.mark.parametrize(
    "raw",
    ['{"subjective": "x", "objective": "y"}', "not json", '["a"]', '{"subjective": 1, "objective": "", '
     '"assessment": "", "plan": ""}'],
)
def test_incomplete_or_malformed_note_is_a_model_error(raw: str) -> None:
    with pytest.raises(ModelError, match="incomplete or malformed"):
        parse_note("soap", _completion(raw))


def test_cut_off_note_says_to_raise_max_tokens() -> None:
    with pytest.raises(ModelError, match="cut off") as info:
        parse_note("soap", _completion('{"subjective": "x", ', finish="length"))
    assert "max_tokens" in info.value.hint


# -- context management --------------------------------------------------------------------------------------------
def test_parts_cover_the_text_exactly_and_respect_the_budget() -> None:
    text = "\n\n".join(" ".join(f"w{p}_{i}." for i in range(30)) for p in range(6))
    model = WordModel()
    parts = split_into_parts(model, text, 40)
    assert "".join(parts) == text
    assert all(model.count_tokens(p) <= 40 for p in parts)
    assert len(parts) >= 5


def test_short_input_is_left_alone() -> None:
    fitted = fit_input(WordModel(window=300), "soap", "chest pain three days", Sampling(max_tokens=50))
    assert fitted.text == "chest pain three days" and fitted.condensed_parts == 0


def test_long_transcript_is_condensed_in_parts_and_the_user_is_told() -> None:
    model = WordModel(window=700, keep=4)
    text = "\n\n".join(f"Paragraph{p} " + " ".join(f"fact{p}x{i}" for i in range(60)) for p in range(8))
    notices: list[str] = []
    fitted = fit_input(model, "soap", text, Sampling(max_tokens=50), notice=notices.append)
    assert fitted.condensed_parts >= 2
    assert notices and "condensing it in" in notices[0]
    # Every part was condensed (map) and each part's facts, in order, are what the task will see (reduce input).
    condensed = [r.messages[-1].content for r in model.requests if "clinically relevant fact" in r.messages[-1].content]
    assert len(condensed) == fitted.condensed_parts
    assert "".join(c.split("):\n", 1)[1] for c in condensed) == text  # nothing of the text was left out
    for i, request in enumerate(condensed, 1):
        first_words = " ".join(request.split("):\n", 1)[1].split()[:4])
        assert f"Part {i}:\n{first_words}" in fitted.text


def test_question_too_long_is_refused_not_condensed() -> None:
    model = WordModel(window=100)
    with pytest.raises(ContextTooLong) as info:
        fit_input(model, "question", "word " * 500, Sampling(max_tokens=50))
    assert "gpu.n_ctx" in info.value.hint
    assert model.requests == []
    assert "word" not in info.value.message  # numbers only, never the text


def test_condensing_that_stops_shrinking_gives_context_too_long() -> None:
    model = WordModel(window=300, keep=10_000)  # "facts" as long as the text: condensing cannot help
    with pytest.raises(ContextTooLong):
        fit_input(model, "summary", "\n\n".join("word " * 100 for _ in range(6)), Sampling(max_tokens=50))


# -- drafting end to end (fake model) ------------------------------------------------------------------------------
def test_draft_renders_structured_output_and_streams_pieces() -> None:
    from app.core.config import LlmSettings

    note = {"subjective": "Chest pain.", "objective": "BP 150/95.", "assessment": "Angina?", "plan": "ECG."}
    answer = json.dumps(note)
    model = WordModel(answer=answer)
    pieces: list[str] = []
    result = draft(model, "soap", "chest pain", LlmSettings(max_tokens=64), on_piece=pieces.append)
    assert "".join(pieces) == answer
    assert result.structured == json.loads(answer)
    assert result.text.startswith("SUBJECTIVE\nChest pain.")
    assert result.draft is True
    assert model.requests[-1].json_schema == note_schema("soap")


def test_draft_refuses_empty_text() -> None:
    from app.core.config import LlmSettings

    with pytest.raises(InputError):
        draft(WordModel(), "question", "   ", LlmSettings())


# -- SSE -----------------------------------------------------------------------------------------------------------
def test_sse_events_comments_and_multiline_data() -> None:
    lines = [": keep-alive", "", "data: {\"a\": 1}", "", "event: x", "data: line1", "data: line2", "", "data: [DONE]"]
    assert list(iter_sse_data(lines)) == ['{"a": 1}', "line1\nline2", "[DONE]"]


def test_an_answer_length_that_fills_the_context_is_explained() -> None:
    with pytest.raises(ContextTooLong, match="leaves no room") as info:
        fit_input(WordModel(window=300), "soap", "chest pain", Sampling(max_tokens=290))
    assert "llm.max_tokens" in info.value.hint
