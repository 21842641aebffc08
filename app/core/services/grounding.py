"""Grounded drafts (issue #16): a drafted note, letter or answer checked against the consultation it was written
from. The use case the window's document panel and the CLI (`check-note`, `ask --json`) share.

`check_answer` is the check itself (see app/core/grounding). The rest is what a view of a note being written or
edited needs, kept here so that it is plain Python and tested without Qt: the note checked up to its last complete
sentence while it streams (`check_draft(..., complete=False)`), whether a check still describes the texts shown, the
note sentence at a place and the consultation sentences behind it (and the reverse), and the one-line list of the
facts to check.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from app.core.grounding import Flag, GroundingReport, SentenceGrounding, Span, ground

# Where a sentence of a note being written is known to be over: end punctuation before a space, or a line break
# (headings, bullets and list items end at the line's end). "38.2" and "e.g." inside a word do not end one.
_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n")
SHOWN_FLAGS = 6  # of the facts to check listed in one line; the rest are counted


def check_answer(transcript: str, note: str, extra_sources: Sequence[str] = ()) -> GroundingReport:
    """Each sentence of `note` linked to the `transcript` sentences that support it, with the facts the transcript
    does not say (or says otherwise) flagged. `extra_sources`: other texts a fact may come from (the patient's age
    and sex, a prior summary). No model call; tens of milliseconds for a long note."""
    return ground(note, transcript, extra_sources)


def complete_part(note: str) -> str:
    """`note` up to the end of its last complete sentence: what can be checked of a note still being written."""
    end = 0
    for match in _SENTENCE_END.finditer(note):
        end = match.end()
    return note[:end]


def demographics(date_of_birth: date | None, sex: str, on: date) -> str:
    """The patient's age and sex as a note would say them ("68-year-old woman"), for `extra_sources`: the record
    knows them though the consultation may not say them. "" when the record has no date of birth."""
    if date_of_birth is None or date_of_birth > on:
        return ""
    age = on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
    who = {"female": "woman", "male": "man"}.get(sex.strip().lower(), "patient")
    return f"{age}-year-old {who}"


@dataclass(frozen=True)
class CheckedAnswer:
    """A check and the texts it was made on. `complete` is False for a note still being written: then `note` is
    the part of it that was checked (up to its last complete sentence)."""

    note: str
    transcript: str
    report: GroundingReport
    complete: bool = True

    @property
    def flags(self) -> list[Flag]:
        return self.report.flags

    @property
    def unsupported(self) -> list[SentenceGrounding]:
        return self.report.unsupported

    def holds_for(self, note: str, transcript: str) -> bool:
        """Whether the check still describes these texts: the same consultation, and the same note (or, for a note
        being written, one that only grew after the part checked, so every offset is still right)."""
        same_note = note.startswith(self.note) if not self.complete else note == self.note
        return same_note and transcript == self.transcript

    def sentence_at(self, offset: int) -> SentenceGrounding | None:
        """The note sentence at `offset` (a click or the caret, at its start or end included)."""
        return next((s for s in self.report.sentences if s.start <= offset <= s.end), None)

    def sources_at(self, offset: int) -> list[Span]:
        """The transcript sentences that support the note sentence at `offset`."""
        sentence = self.sentence_at(offset)
        return list(sentence.support) if sentence is not None else []

    def uses_of(self, transcript_offset: int) -> tuple[Span | None, list[SentenceGrounding]]:
        """The transcript sentence at `transcript_offset` (among those some note sentence rests on) and the note
        sentences it supports: where what was said went in the note. (None, []) when nothing rests on it."""
        for sentence in self.report.sentences:
            for span in sentence.support:
                if span.start <= transcript_offset <= span.end:
                    users = [s for s in self.report.sentences if span in s.support]
                    return span, users
        return None, []


def check_draft(
    transcript: str, note: str, extra_sources: Sequence[str] = (), complete: bool = True
) -> CheckedAnswer:
    """Check a whole note (`complete`) or, while it is written, its complete sentences so far."""
    checked = note if complete else complete_part(note)
    report = check_answer(transcript, checked, extra_sources) if checked.strip() else GroundingReport([])
    return CheckedAnswer(checked, transcript, report, complete)


def facts_heading(count: int) -> str:
    return f"{count} {'fact' if count == 1 else 'facts'} to check"


def facts_to_check(report: GroundingReport, shown: int = SHOWN_FLAGS) -> str:
    """The flags in one line: "2 facts to check: 250 mg: the consultation says 500 mg; Lipitor: not mentioned".
    "" when there is none."""
    flags = report.flags
    if not flags:
        return ""
    reasons = "; ".join(flag.reason for flag in flags[:shown])
    more = f"; and {len(flags) - shown} more" if len(flags) > shown else ""
    return f"{facts_heading(len(flags))}: {reasons}{more}"
