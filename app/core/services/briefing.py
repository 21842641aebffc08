"""Brief me: a short spoken-style paragraph about a patient, for the doctor to hear before the patient comes in.

The language model drafts it from the patient summary (the deterministic merge of the accepted notes) after the
summary has been redacted, the same way the drafting prompt's prior context is (`prior_context.redacted_prior`): a map
seeded with the patient's own name, MRN and date of birth, so the model sees placeholders, never the identity. The
facts say when things happened as a doctor would say it aloud ("2 months ago"), so no calendar date is sent or
read. The placeholders are put back only for display and for the voice. Like every model answer it is a draft.

Three steps, so the window can run each on the lane that owns what it needs: `briefing_input` on the store's thread,
`redact_briefing` on the redaction lane, `stream_briefing` on the model's. `brief_patient` chains them (tests, CLI).
A briefing is cached per summary version: the key is a digest of the facts it is drafted from.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Generator
from dataclasses import dataclass
from datetime import date
from string import Template

from app.core.errors import CancelToken, InputError
from app.core.llm.base import ChatMessage, GenerationRequest, LanguageModel, Sampling
from app.core.llm.prompts import load_prompt
from app.core.redact.base import Redactor
from app.core.redact.pseudonyms import PseudonymMap, StreamingReidentifier
from app.core.services.encounter_map import patient_pseudonyms
from app.core.services.summaries import patient_summary
from app.core.storage import Patient, Repositories
from app.core.summary.age import age_text, said_when
from app.core.summary.items import Medication, PatientSummary

BRIEF_MAX_TOKENS = 220  # a paragraph of about 100 words, with room to finish the last sentence
CACHE_SIZE = 32
STOPPED_SHOWN = 3  # the most recently stopped medicines
PLAN_LINES = 6


@dataclass(frozen=True)
class BriefingInput:
    """What a briefing is drafted from, read on the store's thread. Patient text: never log it."""

    patient_id: int
    key: str  # the summary version: a digest of `facts`
    facts: str  # the summary as compact text (not redacted)
    pseudonyms: PseudonymMap  # knows the patient's identity; dates relative to today


@dataclass(frozen=True)
class RedactedBriefing:
    patient_id: int
    key: str
    redacted: str  # what the model sees
    map_json: str  # the map its placeholders come from (a value: no map object is shared between threads)


@dataclass(frozen=True)
class Briefing:
    patient_id: int
    key: str
    text: str  # re-identified, for display and the voice (patient text)
    model: str
    complete: bool  # False: the model was cut off at the length limit
    draft: bool = True  # always: the doctor checks it against the summary


def _medicine(m: Medication) -> str:
    return " ".join(x for x in (m.name, m.dose, m.frequency) if x)


def briefing_facts(summary: PatientSummary, patient: Patient, today: date) -> str:
    """The summary as the model reads it, in words meant to be heard: times said as "2 months ago" (no calendar
    dates to read out), the latest reading with the ones before it, the last visit's plan, what is overdue."""
    name = f"{patient.given_names} {patient.family_name}".strip()  # as said aloud: one placeholder, not two
    lines = ["Patient: " + ", ".join(x for x in (name, age_text(patient.date_of_birth, today), patient.sex) if x)]
    if summary.problems:
        lines.append("Problems: " + "; ".join(p.name for p in summary.problems))
    lines.append("Medicines: " + ("; ".join(_medicine(m) for m in summary.medications) or "none recorded"))
    allergens = {a.substance for a in summary.allergies}
    stopped = sorted((m for m in summary.stopped_medications if m.history and m.name not in allergens),
                     key=lambda m: m.history[-1].date, reverse=True)[:STOPPED_SHOWN]
    if stopped:
        lines.append("Stopped: " + "; ".join(f"{m.name} ({said_when(m.history[-1].date, today)})" for m in stopped))
    if summary.allergies:
        lines.append("Allergies: " + "; ".join(
            a.substance + (f" ({a.reaction})" if a.reaction else "") for a in summary.allergies))
    for trend in (*summary.vitals, *summary.results):
        latest, *before = trend.readings
        earlier = f"; before: {', '.join(r.value for r in before)}" if before else ""
        unit = f" {latest.unit}" if latest.unit else ""
        lines.append(f"{trend.name[:1].upper()}{trend.name[1:]}: {latest.value}{unit} "
                     f"({said_when(latest.date, today)}{earlier})")
    plan = summary.last_plan
    if plan is not None:
        reason = f", {plan.reason}" if plan.reason else ""
        lines.append(f"Last visit ({said_when(plan.date, today)}{reason}): "
                     + " ".join(line.text for line in plan.lines[:PLAN_LINES]))
    for follow_up in summary.follow_ups:
        lines.append(f"Follow-up {follow_up.status} ({said_when(follow_up.due, today)}): {follow_up.text}")
    return "\n".join(lines)


def summary_key(facts: str) -> str:
    return hashlib.sha256(facts.encode("utf-8")).hexdigest()[:24]


def briefing_input(
    repos: Repositories, patient_id: int, today: date | None = None, *, date_offsets: bool = True
) -> BriefingInput | None:
    """On the store's thread. None when the patient has no accepted notes: there is nothing to brief on."""
    today = today or date.today()
    summary = patient_summary(repos, patient_id, today)
    if summary.empty or summary.accepted_notes == len(summary.not_summarised):
        return None
    patient = repos.patients.get(patient_id)
    facts = briefing_facts(summary, patient, today)
    return BriefingInput(patient_id, summary_key(facts), facts, patient_pseudonyms(patient, today,
                                                                                    date_offsets=date_offsets))


def redact_briefing(source: BriefingInput, redactor: Redactor) -> RedactedBriefing:
    """On the redaction lane: the facts with the patient's identifiers (and any other found) as placeholders."""
    redacted = redactor.redact(source.facts, source.pseudonyms).redacted_text
    return RedactedBriefing(source.patient_id, source.key, redacted, source.pseudonyms.to_json())


def briefing_messages(redacted: str) -> tuple[ChatMessage, ...]:
    instruction = Template(load_prompt("briefing")).safe_substitute(summary=redacted.strip())
    return ChatMessage("system", load_prompt("system")), ChatMessage("user", instruction)


def _fitted(llm: LanguageModel, redacted: str, max_tokens: int) -> tuple[ChatMessage, ...]:
    """The prompt, with the summary's last lines left out if it would not leave room for the answer (the first
    lines say who the patient is and what they have; the readings and the plan come last)."""
    lines = redacted.strip().splitlines()
    room = llm.context_window - max_tokens
    while lines:
        messages = briefing_messages("\n".join(lines))
        if llm.count_prompt_tokens(messages) <= room:
            return messages
        lines.pop()
    raise InputError("The patient summary is too long for the model's context to brief on",
                     "Choose a model with a larger context in Settings")


def stream_briefing(
    source: RedactedBriefing, llm: LanguageModel, sampling: Sampling, cancel: CancelToken | None = None
) -> Generator[str, None, Briefing]:
    """On the model's lane: yields the paragraph re-identified, piece by piece; returns the whole `Briefing`.
    Raises `Cancelled` when cancelled."""
    max_tokens = min(sampling.max_tokens, BRIEF_MAX_TOKENS)
    request = GenerationRequest(_fitted(llm, source.redacted, max_tokens),
                                Sampling(sampling.temperature, sampling.top_p, max_tokens, sampling.seed,
                                         sampling.repeat_penalty))
    reidentifier = StreamingReidentifier(PseudonymMap.from_json(source.map_json))
    stream = llm.stream(request, cancel)
    shown: list[str] = []
    for piece in stream:
        text = reidentifier.feed(piece)
        if text:
            shown.append(text)
            yield text
    tail = reidentifier.close()
    if tail:
        shown.append(tail)
        yield tail
    completion = stream.completion
    complete = completion is None or completion.finish_reason == "stop"
    return Briefing(source.patient_id, source.key, "".join(shown).strip(), llm.model_name, complete)


def brief_patient(
    repos: Repositories,
    redactor: Redactor,
    llm: LanguageModel,
    patient_id: int,
    sampling: Sampling,
    today: date | None = None,
    cancel: CancelToken | None = None,
) -> Briefing | None:
    """The three steps in one thread (tests, the CLI). None when there is nothing to brief on."""
    source = briefing_input(repos, patient_id, today)
    if source is None:
        return None
    stream = stream_briefing(redact_briefing(source, redactor), llm, sampling, cancel)
    while True:
        try:
            next(stream)
        except StopIteration as done:
            briefing: Briefing = done.value
            return briefing


class BriefingCache:
    """The latest briefings by summary version, in memory only (cleared when the app locks)."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[str, Briefing] = OrderedDict()

    def get(self, key: str) -> Briefing | None:
        briefing = self._items.get(key)
        if briefing is not None:
            self._items.move_to_end(key)
        return briefing

    def put(self, briefing: Briefing) -> None:
        if not briefing.text:
            return  # nothing worth keeping: asking again may do better
        self._items[briefing.key] = briefing
        self._items.move_to_end(briefing.key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()
