"""The patient summary as the rows the patient view lists: sections in the order a doctor reads them, each row in
plain words, with the date it was noted and the note it came from (a click opens that note at that sentence).

No widgets here: the rows are plain values, so the wording can be checked without a window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.core.summary.age import said_when
from app.core.summary.items import (
    Allergy,
    FollowUp,
    Medication,
    MedicationChange,
    NoteRef,
    PatientSummary,
    Problem,
    Source,
    Trend,
)

NO_NOTES = "No accepted notes yet, so there is nothing to summarise. Accept a note in an encounter and its facts " \
           "appear here."
SAME_DAY = "Notes of the same day disagree: both are shown. Check which is right."
ALLERGIC = "The patient is recorded as allergic to this medicine. Check it."
OVERDUE = "Overdue: no later accepted note yet."
NOTE_KINDS = {"soap": "SOAP note", "summary": "Summary", "letter": "Letter", "other": "Note"}
# What becomes of a note that is not summarised yet, in the doctor's words.
NOT_SUMMARISED = {"failed": "could not be summarised", "pending": "being summarised…"}
PLAN_LINES = 12


@dataclass(frozen=True)
class Row:
    text: str
    when: str = ""  # the date column
    link: Source | NoteRef | None = None  # what a click opens: a sentence of a note, or a whole note
    warning: str = ""  # set: the row is marked, this says why
    children: tuple[Row, ...] = ()
    expanded: bool = True

    @property
    def tip(self) -> str:
        parts = [self.warning] if self.warning else []
        if isinstance(self.link, Source):
            parts.append(f'From the note of {self.link.date.isoformat()}: "{self.link.sentence}"')
        if self.link is not None:
            parts.append("Press Enter or click to open it.")
        return "\n".join(parts)


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    rows: tuple[Row, ...]
    empty: str = "None recorded"  # said when there are no rows; "" hides the section then
    expanded: bool = True
    counted: bool = True  # the title says how many rows

    @property
    def heading(self) -> str:
        return f"{self.title} ({len(self.rows)})" if self.counted and self.rows else self.title


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _medicine(m: Medication) -> str:
    written = f" ({m.written})" if m.written and m.written.lower() != m.name.lower() else ""
    details = ", ".join(x for x in (m.dose, m.frequency) if x)
    return f"{_capital(m.name)}{written}{' ' + details if details else ''}"


def _change(change: MedicationChange) -> Row:
    details = ", ".join(x for x in (change.dose, change.frequency) if x)
    return Row(f"{_capital(change.change)}{': ' + details if details else ''}", change.date.isoformat(),
               change.source)


def _medication_row(m: Medication, allergens: set[str], stopped: bool = False) -> Row:
    warning = ALLERGIC if m.name in allergens and not stopped else (SAME_DAY if m.conflict else "")
    when = f"stopped {m.history[-1].date.isoformat()}" if stopped and m.history else f"since {m.since.isoformat()}"
    # A history of one entry says what the date column says already: folded, like the history of stopped ones.
    return Row(_medicine(m), when, m.source, warning, tuple(_change(c) for c in m.history),
               expanded=not stopped and len(m.history) > 1)


def _problem_row(p: Problem) -> Row:
    return Row(_capital(p.name), f"since {p.since.isoformat()}", p.source, SAME_DAY if p.conflict else "")


def _allergy_row(a: Allergy) -> Row:
    if a.kind == "none known":
        return Row("No known allergies", a.source.date.isoformat(), a.source, SAME_DAY if a.conflict else "")
    name = a.written if a.written and a.written.lower() != a.substance.lower() else a.substance
    text = _capital(name) + (f": {a.reaction}" if a.reaction else "") + (" (intolerance)" if a.kind == "intolerance"
                                                                          else "")
    return Row(text, a.source.date.isoformat(), a.source, SAME_DAY if a.conflict else "")


def _reading(value: str, unit: str) -> str:
    return f"{value} {unit}".strip()


def _trend_row(t: Trend) -> Row:
    latest, *before = t.readings
    text = f"{_capital(t.name)}: {_reading(latest.value, latest.unit)}"
    if before:
        text += "  (before: " + ", ".join(f"{r.value} on {r.date.isoformat()}" for r in before) + ")"
    readings = tuple(Row(_reading(r.value, r.unit), r.date.isoformat(), r.source) for r in t.readings)
    return Row(text, latest.date.isoformat(), latest.source, children=readings, expanded=False)


def _follow_up_row(f: FollowUp, today: date) -> Row:
    overdue = f.status == "overdue"
    status = f"Overdue (due {said_when(f.due, today)})" if overdue else f"Due {said_when(f.due, today)}"
    return Row(f"{status}: {f.text}", f"due {f.due.isoformat()}", f.source, OVERDUE if overdue else "")


def _note_row(ref: NoteRef, state: str) -> Row:
    return Row(f"{NOTE_KINDS.get(ref.kind, 'Note')}: {state}", ref.date.isoformat(), ref)


def sections(summary: PatientSummary, today: date) -> list[Section]:
    """The sections of a patient with accepted notes (see `NO_NOTES` for one without), then drafts and notes not
    summarised, which a patient without accepted notes may have too."""
    out: list[Section] = []
    if not summary.empty:
        allergens = {a.substance for a in summary.allergies}
        out += [
            Section("problems", "Active problems", tuple(_problem_row(p) for p in summary.problems)),
            Section("medications", "Current medicines",
                    tuple(_medication_row(m, allergens) for m in summary.medications)),
            Section("allergies", "Allergies", tuple(_allergy_row(a) for a in summary.allergies)),
            Section("vitals", "Vital signs (latest, then the ones before)",
                    tuple(_trend_row(t) for t in summary.vitals)),
            Section("results", "Results (latest, then the ones before)",
                    tuple(_trend_row(t) for t in summary.results), empty=""),
        ]
        plan = summary.last_plan
        if plan is not None:
            title = f"Last assessment and plan ({plan.date.isoformat()}{', ' + plan.reason if plan.reason else ''})"
            rows = tuple(Row(line.text, "", line.source) for line in plan.lines[:PLAN_LINES])
            out.append(Section("plan", title, rows, counted=False))
        else:
            out.append(Section("plan", "Last assessment and plan", ()))
        out += [
            Section("follow_ups", "Follow-ups due", tuple(_follow_up_row(f, today) for f in summary.follow_ups),
                    empty="None due"),
            Section("stopped", "Stopped medicines",
                    tuple(_medication_row(m, allergens, stopped=True) for m in summary.stopped_medications),
                    empty=""),
            Section("resolved", "Resolved problems", tuple(_problem_row(p) for p in summary.problems_resolved),
                    empty="", expanded=False),
        ]
    out += [
        Section("drafts", "Open drafts (not yet accepted)",
                tuple(_note_row(d, d.status) for d in summary.open_drafts), empty=""),
        Section("not_summarised", "Not summarised",
                tuple(_note_row(n, NOT_SUMMARISED.get(n.status, n.status)) for n in summary.not_summarised),
                empty=""),
    ]
    return [s for s in out if s.rows or s.empty]


def failed_notes(summary: PatientSummary) -> list[NoteRef]:
    """Accepted notes whose extraction failed: the ones Retry is for."""
    return [n for n in summary.not_summarised if n.status == "failed"]
