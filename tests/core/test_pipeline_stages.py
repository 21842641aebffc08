"""The consultation pipeline's stages on their own, as the window runs them: the answer stage saves what it
produced, keeps what the doctor saw when stopped (by a cancel or by the caller closing it) or when the model fails
half-way, and a chat keeps its question and fits a long conversation into the context.

The language model is the words-are-tokens seam from test_llm_drafting (so the context arithmetic is visible); the
store is the real encrypted one. The whole pipeline on the real models is in tests/integration/test_pipeline.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from app.core.config import Settings
from app.core.errors import Cancelled, CancelToken, ContextTooLong, ModelError
from app.core.llm.base import Completion, GenerationRequest, Sampling, Timings, TokenStream
from app.core.llm.chat import ChatTurn, chat_messages, fit_chat
from app.core.redact.pseudonyms import PseudonymMap
from app.core.services import consultation as c
from app.core.storage import MessageRole, Store, StoreWorker
from tests.core.test_llm_drafting import WordModel

CONSULTATION = "[PATIENT_1] has had a dry cough for two weeks. Plan: chest X-ray."
ANSWER = "The cough has lasted two weeks. A chest X-ray is planned. Review after the result."


class BreakingModel(WordModel):
    """Streams the answer, then fails: a server that dropped the connection half-way."""

    def stream(self, request: GenerationRequest, cancel: CancelToken | None = None) -> TokenStream:
        def gen() -> Iterator[str]:
            yield "The cough has"
            yield " lasted two weeks."
            raise ModelError("The model server closed the connection", "Try again")

        return TokenStream(gen(), lambda: Completion("", "words", "local", "stop", Timings()))


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[StoreWorker]:
    w = StoreWorker(Store(tmp_path / "store", kdf_iterations=4000))
    w.run(lambda s: s.create("stage tests passphrase 71!")).result()
    yield w
    w.shutdown()


def _encounter(worker: StoreWorker) -> int:
    def make(r: object) -> int:
        patient = r.patients.add("Holloway", "Margaret")  # type: ignore[attr-defined]
        return int(r.encounters.add(patient.id).id)  # type: ignore[attr-defined]

    return worker.submit(make).result()


def _map() -> PseudonymMap:
    return PseudonymMap(date(2026, 11, 22))


def _settings() -> Settings:
    settings = Settings()
    settings.llm.max_tokens = 200  # the answer's room in the word model's small context
    return settings


def _pipeline(worker: StoreWorker, model: WordModel) -> c.ConsultationPipeline:
    return c.ConsultationPipeline(_settings(), llm=model, store=worker)


def test_a_finished_summary_is_saved_as_a_model_draft_note(worker: StoreWorker) -> None:
    eid = _encounter(worker)
    pipeline = _pipeline(worker, WordModel(answer=ANSWER))
    stage = pipeline.answer(CONSULTATION, _map(), "referral", eid, CancelToken())
    events = list(stage)
    shown = "".join(e.text for e in events if isinstance(e, c.AnswerText))
    done = next(e for e in events if isinstance(e, c.AnswerDone))
    assert shown.strip() == done.display_text == ANSWER
    notes = worker.submit(lambda r: r.notes.for_encounter(eid)).result()
    assert [n.latest.text for n in notes] == [ANSWER]
    assert any(isinstance(e, c.Saved) and e.record == "note" for e in events)
    assert "first_token" in pipeline.timeline.marks and "draft" in pipeline.timeline.stages


def test_closing_the_stage_mid_answer_keeps_what_was_shown(worker: StoreWorker) -> None:
    eid = _encounter(worker)
    stage = _pipeline(worker, WordModel(answer=ANSWER)).answer(CONSULTATION, _map(), "referral", eid, CancelToken())
    shown = ""
    for event in stage:
        if isinstance(event, c.AnswerText):
            shown += event.text
            if len(shown.split()) >= 4:
                break
    stage.close()  # what the window's worker does when the doctor presses Stop
    notes = worker.submit(lambda r: r.notes.for_encounter(eid)).result()
    assert len(notes) == 1
    text = notes[0].latest.text
    assert text.startswith(shown.strip()) and text.endswith(c.STOPPED_MARK)
    assert ANSWER not in text


def test_a_cancelled_chat_answer_keeps_question_and_partial_answer(worker: StoreWorker) -> None:
    eid = _encounter(worker)
    cancel = CancelToken()
    stage = _pipeline(worker, WordModel(answer=ANSWER)).answer(
        CONSULTATION, _map(), "question", eid, cancel, question=c.Question("Why an X-ray?", "Why an X-ray?")
    )
    events: list[c.Event] = []
    with pytest.raises(Cancelled):
        for event in stage:
            events.append(event)
            if isinstance(event, c.AnswerText) and len(events) > 4:
                cancel.cancel()
    stopped = next(e for e in events if isinstance(e, c.AnswerStopped))
    messages = worker.submit(lambda r: r.messages.for_encounter(eid)).result()
    assert [m.role for m in messages] == [MessageRole.USER, MessageRole.ASSISTANT]
    assert messages[0].display_content == "Why an X-ray?"
    assert messages[1].display_content == f"{stopped.display_text}\n\n{c.STOPPED_MARK}"
    assert messages[1].redacted_content == stopped.redacted_text


def test_a_model_failing_half_way_keeps_what_was_shown(worker: StoreWorker) -> None:
    eid = _encounter(worker)
    stage = _pipeline(worker, BreakingModel()).answer(CONSULTATION, _map(), "referral", eid, CancelToken())
    with pytest.raises(ModelError):
        list(stage)
    notes = worker.submit(lambda r: r.notes.for_encounter(eid)).result()
    assert notes[0].latest.text == f"The cough has lasted two weeks.\n\n{c.STOPPED_MARK}"


def test_run_text_reports_a_failing_stage_and_keeps_earlier_results(worker: StoreWorker) -> None:
    class NoRedactor:
        def redact(self, text: str, pseudonyms: PseudonymMap) -> object:
            raise ModelError("The redaction model is missing", "Run `clinic-assistant models install`")

    eid = _encounter(worker)
    pipeline = c.ConsultationPipeline(_settings(), redactor=NoRedactor(), llm=WordModel(), store=worker)  # type: ignore[arg-type]
    events = list(pipeline.run_text("Margaret has a cough.", c.ConsultationRequest(encounter_id=eid)))
    failed = [e for e in events if isinstance(e, c.StageFailed)]
    assert [f.stage for f in failed] == ["redact"] and "missing" in failed[0].error.message


def test_chat_layout_keeps_the_consultation_first_so_the_prompt_only_grows() -> None:
    first = chat_messages("Why an X-ray?", CONSULTATION, [])
    second = chat_messages("And then?", CONSULTATION, [ChatTurn("Why an X-ray?", "To rule out pneumonia.")])
    assert second[: len(first)] == first  # the previous prompt is a prefix: a prompt cache reuses it
    assert CONSULTATION in first[1].content and second[-1].content == "And then?"


def test_a_long_conversation_leaves_out_its_oldest_turns() -> None:
    history = [ChatTurn(f"question {i} " + "word " * 40, f"answer {i} " + "word " * 40) for i in range(10)]
    model = WordModel(window=700)
    fitted = fit_chat(model, "What now?", CONSULTATION, history, Sampling(max_tokens=200))
    assert 0 < fitted.dropped_turns < 10 and fitted.prompt_tokens <= 500
    contents = " ".join(m.content for m in fitted.messages)
    assert "question 9" in contents and "question 0 " not in contents and CONSULTATION in contents


def test_a_consultation_too_long_for_any_chat_says_what_to_do() -> None:
    with pytest.raises(ContextTooLong) as raised:
        fit_chat(WordModel(window=300), "Why?", "word " * 400, [], Sampling(max_tokens=100))
    assert "summary" in raised.value.hint


def test_the_chat_tells_the_doctor_when_turns_were_left_out(worker: StoreWorker) -> None:
    eid = _encounter(worker)
    history = [ChatTurn(f"question {i} " + "word " * 40, f"answer {i} " + "word " * 40) for i in range(10)]
    stage = _pipeline(worker, WordModel(window=700, answer="Fine.")).answer(
        CONSULTATION, _map(), "question", eid, CancelToken(), question=c.Question("What now?", "What now?"),
        history=history,
    )
    notices = [e.text for e in stage if isinstance(e, c.Notice)]
    assert len(notices) == 1 and "left out" in notices[0]
