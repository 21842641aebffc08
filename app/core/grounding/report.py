"""What a grounding check returns: each note sentence, the consultation sentences that support it, and its flags.

Offsets are character offsets: a sentence's and a flag's into the note, a support span's into the transcript, so
the window can highlight both texts and a script can check `note[start:end] == text`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

FlagKind = Literal["number", "medicine", "laterality", "negation", "age", "date"]
FLAG_KINDS: tuple[FlagKind, ...] = ("number", "medicine", "laterality", "negation", "age", "date")


@dataclass(frozen=True, slots=True)
class Span:
    """[start, end) in the transcript."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Flag:
    """A fact of the note that the consultation does not say, or says otherwise. `reason` reads at a glance:
    "500 mg: the consultation says 250 mg", "metformin: not mentioned"."""

    kind: FlagKind
    text: str
    start: int
    end: int
    reason: str


@dataclass(frozen=True, slots=True)
class SentenceGrounding:
    text: str
    start: int
    end: int
    support: list[Span] = field(default_factory=list)  # empty: nothing in the consultation supports the sentence
    flags: list[Flag] = field(default_factory=list)

    @property
    def supported(self) -> bool:
        return bool(self.support)


@dataclass(frozen=True, slots=True)
class GroundingReport:
    sentences: list[SentenceGrounding]

    @property
    def flags(self) -> list[Flag]:
        return [flag for sentence in self.sentences for flag in sentence.flags]

    @property
    def unsupported(self) -> list[SentenceGrounding]:
        return [s for s in self.sentences if not s.support]

    def as_dict(self) -> dict[str, Any]:
        """The JSON of `clinic-assistant check-note --json`."""
        return {
            "sentences": [
                {
                    "text": s.text,
                    "start": s.start,
                    "end": s.end,
                    "support": [{"start": p.start, "end": p.end} for p in s.support],
                    "flags": [
                        {"kind": f.kind, "text": f.text, "start": f.start, "end": f.end, "reason": f.reason}
                        for f in s.flags
                    ],
                }
                for s in self.sentences
            ]
        }
