"""The patient summary: what the patient view shows and the CLI prints. Every item carries its `Source`: the encounter,
note and note version it came from, the note's date, and the sentence (offsets into that version's text).

Patient text is in most fields (names of problems and medicines, sentences): never log a summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Source:
    encounter_id: int
    note_id: int
    note_version_id: int
    date: date  # the encounter's date (the note's date)
    start: int  # the sentence: offsets into the note version's text
    end: int
    sentence: str

    def as_dict(self) -> dict[str, Any]:
        return {"encounter_id": self.encounter_id, "note_id": self.note_id, "note_version_id": self.note_version_id,
                "date": self.date.isoformat(), "start": self.start, "end": self.end, "sentence": self.sentence}


@dataclass(frozen=True)
class Problem:
    name: str
    status: str  # "active" ("resolved" ones are left out of the summary's list)
    since: date  # first stated
    source: Source  # the latest statement
    conflict: bool = False  # notes of the same date disagree: every version is listed, each marked

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "since": self.since.isoformat(),
                "source": self.source.as_dict(), "conflict": self.conflict}


@dataclass(frozen=True)
class MedicationChange:
    change: str  # "started", "stopped", "dose changed", "restarted", "first recorded"
    date: date
    dose: str
    frequency: str
    source: Source

    def as_dict(self) -> dict[str, Any]:
        return {"change": self.change, "date": self.date.isoformat(), "dose": self.dose, "frequency": self.frequency,
                "source": self.source.as_dict()}


@dataclass(frozen=True)
class Medication:
    name: str  # generic
    written: str  # as the latest note writes it ("Protonix")
    dose: str
    frequency: str
    status: str  # "active" or "stopped"
    since: date  # started, or first recorded, in its current run
    source: Source  # the latest statement
    history: tuple[MedicationChange, ...] = ()
    conflict: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "written": self.written, "dose": self.dose, "frequency": self.frequency,
                "status": self.status, "since": self.since.isoformat(), "source": self.source.as_dict(),
                "history": [h.as_dict() for h in self.history], "conflict": self.conflict}


@dataclass(frozen=True)
class Allergy:
    substance: str  # a generic name for a medicine; "no known allergies" for a note that says so
    kind: str  # "allergy", "intolerance", "none known"
    reaction: str
    source: Source
    conflict: bool = False  # e.g. a note says "no known allergies" while another records one
    written: str = ""  # as the note writes it ("Macrodantin")

    def as_dict(self) -> dict[str, Any]:
        return {"substance": self.substance, "written": self.written, "kind": self.kind, "reaction": self.reaction,
                "source": self.source.as_dict(), "conflict": self.conflict}


@dataclass(frozen=True)
class Reading:
    value: str
    unit: str
    date: date
    source: Source

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "unit": self.unit, "date": self.date.isoformat(), "source": self.source.as_dict()}


@dataclass(frozen=True)
class Trend:
    """A vital sign or result: the latest reading first, then the ones before it (at most three in all)."""

    name: str
    readings: tuple[Reading, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "latest": self.readings[0].as_dict(),
                "previous": [r.as_dict() for r in self.readings[1:]]}


@dataclass(frozen=True)
class PlanLine:
    text: str
    source: Source

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "source": self.source.as_dict()}


@dataclass(frozen=True)
class LastPlan:
    encounter_id: int
    date: date
    reason: str
    lines: tuple[PlanLine, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"encounter_id": self.encounter_id, "date": self.date.isoformat(), "reason": self.reason,
                "lines": [line.as_dict() for line in self.lines]}


@dataclass(frozen=True)
class FollowUp:
    text: str  # the sentence that asks for it
    due: date
    status: str  # "due" or "overdue"
    source: Source

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "due": self.due.isoformat(), "status": self.status,
                "source": self.source.as_dict()}


@dataclass(frozen=True)
class NoteRef:
    """A note the summary does not draw on: a draft not yet accepted, or an accepted version not summarised."""

    encounter_id: int
    note_id: int
    note_version_id: int
    date: date
    kind: str
    status: str  # drafts: "draft" or "edit of an accepted note"; not summarised: "pending" or "failed"

    def as_dict(self) -> dict[str, Any]:
        return {"encounter_id": self.encounter_id, "note_id": self.note_id, "note_version_id": self.note_version_id,
                "date": self.date.isoformat(), "kind": self.kind, "status": self.status}


@dataclass(frozen=True)
class PatientSummary:
    patient_id: int
    accepted_notes: int
    problems: tuple[Problem, ...] = ()
    medications: tuple[Medication, ...] = ()  # current (active) ones
    stopped_medications: tuple[Medication, ...] = ()  # stopped ones, with their history
    allergies: tuple[Allergy, ...] = ()
    vitals: tuple[Trend, ...] = ()
    results: tuple[Trend, ...] = ()
    last_plan: LastPlan | None = None
    follow_ups: tuple[FollowUp, ...] = ()
    open_drafts: tuple[NoteRef, ...] = ()
    not_summarised: tuple[NoteRef, ...] = ()
    problems_resolved: tuple[Problem, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return self.accepted_notes == 0

    def sources(self) -> list[Source]:
        """Every source link in the summary (for checks: each is a sentence of an accepted note version)."""
        out: list[Source] = [p.source for p in (*self.problems, *self.problems_resolved)]
        for m in (*self.medications, *self.stopped_medications):
            out += [m.source, *(h.source for h in m.history)]
        out += [a.source for a in self.allergies]
        out += [r.source for t in (*self.vitals, *self.results) for r in t.readings]
        out += [line.source for line in self.last_plan.lines] if self.last_plan else []
        out += [f.source for f in self.follow_ups]
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "accepted_notes": self.accepted_notes,
            "problems": [p.as_dict() for p in self.problems],
            "resolved_problems": [p.as_dict() for p in self.problems_resolved],
            "medications": [m.as_dict() for m in self.medications],
            "stopped_medications": [m.as_dict() for m in self.stopped_medications],
            "allergies": [a.as_dict() for a in self.allergies],
            "vitals": [t.as_dict() for t in self.vitals],
            "results": [t.as_dict() for t in self.results],
            "last_plan": self.last_plan.as_dict() if self.last_plan else None,
            "follow_ups": [f.as_dict() for f in self.follow_ups],
            "open_drafts": [d.as_dict() for d in self.open_drafts],
            "not_summarised": [n.as_dict() for n in self.not_summarised],
        }
