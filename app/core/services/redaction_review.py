"""Redaction with the doctor's review: detect → the doctor's changes (keep a false positive, mark a missed
identifier) → approve → the encounter's map saved. The use case the window's review panel adapts.

A `ReviewSession` is a value: the encounter's reference date, its saved map as JSON and the date-offset setting.
Every step builds its own `PseudonymMap` from that JSON, so the steps can run on any thread and no map object is
shared between threads (the redaction lane detects and renders, the LLM lane re-identifies from the approved JSON).
What leaves the session is an `Approved` value: the exact text approved, what the model sees, and the map.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from app.core.redact.base import Alias, Kind, Redactor, Span, manual_span
from app.core.redact.pseudonyms import PseudonymMap, render
from app.core.storage import Repositories


@dataclass(frozen=True)
class Approved:
    text: str  # the transcript exactly as approved
    redacted: str  # what the model sees
    map_json: str
    hidden: int  # identifiers hidden


@dataclass(frozen=True)
class Detected:
    spans: list[Span]
    redacted: str  # the preview with every detected identifier hidden
    # Misheard names of people the encounter knows: they keep that person's placeholder in the preview and in the
    # approved text alike (applied to each step's own copy of the map).
    aliases: tuple[Alias, ...] = ()


@dataclass(frozen=True)
class RedactedQuestion:
    redacted: str
    map_json: str  # the encounter's map, with any new person in the question added


@dataclass(frozen=True)
class ReviewSession:
    reference: date | None
    map_json: str | None
    date_offsets: bool = True

    def pseudonyms(self) -> PseudonymMap:
        """A fresh copy of the encounter's map (a new one when the encounter has none yet)."""
        if self.map_json:
            return PseudonymMap.from_json(self.map_json)
        return PseudonymMap(self.reference, self.date_offsets)

    def adopt(self, map_json: str) -> ReviewSession:
        return replace(self, map_json=map_json)

    def detect(self, redactor: Redactor, text: str, progress: Callable[[float], None] | None = None) -> Detected:
        """`progress` gets the fraction done (0..1) when the redactor reports it: a long pasted history takes
        seconds."""
        pseudonyms = self.pseudonyms()
        if progress is not None and _reports_progress(redactor):
            detection = redactor.detect(text, pseudonyms, progress=progress)  # type: ignore[call-arg]
        else:
            detection = redactor.detect(text, pseudonyms)
        spans = list(detection.spans)
        pseudonyms.add_aliases(detection.aliases)  # the preview shows a misheard known name as that person
        return Detected(spans, render(text, spans, pseudonyms).redacted_text, tuple(detection.aliases))

    def _with(self, aliases: Sequence[Alias]) -> PseudonymMap:
        pseudonyms = self.pseudonyms()
        pseudonyms.add_aliases(aliases)
        return pseudonyms

    def preview(self, text: str, spans: Sequence[Span], aliases: Sequence[Alias] = ()) -> str:
        return render(text, list(spans), self._with(aliases)).redacted_text

    def approve(self, text: str, spans: Sequence[Span], aliases: Sequence[Alias] = ()) -> Approved:
        """The text as the doctor approved it; a misheard known name keeps its person's placeholder, as previewed."""
        pseudonyms = self._with(aliases)
        result = render(text, list(spans), pseudonyms)
        return Approved(text, result.redacted_text, pseudonyms.to_json(), len(result.spans))

    def redact_question(self, redactor: Redactor, question: str) -> RedactedQuestion:
        """A chat question redacted with the encounter's map: the same person keeps the same placeholder."""
        pseudonyms = self.pseudonyms()
        result = redactor.redact(question, pseudonyms)
        return RedactedQuestion(result.redacted_text, pseudonyms.to_json())


@dataclass
class ReviewChoices:
    """The doctor's changes to a detection: detected spans kept in the text, identifiers marked by hand."""

    text: str = ""
    spans: list[Span] = field(default_factory=list)
    kept: set[int] = field(default_factory=set)  # indexes into `spans` left in the text
    aliases: tuple[Alias, ...] = ()  # from the detection: misheard names of known people (see `Detected`)

    def active(self) -> list[Span]:
        return [s for i, s in enumerate(self.spans) if i not in self.kept]

    def toggle(self, index: int) -> bool:
        """Keep a detected identifier in the text (a false positive), or hide it again. False when out of range."""
        if not 0 <= index < len(self.spans):
            return False
        self.kept ^= {index}
        return True

    def mark(self, start: int, end: int, kind: str) -> None:
        """A missed identifier marked by the doctor (raises InputError for a selection outside the text)."""
        span = manual_span(self.text, start, end, Kind.parse(kind))
        kept_spans = {id(s) for i, s in enumerate(self.spans) if i in self.kept}
        self.spans = sorted([*self.spans, span], key=lambda s: (s.start, s.end))
        self.kept = {i for i, s in enumerate(self.spans) if id(s) in kept_spans}


def _reports_progress(redactor: Redactor) -> bool:
    import inspect

    return "progress" in inspect.signature(redactor.detect).parameters


def save_map(repos: Repositories, encounter_id: int, map_json: str) -> None:
    """Run on the store's thread."""
    repos.redaction_maps.save(encounter_id, map_json)
