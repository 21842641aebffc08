"""The patient summary from the facts of the patient's accepted notes: a pure, deterministic merge (no model call).

Notes are taken in date order; within a note, in the order of its text. The latest statement wins: a problem said
resolved leaves the list, a medicine stopped leaves the current list and keeps its history (started, dose changed,
stopped, each with the date and sentence of the note that said so). Two notes of the same date that disagree (a dose,
a problem's status, "no known allergies" beside a recorded allergy) are both shown, each marked as a conflict.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from app.core.summary.facts import (
    NONE_KNOWN,
    AllergyKind,
    Fact,
    FactKind,
    MedicationAction,
    ProblemStatus,
)
from app.core.summary.items import (
    Allergy,
    FollowUp,
    LastPlan,
    Medication,
    MedicationChange,
    NoteRef,
    PatientSummary,
    PlanLine,
    Problem,
    Reading,
    Source,
    Trend,
)
from app.core.summary.keys import problem_key

TREND_LENGTH = 3
_OFF = {MedicationAction.STOPPED.value, MedicationAction.TRIED.value}


@dataclass(frozen=True)
class NoteEntry:
    """One accepted note version and its facts."""

    encounter_id: int
    note_id: int
    note_version_id: int
    date: date
    reason: str
    facts: tuple[Fact, ...]

    def source(self, fact: Fact) -> Source:
        return Source(self.encounter_id, self.note_id, self.note_version_id, self.date, fact.start, fact.end,
                      fact.sentence)


Statement = tuple[NoteEntry, Fact]


def merge(
    patient_id: int,
    entries: Iterable[NoteEntry],
    today: date,
    *,
    open_drafts: Iterable[NoteRef] = (),
    not_summarised: Iterable[NoteRef] = (),
    accepted_notes: int | None = None,
) -> PatientSummary:
    """`accepted_notes`: how many accepted versions the patient has, summarised or not (default: the entries)."""
    notes = sorted(entries, key=lambda e: (e.date, e.encounter_id, e.note_id))
    by_kind: dict[FactKind, list[Statement]] = defaultdict(list)
    for entry in notes:
        for fact in sorted(entry.facts, key=lambda f: f.start):
            by_kind[fact.kind].append((entry, fact))
    active, resolved = _problems(by_kind[FactKind.PROBLEM])
    current, stopped = _medications(by_kind[FactKind.MEDICATION])
    allergens = {fact.name for _entry, fact in by_kind[FactKind.ALLERGY]}
    # a current medicine the patient is recorded as allergic to: shown, marked for the doctor
    current = tuple(replace(m, conflict=True) if m.name in allergens else m for m in current)
    return PatientSummary(
        patient_id=patient_id,
        accepted_notes=len(notes) if accepted_notes is None else accepted_notes,
        problems=active,
        problems_resolved=resolved,
        medications=current,
        stopped_medications=stopped,
        allergies=_allergies(by_kind[FactKind.ALLERGY]),
        vitals=_trends(by_kind[FactKind.VITAL]),
        results=_trends(by_kind[FactKind.RESULT]),
        last_plan=_last_plan(notes),
        follow_ups=_follow_ups(by_kind[FactKind.FOLLOW_UP], notes, today),
        open_drafts=tuple(open_drafts),
        not_summarised=tuple(not_summarised),
    )


def _per_note(statements: list[Statement], key: str) -> dict[str, list[list[Statement]]]:
    """Statements grouped by item, then by note (in date order)."""
    grouped: dict[str, list[list[Statement]]] = defaultdict(list)
    for entry, fact in statements:
        runs = grouped[problem_key(fact.name) if key == "problem" else fact.name]
        if runs and runs[-1][0][0] is entry:
            runs[-1].append((entry, fact))
        else:
            runs.append([(entry, fact)])
    return grouped


def _latest_date_group(runs: list[list[Statement]]) -> list[list[Statement]]:
    last = runs[-1][0][0].date
    return [run for run in runs if run[0][0].date == last]


def _problems(statements: list[Statement]) -> tuple[tuple[Problem, ...], tuple[Problem, ...]]:
    active: list[Problem] = []
    resolved: list[Problem] = []
    for runs in _per_note(statements, "problem").values():
        since = runs[0][0][0].date
        latest = [run[-1] for run in _latest_date_group(runs)]  # each note's last word on it
        statuses = {fact.action or ProblemStatus.ACTIVE.value for _entry, fact in latest}
        conflict = len(statuses) > 1
        for entry, fact in latest if conflict else latest[-1:]:
            problem = Problem(fact.written or fact.name, fact.action or ProblemStatus.ACTIVE.value, since,
                              entry.source(fact), conflict)
            (resolved if problem.status == ProblemStatus.RESOLVED else active).append(problem)
    order = sorted(active, key=lambda p: (-p.source.date.toordinal(), p.name))
    return tuple(order), tuple(sorted(resolved, key=lambda p: (-p.source.date.toordinal(), p.name)))


@dataclass
class _NoteState:
    entry: NoteEntry
    fact: Fact  # the last statement of the note (its source)
    action: str
    dose: str
    frequency: str


def _note_state(run: list[Statement]) -> _NoteState | None:
    taken = [(e, f) for e, f in run if f.action != MedicationAction.CONSIDERED]
    if not taken:
        return None  # only discussed as an option
    decisive = [(e, f) for e, f in taken if f.action not in ("", MedicationAction.TAKING)]
    entry, fact = (decisive or taken)[-1]
    dose = next((f.dose for _e, f in reversed(taken) if f.dose), "")
    frequency = next((f.frequency for _e, f in reversed(taken) if f.frequency), "")
    return _NoteState(entry, fact, fact.action or MedicationAction.TAKING.value, dose, frequency)


def _medications(statements: list[Statement]) -> tuple[tuple[Medication, ...], tuple[Medication, ...]]:
    current: list[Medication] = []
    stopped: list[Medication] = []
    for name, runs in _per_note(statements, "medication").items():
        states = [s for s in (_note_state(run) for run in runs) if s is not None]
        if not states:
            continue
        medication = _timeline(name, states)
        rivals = _same_day_rivals(states, medication)
        if rivals:
            medication = replace(medication, conflict=True)
        for item in (medication, *rivals):
            (current if item.status == "active" else stopped).append(item)
    return tuple(sorted(current, key=lambda m: m.name)), tuple(sorted(stopped, key=lambda m: m.name))


def _timeline(name: str, states: list[_NoteState]) -> Medication:
    history: list[MedicationChange] = []
    on, seen = False, False
    dose = frequency = ""
    since = states[0].entry.date
    for state in states:
        source = state.entry.source(state.fact)
        if state.action in _OFF:
            if on or not seen:
                history.append(MedicationChange("stopped", state.entry.date, state.dose or dose, state.frequency or
                                                frequency, source))
            on = False
        else:
            new_dose = state.dose or dose
            if not on:
                change = "restarted" if seen else {
                    MedicationAction.STARTED.value: "started", MedicationAction.INCREASED.value: "dose changed",
                    MedicationAction.DECREASED.value: "dose changed"}.get(state.action, "first recorded")
                history.append(MedicationChange(change, state.entry.date, new_dose, state.frequency or frequency,
                                                source))
                since = state.entry.date
            elif state.dose and dose and state.dose != dose:
                history.append(MedicationChange("dose changed", state.entry.date, new_dose,
                                                state.frequency or frequency, source))
            on = True
            dose = new_dose
        frequency = state.frequency or frequency
        seen = True
    last = states[-1]
    return Medication(name, last.fact.written or name, dose, frequency, "active" if on else "stopped", since,
                      last.entry.source(last.fact), tuple(history))


def _same_day_rivals(states: list[_NoteState], medication: Medication) -> list[Medication]:
    """Other notes of the latest date that disagree with the latest one: each shown too, both marked."""
    last = states[-1]
    rivals = []
    for state in states[:-1]:
        if state.entry.date != last.entry.date or state.entry is last.entry:
            continue
        off, last_off = state.action in _OFF, last.action in _OFF
        if off != last_off or (state.dose and last.dose and state.dose != last.dose):
            rivals.append(replace(medication, written=state.fact.written or medication.name, dose=state.dose,
                                  frequency=state.frequency, status="stopped" if off else "active",
                                  source=state.entry.source(state.fact), conflict=True))
    return rivals


def _allergies(statements: list[Statement]) -> tuple[Allergy, ...]:
    latest: dict[str, Statement] = {}
    for entry, fact in statements:
        latest[fact.name] = (entry, fact)
    none_known = latest.pop(NONE_KNOWN, None)
    items = [Allergy(f.name, f.action or AllergyKind.ALLERGY.value, f.value, e.source(f), written=f.written)
             for e, f in latest.values()]
    if none_known is not None:
        entry, fact = none_known
        newest = max((a.source.date for a in items), default=None)
        if newest is None:
            return (Allergy(NONE_KNOWN, AllergyKind.NONE_KNOWN.value, "", entry.source(fact)),)
        if entry.date >= newest:  # "no known allergies" said after (or as) an allergy was recorded: ask the doctor
            items = [replace(a, conflict=True) for a in items]
            items.append(Allergy(NONE_KNOWN, AllergyKind.NONE_KNOWN.value, "", entry.source(fact), conflict=True))
    return tuple(sorted(items, key=lambda a: a.substance))


def _trends(statements: list[Statement]) -> tuple[Trend, ...]:
    readings: dict[str, list[Reading]] = defaultdict(list)
    for entry, fact in statements:
        readings[fact.name].append(Reading(fact.value, fact.unit, entry.date, entry.source(fact)))
    return tuple(
        Trend(name, tuple(reversed(values))[:TREND_LENGTH]) for name, values in sorted(readings.items())
    )


def _last_plan(notes: list[NoteEntry]) -> LastPlan | None:
    for entry in reversed(notes):
        lines = tuple(PlanLine(f.sentence, entry.source(f)) for f in entry.facts if f.kind == FactKind.PLAN)
        if lines:
            return LastPlan(entry.encounter_id, entry.date, entry.reason, lines)
    return None


def _follow_ups(statements: list[Statement], notes: list[NoteEntry], today: date) -> tuple[FollowUp, ...]:
    out = []
    for entry, fact in statements:
        if any(other.date > entry.date for other in notes):
            continue  # seen again since: the follow-up happened
        due = entry.date + timedelta(days=fact.days)
        out.append(FollowUp(fact.sentence, due, "overdue" if due < today else "due", entry.source(fact)))
    return tuple(sorted(out, key=lambda f: f.due))
