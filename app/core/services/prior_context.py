"""What a new note is drafted with besides the consultation: the summary of the patient's earlier accepted notes.

The setting `llm.prior_context` (on by default) decides. The summary is the same deterministic merge the patient
view shows (services/summaries.py), as compact text, redacted with the encounter's own map: the same person or
date gets the same placeholder as in the consultation, so the model can connect them. It is redacted before the
consultation, once per encounter, so within an encounter it is a stable prefix of every drafting prompt (a local
model reads it ahead, with the dictation; see prereading.py) and its placeholders come first in the map.

The store part runs on the store's thread and the redaction on the caller's (the redaction lane), as for every
other use of those engines.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.llm.prompts import prior_block
from app.core.redact.base import Redactor
from app.core.redact.pseudonyms import PseudonymMap
from app.core.services.summaries import patient_summary
from app.core.storage import Repositories
from app.core.storage.worker import StoreWorker
from app.core.summary.render import prompt_text


@dataclass(frozen=True)
class PriorContext:
    block: str  # `prompts.prior_block` of the redacted summary; "" when the patient has no earlier accepted notes
    map_json: str  # the encounter's map after redacting it (it may have added placeholders)


def earlier_notes_text(repos: Repositories, encounter_id: int) -> str:
    """The plain (not redacted) summary of the accepted notes of the patient's encounters before this one."""
    encounter = repos.encounters.get(encounter_id)
    summary = patient_summary(repos, encounter.patient_id, encounter.started_at.date(), before_encounter=encounter_id)
    return prompt_text(summary)


def redacted_prior(redactor: Redactor, text: str, pseudonyms: PseudonymMap) -> str:
    """`text` redacted with the encounter's `pseudonyms` (which it extends), as the prompt's background block."""
    return prior_block(redactor.redact(text, pseudonyms).redacted_text) if text.strip() else ""


def prior_context(
    redactor: Redactor, store: StoreWorker, encounter_id: int, pseudonyms: PseudonymMap
) -> PriorContext:
    """For the redaction lane: the earlier notes read on the store's thread, redacted here."""
    text = store.submit(lambda repos: earlier_notes_text(repos, encounter_id)).result()
    block = redacted_prior(redactor, text, pseudonyms)
    return PriorContext(block, pseudonyms.to_json())
