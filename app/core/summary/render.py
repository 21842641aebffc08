"""The summary as text: for the terminal (`clinic-assistant patient summary`), with where each line comes from, and
compact for a drafting prompt (`prompt_text`), without sources, drafts or anything but what the notes recorded.
"""

from __future__ import annotations

from app.core.summary.items import Medication, NoteRef, PatientSummary, Source, Trend

NO_NOTES = "No accepted notes yet: there is nothing to summarise."


def _med(m: Medication) -> str:
    written = f" ({m.written})" if m.written and m.written.lower() != m.name else ""
    details = ", ".join(x for x in (m.dose, m.frequency) if x)
    return f"{m.name}{written}{' ' + details if details else ''}"


def _where(source: Source) -> str:
    where = f"{source.date.isoformat()}, encounter {source.encounter_id}, note {source.note_id}"
    return f"  [{where}: \"{source.sentence}\"]"


def _trend(t: Trend) -> str:
    latest, *before = t.readings
    text = f"{t.name} {latest.value}{(' ' + latest.unit) if latest.unit else ''} ({latest.date.isoformat()})"
    if before:
        text += "; before: " + ", ".join(f"{r.value} ({r.date.isoformat()})" for r in before)
    return text


def summary_text(summary: PatientSummary, *, sources: bool = True) -> str:
    """Readable lines; with `sources`, each item is followed by the note sentence it comes from."""
    if summary.empty:
        return NO_NOTES
    lines: list[str] = []

    def item(text: str, source: Source, conflict: bool = False) -> None:
        lines.append(f"- {text}{'  (CONFLICT: notes of the same date disagree)' if conflict else ''}")
        if sources:
            lines.append(_where(source))

    lines.append("Problems:" if summary.problems else "Problems: none recorded")
    for p in summary.problems:
        item(f"{p.name} (since {p.since.isoformat()})", p.source, p.conflict)
    lines.append("Medications:" if summary.medications else "Medications: none recorded")
    for m in summary.medications:
        item(f"{_med(m)} (since {m.since.isoformat()})", m.source, m.conflict)
        for change in m.history:
            lines.append(f"    {change.date.isoformat()} {change.change} {change.dose}".rstrip())
    if summary.stopped_medications:
        lines.append("Stopped medications:")
        for m in summary.stopped_medications:
            item(f"{_med(m)} (stopped {m.history[-1].date.isoformat() if m.history else ''})", m.source, m.conflict)
    lines.append("Allergies:" if summary.allergies else "Allergies: none recorded")
    for a in summary.allergies:
        reaction = f" ({a.reaction})" if a.reaction else ""
        kind = f" [{a.kind}]" if a.kind == "intolerance" else ""
        item(f"{a.substance}{reaction}{kind}", a.source, a.conflict)
    for title, trends in (("Vital signs", summary.vitals), ("Results", summary.results)):
        if trends:
            lines.append(f"{title}:")
            for t in trends:
                item(_trend(t), t.readings[0].source)
    if summary.last_plan:
        plan = summary.last_plan
        lines.append(f"Last assessment and plan ({plan.date.isoformat()}{', ' + plan.reason if plan.reason else ''}):")
        lines.extend(f"- {line.text}" for line in plan.lines)
    if summary.follow_ups:
        lines.append("Follow-ups:")
        for f in summary.follow_ups:
            item(f"{f.status} {f.due.isoformat()}: {f.text}", f.source)
    _refs(lines, "Open drafts (not yet accepted)", summary.open_drafts)
    _refs(lines, "Not summarised (facts not extracted)", summary.not_summarised)
    return "\n".join(lines)


def _refs(lines: list[str], title: str, refs: tuple[NoteRef, ...]) -> None:
    if refs:
        lines.append(f"{title}:")
        lines.extend(f"- {r.date.isoformat()} {r.kind} note {r.note_id} (encounter {r.encounter_id}): {r.status}"
                     for r in refs)


def prompt_text(summary: PatientSummary) -> str:
    """Compact, for the model: problems, medicines, allergies, latest readings, the last plan. No sources."""
    if summary.empty:
        return ""
    parts: list[str] = []
    if summary.problems:
        parts.append("Problems: " + "; ".join(p.name for p in summary.problems))
    if summary.medications:
        parts.append("Medications: " + "; ".join(_med(m) for m in summary.medications))
    stopped = [m for m in summary.stopped_medications if m.history]
    if stopped:
        parts.append("Stopped: " + "; ".join(f"{m.name} ({m.history[-1].date.isoformat()})" for m in stopped))
    if summary.allergies:
        parts.append("Allergies: " + "; ".join(a.substance for a in summary.allergies))
    readings = [_trend(t) for t in (*summary.vitals, *summary.results)]
    if readings:
        parts.append("Readings: " + "; ".join(readings))
    if summary.last_plan:
        plan = summary.last_plan
        parts.append(f"Last plan ({plan.date.isoformat()}): " + " ".join(line.text for line in plan.lines[:12]))
    return "\n".join(parts)
