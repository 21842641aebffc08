"""The medical vocabulary handed to the recogniser as hints, and the lookups the echo guard needs.

Terms come from the settings first (the doctor's own), then from the shipped, user-editable list
`resources/vocabulary/medical_terms.txt`. Only the first `prompt_max_terms` are used: every hint costs decoding
time, and a long hint list is what Whisper parrots back when it hears no speech (the echo guard's job).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from app.core.config import AsrSettings
from app.core.errors import ConfigError
from app.core.paths import resource

log = logging.getLogger(__name__)

VOCABULARY_FILE = ("vocabulary", "medical_terms.txt")
_WORD = re.compile(r"[\w'-]+", re.UNICODE)


def normalise_word(text: str) -> str:
    """Lower case without surrounding punctuation: how words are compared with vocabulary terms."""
    match = _WORD.search(text.lower())
    return match.group(0).strip("'-") if match else ""


def read_terms(path: Path) -> list[str]:
    """One term a line; `#` starts a comment line; blank lines are skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"The vocabulary file {path} cannot be read ({type(exc).__name__})",
            "Check that it is a UTF-8 text file with one term a line",
        ) from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


@dataclass(frozen=True)
class Vocabulary:
    """Terms in priority order. `prompt` is what the recogniser receives; the rest serves the echo guard."""

    terms: tuple[str, ...] = ()
    _word_rank: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for rank, term in enumerate(self.terms):
            for word in term.split():
                key = normalise_word(word)
                if key:
                    self._word_rank.setdefault(key, rank)

    @property
    def prompt(self) -> str:
        # Written as a sentence ("Amlodipine, atorvastatin, … ECG."): Whisper copies the prompt's style, and a bare
        # lower-case list made it drop capitals and full stops (and, on whole files, loop on a term).
        if not self.terms:
            return ""
        first = self.terms[0]
        return ", ".join([first[:1].upper() + first[1:], *self.terms[1:]]) + "."

    def rank(self, word: str) -> int | None:
        """The position in the prompt of the term this word belongs to, or None when it is not a term word."""
        return self._word_rank.get(normalise_word(word))

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self.rank(word) is not None


def load_vocabulary(asr: AsrSettings, file: Path | None = None) -> Vocabulary:
    """Settings terms, then the shipped list (when enabled); duplicates removed; capped at `prompt_max_terms`."""
    terms: list[str] = [t.strip() for t in asr.vocabulary if t.strip()]
    if asr.use_vocabulary_file:
        terms.extend(read_terms(file or resource(*VOCABULARY_FILE)))
    unique: list[str] = []
    seen: set[str] = set()
    for term in terms:
        key = term.lower()
        if key not in seen:
            seen.add(key)
            unique.append(term)
    chosen = tuple(unique[: asr.prompt_max_terms])
    log.debug("vocabulary: %d terms available, %d used as hints", len(unique), len(chosen))
    return Vocabulary(chosen)
