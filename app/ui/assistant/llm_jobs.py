"""The work that runs on the LLM lane: the consultation pipeline's `answer` stage, for a note or a chat question.

The job takes the redacted text (the model never sees an identifier) and the encounter's pseudonym map as JSON (each
job builds its own map object: nothing is shared between threads) and the storage layer's `StoreWorker` (the one
database thread the window's store lane runs on too). It yields the pipeline's events, which arrive on the GUI
thread in order: re-identified answer text as it streams, notices, what was saved. Stopping it closes the stage,
which saves what had been shown.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.core.config import Settings
from app.core.llm.chat import ChatTurn
from app.ui.workers import JobToken

if TYPE_CHECKING:
    from app.core.llm.base import LanguageModel, LoadProgress
    from app.core.services.events import Event
    from app.core.storage.worker import StoreWorker


@dataclass(frozen=True)
class Answer:
    task: str
    display: str  # re-identified, what the doctor reads
    redacted: str  # exactly what the model wrote
    model: str
    timings: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class AskedQuestion:
    redacted: str
    display: str


def answer_job(
    llm: LanguageModel,
    token: JobToken,
    store: StoreWorker,
    settings: Settings,
    task: str,
    consultation_redacted: str,
    map_json: str,
    encounter_id: int | None,
    question: AskedQuestion | None = None,
    history: Sequence[ChatTurn] = (),
    prior: str = "",
) -> Generator[Event, None, Answer]:
    from app.core.redact.pseudonyms import PseudonymMap
    from app.core.services.consultation import ConsultationPipeline, Question

    pipeline = ConsultationPipeline(settings, llm=llm, store=store)
    done = yield from pipeline.answer(
        consultation_redacted, PseudonymMap.from_json(map_json), task, encounter_id, token,  # type: ignore[arg-type]
        question=Question(question.redacted, question.display) if question is not None else None,
        history=history, prior=prior,
    )
    draft = done.draft
    return Answer(task, done.display_text, draft.text, draft.completion.model, draft.timings)


Placement = tuple[str, object]  # (backend, the local model's offload plan or None): where the model runs


def load_model(llm: LanguageModel, token: JobToken) -> Generator[LoadProgress, None, Placement]:
    """Load (progress as it goes), then say where the model runs. Read in the same job, on the model's own lane:
    a separate job would queue behind the answer and the status bar would say where it runs only afterwards."""
    yield from llm.load(token)
    return llm.backend, getattr(llm, "offload_plan", None)
