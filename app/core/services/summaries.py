"""Patient summaries as use cases: accept a note (and queue its extraction), extract a note version's facts, build a
patient's summary, and give the drafting model the redacted summary of earlier notes.

Extraction is a few steps so the window can run each on the lane that owns what it needs: `extraction_job` and
`save_extraction` on the store's thread, `redact_for_extraction` on the redaction lane (only when the model step will
run), `run_extraction` (parsers, and the model step on the redacted note) on the model's. `extract_note_version`
chains them for the CLI and tests. Building a summary never calls a model: one query
for the patient's notes and facts, then the pure merge.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date

from app.core.errors import Cancelled, CancelToken
from app.core.llm.base import LanguageModel
from app.core.redact.base import Redactor
from app.core.redact.pseudonyms import PseudonymMap
from app.core.services.encounter_map import encounter_pseudonyms
from app.core.storage import Note, NoteStatus, Repositories
from app.core.storage.facts import ExtractionStatus, NoteFactsRow
from app.core.summary.document import read_note
from app.core.summary.extract import PARSERS, Extraction, extract_facts
from app.core.summary.extract_llm import ModelExtractor, RedactedLines, redacted_lines
from app.core.summary.facts import facts_from_json, facts_to_json
from app.core.summary.items import NoteRef, PatientSummary
from app.core.summary.merge import NoteEntry, merge

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtractionJob:
    note_version_id: int
    encounter_id: int
    patient_id: int
    text: str  # patient text
    accepted: bool
    pseudonyms: PseudonymMap | None  # the encounter's map, when the model step will run
    redacted: RedactedLines | None = None  # the note as the model may see it (redact_for_extraction)


@dataclass(frozen=True)
class ExtractionOutcome:
    note_version_id: int
    status: ExtractionStatus | None  # None: the version is not accepted (any more), nothing was extracted
    facts: int = 0
    extractor: str = ""
    error: str = ""  # the kind of failure, never content


def accept_note(repos: Repositories, note_id: int, version: int | None = None) -> Note:
    """Accept a note version and queue its extraction, in one transaction."""
    with repos.db.transaction("accept the note"):
        note = repos.notes.accept(note_id, version)
        accepted = next(v for v in repos.notes.versions(note_id) if v.version == note.accepted_version)
        repos.facts.mark_pending(accepted.id)
    return note


def extraction_job(
    repos: Repositories, note_version_id: int, *, with_model: bool = False, date_offsets: bool = True
) -> ExtractionJob:
    version = repos.facts.version(note_version_id)
    pseudonyms = encounter_pseudonyms(repos, version.encounter_id, date_offsets=date_offsets) if with_model else None
    return ExtractionJob(note_version_id, version.encounter_id, version.patient_id, version.text,
                         version.note_status == NoteStatus.ACCEPTED, pseudonyms)


def redact_for_extraction(job: ExtractionJob, redactor: Redactor) -> ExtractionJob:
    """The note redacted with the encounter's map, for the model step (the redactor's lane)."""
    if job.pseudonyms is None:
        return job
    return replace(job, redacted=redacted_lines(read_note(job.text), redactor, job.pseudonyms))


def run_extraction(
    job: ExtractionJob, llm: LanguageModel | None, redactor: Redactor | None = None,
    cancel: CancelToken | None = None,
) -> Extraction:
    """Parsers, and the model step when there is a model, the encounter's map and the redacted note (or a redactor
    to redact it here). No store access. Raises what failed (an AppError, or a bug); `Cancelled` when cancelled."""
    model = None
    if llm is not None and job.pseudonyms is not None and (job.redacted is not None or redactor is not None):
        model = ModelExtractor(llm, redactor, job.pseudonyms, redacted=job.redacted)
    return extract_facts(job.text, model, cancel)


def save_extraction(
    repos: Repositories, job: ExtractionJob, result: Extraction | BaseException, *, second_reading: bool = False
) -> ExtractionOutcome:
    """Store what the extraction found, or that it failed ("not summarised"). `second_reading`: the model step over
    a version whose parsers' facts are already saved; if it fails, those facts stay and the version stays summarised.
    """
    if isinstance(result, BaseException):
        kind = type(result).__name__
        log.warning("extraction of note version %d failed: %s", job.note_version_id, kind)
        if second_reading:
            return ExtractionOutcome(job.note_version_id, repos.facts.status(job.note_version_id), error=kind)
        repos.facts.mark_failed(job.note_version_id, kind)
        return ExtractionOutcome(job.note_version_id, ExtractionStatus.FAILED, error=kind)
    with repos.db.transaction("save the note's summary facts"):
        repos.facts.save(job.note_version_id, facts_to_json(result.facts), result.extractor)
        if job.pseudonyms is not None:  # placeholders the note's identifiers got stay the same next time
            repos.redaction_maps.save(job.encounter_id, job.pseudonyms.to_json())
    return ExtractionOutcome(job.note_version_id, ExtractionStatus.DONE, len(result.facts), result.extractor)


def extract_note_version(
    repos: Repositories,
    llm: LanguageModel | None,
    redactor: Redactor | None,
    note_version_id: int,
    *,
    cancel: CancelToken | None = None,
    date_offsets: bool = True,
) -> ExtractionOutcome:
    """Extract and store one accepted version's facts. A failure marks it failed ("not summarised") and changes
    nothing else; a version that is not accepted is left alone."""
    job = extraction_job(repos, note_version_id, with_model=llm is not None and redactor is not None,
                         date_offsets=date_offsets)
    if not job.accepted:
        return ExtractionOutcome(note_version_id, None)
    try:
        result: Extraction | BaseException = run_extraction(job, llm, redactor, cancel)
    except Cancelled:
        raise  # stopped, not failed: the version stays pending
    except Exception as exc:  # an extraction that fails leaves the note "not summarised", whatever the cause
        result = exc
    return save_extraction(repos, job, result)


def extract_pending(
    repos: Repositories,
    llm: LanguageModel | None,
    redactor: Redactor | None,
    *,
    patient_id: int | None = None,
    retry_failed: bool = False,
    upgrade: bool = False,
    cancel: CancelToken | None = None,
) -> Iterator[ExtractionOutcome]:
    """Every accepted version without facts (and failed ones when `retry_failed`; with `upgrade` and a model, also
    the ones only the parsers read), one at a time; cancellable between versions."""
    cancel = cancel or CancelToken()
    ids = [p.note_version_id for p in repos.facts.pending(patient_id, include_failed=retry_failed)]
    if upgrade and llm is not None and redactor is not None:
        ids += [i for i in repos.facts.extracted_by_other(_extractor_name(llm), patient_id) if i not in ids]
    for note_version_id in ids:
        cancel.raise_if_cancelled()
        yield extract_note_version(repos, llm, redactor, note_version_id, cancel=cancel)


def _extractor_name(llm: LanguageModel) -> str:
    return f"{PARSERS}+model:{llm.model_name}"


def _note_ref(row: NoteFactsRow, status: str) -> NoteRef:
    return NoteRef(row.encounter_id, row.note_id, row.note_version_id, row.encounter_started_at.date(),
                   row.note_kind.value, status)


def patient_summary(
    repos: Repositories, patient_id: int, today: date | None = None, *, before_encounter: int | None = None
) -> PatientSummary:
    """The summary of the patient's accepted notes: one query, then the merge. With `before_encounter`, only the
    notes of encounters before that one (the prior context of a new note)."""
    rows = repos.facts.patient_notes(patient_id)
    if before_encounter is not None:
        cut = next((r.encounter_started_at for r in rows if r.encounter_id == before_encounter), None)
        rows = [r for r in rows
                if r.encounter_id != before_encounter and (cut is None or r.encounter_started_at <= cut)]
    entries: list[NoteEntry] = []
    drafts: list[NoteRef] = []
    unsummarised: list[NoteRef] = []
    for row in rows:
        if row.note_status == NoteStatus.DRAFT:
            drafts.append(_note_ref(row, "edit of an accepted note" if row.has_accepted_version else "draft"))
        elif row.extraction == ExtractionStatus.DONE:
            entries.append(NoteEntry(row.encounter_id, row.note_id, row.note_version_id,
                                     row.encounter_started_at.date(), row.encounter_reason,
                                     tuple(facts_from_json(row.facts_json))))
        else:
            unsummarised.append(_note_ref(row, (row.extraction or ExtractionStatus.PENDING).value))
    return merge(patient_id, entries, today or date.today(), open_drafts=drafts, not_summarised=unsummarised,
                 accepted_notes=len(entries) + len(unsummarised))
