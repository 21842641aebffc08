"""What every redaction engine promises: identifier kinds, detected spans, and the `Redactor` protocol.

Offsets are Python string offsets into the text given to the engine (end exclusive), so `text[start:end]` is
the identifier. Spans never carry anything but what was in the text: they are shown to the doctor, never logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from app.core.errors import InputError

if TYPE_CHECKING:
    from app.core.redact.pseudonyms import PseudonymMap


class Kind(StrEnum):
    """The 18 HIPAA Safe Harbor identifier kinds, grouped the way the placeholders name them."""

    NAME = "NAME"  # patients, relatives, clinicians
    LOCATION = "LOCATION"  # street address, city, ZIP, hospital and clinic names: anything smaller than a state
    DATE = "DATE"  # every element of a date but the year
    AGE = "AGE"  # only ages over 89
    PHONE = "PHONE"
    FAX = "FAX"
    EMAIL = "EMAIL"
    SSN = "SSN"
    MRN = "MRN"
    HEALTH_PLAN_ID = "HEALTH_PLAN_ID"
    ACCOUNT = "ACCOUNT"
    LICENSE = "LICENSE"  # certificate and licence numbers
    VEHICLE = "VEHICLE"  # VIN, licence plate
    DEVICE = "DEVICE"  # device identifiers and serial numbers
    URL = "URL"
    IP = "IP"
    BIOMETRIC = "BIOMETRIC"  # finger, voice, retina prints referred to by an identifier
    PHOTO = "PHOTO"  # full-face photographs and comparable images referred to by file or identifier
    ID = "ID"  # any other unique identifying number, characteristic or code

    @classmethod
    def parse(cls, value: str) -> Kind:
        try:
            return cls(value.strip().upper().replace(" ", "_").replace("-", "_"))
        except ValueError:
            known = ", ".join(k.value for k in cls)
            raise InputError(f"Unknown identifier kind '{value[:40]}'", f"Use one of: {known}") from None


# Placeholder labels: finer than kinds where the model benefits (who a name belongs to, what a place is).
DEFAULT_LABEL: dict[Kind, str] = {
    Kind.NAME: "PATIENT",
    Kind.LOCATION: "LOCATION",
    Kind.HEALTH_PLAN_ID: "PLAN_ID",
}
NAME_LABELS = ("PATIENT", "CLINICIAN", "RELATIVE")
LOCATION_LABELS = ("FACILITY", "ADDRESS", "ZIP", "LOCATION")


def default_label(kind: Kind) -> str:
    return DEFAULT_LABEL.get(kind, kind.value)


@dataclass(frozen=True)
class Span:
    """One detected (or doctor-marked) identifier."""

    start: int
    end: int
    kind: Kind
    text: str
    confidence: float = 1.0
    source: str = "rule"  # which detector found it: "ner", "rule:phone", "deny", "manual", "known" …
    label: str = ""  # placeholder label; empty means the kind's default

    def __post_init__(self) -> None:
        if self.start < 0 or self.end <= self.start:
            raise ValueError(f"bad span offsets {self.start}..{self.end}")
        if not self.label:
            object.__setattr__(self, "label", default_label(self.kind))

    @property
    def length(self) -> int:
        return self.end - self.start

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end

    def moved(self, start: int, end: int, text: str) -> Span:
        return replace(self, start=start, end=end, text=text)

    def to_dict(self) -> dict[str, object]:
        return {
            "start": self.start,
            "end": self.end,
            "kind": self.kind.value,
            "text": self.text,
            "confidence": round(self.confidence, 3),
            "source": self.source,
            "label": self.label,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Span:
        return cls(
            start=int(data["start"]),  # type: ignore[call-overload]
            end=int(data["end"]),  # type: ignore[call-overload]
            kind=Kind.parse(str(data["kind"])),
            text=str(data.get("text", "")),
            confidence=float(data.get("confidence", 1.0)),  # type: ignore[arg-type]
            source=str(data.get("source", "manual")),
            label=str(data.get("label", "")),
        )


def manual_span(text: str, start: int, end: int, kind: Kind, label: str = "") -> Span:
    """A span the doctor marked by hand (the review screen's "mark missed")."""
    if not 0 <= start < end <= len(text):
        raise InputError("The marked range is outside the text", "Select the identifier again")
    return Span(start, end, kind, text[start:end], 1.0, "manual", label)


@dataclass(frozen=True)
class PlacedSpan:
    """A span as it appears in the redacted text: where its placeholder sits, so a review screen can link both."""

    span: Span
    placeholder: str  # e.g. "[PATIENT_1]" or "[DATE_2 (day +14)]"
    redacted_start: int
    redacted_end: int


@dataclass(frozen=True)
class Alias:
    """`span` names the person who already has `placeholder` in the encounter's map: a known name misheard
    ("Margaret Hallaway" for the patient "Margaret Holloway"), so it takes that placeholder, not a new one."""

    placeholder: str  # "PATIENT_1"
    span: Span


@dataclass(frozen=True)
class Detection:
    """What `Redactor.detect` found. Detecting only reads the encounter's map; `PseudonymMap.add_aliases` is the
    step that applies the aliases, in order, before the spans are rendered with that map."""

    spans: list[Span]  # non-overlapping, in text order
    aliases: tuple[Alias, ...] = ()


@dataclass
class RedactionResult:
    redacted_text: str
    spans: list[Span]  # the spans applied, in text order, non-overlapping
    placed: list[PlacedSpan] = field(default_factory=list)

    def spans_json(self) -> list[dict[str, object]]:
        """The CLI's span objects: offsets into the input text."""
        return [{"start": s.start, "end": s.end, "kind": s.kind.value, "text": s.text} for s in self.spans]


@runtime_checkable
class Redactor(Protocol):
    """Finds identifiers and replaces them with placeholders that are consistent within one encounter.

    One instance is used from one worker thread; it holds no state that changes between calls. `detect` changes
    nothing; `redact` changes only the map it is given (`pseudonyms`).
    """

    def detect(self, text: str, pseudonyms: PseudonymMap | None = None) -> Detection:
        """Identifiers in `text`, and the known people they are misheard names of. The encounter's known
        identifiers are found too; `pseudonyms` is read, never changed."""
        ...

    def redact(self, text: str, pseudonyms: PseudonymMap | None = None) -> RedactionResult:
        """`detect`, add its aliases to `pseudonyms`, then replace each span by its placeholder, recording new ones
        in `pseudonyms`."""
        ...
