"""Reading the consultation while it is dictated changes no answer: SmolLM2 at temperature 0 writes, token for token,
what it writes from a cold cache, after a mid-transcript edit and after the doctor's review changed the text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.config import Settings
from app.core.llm.base import GenerationRequest, Sampling
from app.core.llm.prompts import task_messages
from app.core.redact.pseudonyms import PseudonymMap
from app.core.services.prereading import Prereader, prereading_model

pytestmark = pytest.mark.integration
pytest.importorskip("llama_cpp")

from app.core.llm.llama_local import LocalLlm  # noqa: E402

MODEL = "smollm2-135m-instruct"
UTTERANCES = [
    "Mr [PATIENT_1] is seen today for a review of his blood pressure.",
    "He has been taking lisinopril ten milligrams once daily for three months.",
    "Home readings are around 150 over 90.",
    "He denies chest pain and shortness of breath.",
    "Plan: increase lisinopril to 20 mg once daily and review in four weeks.",
]


def _settings() -> Settings:
    settings = Settings()
    settings.gpu.n_ctx = 2048
    return settings


def _request(text: str) -> GenerationRequest:
    return GenerationRequest(task_messages("soap", text), Sampling(0.0, 1.0, 32, seed=7))


@pytest.fixture(scope="module")
def models(models_dir: Path) -> Iterator[tuple[LocalLlm, LocalLlm]]:
    if not (models_dir / f"{MODEL}.gguf").exists():
        pytest.skip(f"{MODEL} is not installed (clinic-assistant models install)")
    cold = LocalLlm(_settings(), models_dir, model=MODEL, idle_unload_s=0)
    warm = LocalLlm(_settings(), models_dir, model=MODEL, idle_unload_s=0)
    yield cold, warm
    cold.close()
    warm.close()


def _cold_answer(cold: LocalLlm, text: str) -> str:
    cold.unload()  # nothing cached: the whole prompt is evaluated
    return cold.complete(_request(text)).text


def test_pre_read_utterances_give_the_cold_answer(models: tuple[LocalLlm, LocalLlm]) -> None:
    cold, warm = models
    final = " ".join(UTTERANCES)
    expected = _cold_answer(cold, final)
    read = [warm.warm("soap", consultation=" ".join(UTTERANCES[: i + 1])).result() for i in range(len(UTTERANCES))]
    assert read[0] > 100 and all(n > 0 for n in read[1:])  # the instructions, then each utterance as it came
    assert warm.complete(_request(final)).text == expected


def test_an_edit_mid_transcript_is_re_read_from_the_change(models: tuple[LocalLlm, LocalLlm]) -> None:
    cold, warm = models
    before = " ".join(UTTERANCES)
    edited = before.replace("ten milligrams", "5 mg")  # the doctor corrects a word in the second utterance
    warm.warm("soap", consultation=before).result()
    reread = warm.warm("soap", consultation=edited).result()
    assert 0 < reread < warm.count_tokens(edited)  # only from the first changed token on
    assert warm.complete(_request(edited)).text == _cold_answer(cold, edited)


def test_a_review_change_gives_the_cold_answer(models: tuple[LocalLlm, LocalLlm]) -> None:
    cold, warm = models
    pre_read = " ".join(UTTERANCES)
    approved = pre_read.replace("[PATIENT_1]", "Holloway")  # the doctor kept a word the redactor had hidden
    warm.warm("soap", consultation=pre_read).result()
    assert warm.complete(_request(approved)).text == _cold_answer(cold, approved)


class _Redactor:
    """Redaction is not under test here: the text is already redacted."""

    def redact(self, text: str, pseudonyms: PseudonymMap | None = None) -> object:
        from app.core.redact.base import RedactionResult

        return RedactionResult(text, [])


def test_the_prereader_reads_as_utterances_are_confirmed(models: tuple[LocalLlm, LocalLlm]) -> None:
    _cold, warm = models
    warm.unload()
    model = prereading_model(warm)
    assert model is not None
    prereader = Prereader(model, _Redactor(), "soap", lambda: PseudonymMap().to_json())  # type: ignore[arg-type]
    for i in range(len(UTTERANCES)):
        prereader.offer(" ".join(UTTERANCES[: i + 1]))
    prereader.close()  # returns once the last text is redacted; its reading is queued on the model's thread
    # What is left for the draft is the tail of the last utterance: a handful of tokens, not the consultation.
    assert warm.warm("soap", consultation=" ".join(UTTERANCES)).result() == 0
    assert prereader.tokens_read > 100  # every read counted by now: the model's thread ran them in order


def test_a_server_model_is_never_pre_read() -> None:
    class Server:
        backend = "server"

        def warm(self, *args: object, **kwargs: object) -> None:
            raise AssertionError("sent ahead of time")

    assert prereading_model(Server()) is None
