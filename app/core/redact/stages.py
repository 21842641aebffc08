"""The redaction of one text, as declared stages over one context: detectors, then vetoes, then merge.

- Detectors each add what they find to `context.found`; a later one may read what the earlier ones found (the
  proper-noun rules lean on names already found for speaker labels and lists).
- Vetoes drop or reshape weak detections: a word that is not the name's, a clinical term, the allow list, a
  confidence below the setting. Lower-case names are widened before the last veto, which judges their new extent.
- Merge spreads names to their later mentions, takes in postcodes, merges overlaps into one span per identifier,
  and proposes the placeholder of a known person for a misheard name (`Detection.aliases`).

The order is the behaviour: every stage sees what the stages before it left. No stage changes the encounter's map;
it is read through `context.aliases`, which only records proposals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property

from app.core.redact.base import Span
from app.core.redact.intervals import Ranges
from app.core.redact.known import ProposedAliases, find_known, propose_misheard_aliases
from app.core.redact.lexicon import Lexicon
from app.core.redact.rules_dates import find_dates
from app.core.redact.rules_dialogue import find_dialogue_names
from app.core.redact.rules_facilities import find_facilities
from app.core.redact.rules_ids import find_identifiers
from app.core.redact.rules_locations import find_locations, find_spoken_addresses, with_postcode
from app.core.redact.rules_names import Word, find_names, is_lowercase_text, words_of
from app.core.redact.rules_ner import NerHit, entities_kept
from app.core.redact.rules_people import find_people
from app.core.redact.rules_proper import find_proper_nouns
from app.core.redact.spans import filter_spans, merge_overlaps, propagate_mentions, trim
from app.core.redact.spoken import ShadowText
from app.core.redact.vetoes_clinical import eponym_before_head, outside_protected, widen_lowercase_names
from app.core.redact.vetoes_names import (
    is_bare_title,
    without_charting_words,
    without_leading_word,
    without_role_word,
)


@dataclass
class RedactionContext:
    """What the stages of one text's redaction read: the text in its forms, the word lists, the model's entities,
    the encounter's known people (`aliases`, None without a map), and what the detectors found so far."""

    text: str
    lexicon: Lexicon
    min_confidence: float
    ner_hits: list[NerHit]
    aliases: ProposedAliases | None
    words: list[Word] = field(init=False)
    shadow: ShadowText = field(init=False)  # spoken numbers as digits
    lower: bool = field(init=False)  # dictation without capitals
    found: list[Span] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.words = words_of(self.text)
        self.shadow = ShadowText(self.text)
        self.lower = is_lowercase_text(self.text)

    # Indexed once per text: every span is checked against them (scanning them per span was quadratic).
    @cached_property
    def protected(self) -> Ranges:
        """Where the clinical terms sit."""
        return Ranges(self.lexicon.protected_ranges(self.text, self._norm_words))

    @cached_property
    def allowed(self) -> Ranges:
        """Where the allow list's terms sit."""
        hits = self.lexicon.allow.find(self.text, self._norm_words) if self.lexicon.allow else []
        return Ranges((h.start, h.end) for h in hits)

    @cached_property
    def _norm_words(self) -> list[tuple[int, int, str]]:
        return [(w.start, w.end, w.norm) for w in self.words]


Detector = Callable[[RedactionContext], Iterable[Span]]
Step = Callable[[RedactionContext, list[Span]], list[Span]]


# ---- detectors: each returns what it finds, added to `context.found` ----
def model_entities(c: RedactionContext) -> Iterable[Span]:
    return entities_kept(c.text, c.ner_hits, c.lexicon)


def structured_identifiers(c: RedactionContext) -> Iterable[Span]:
    return find_identifiers(c.shadow)


def dates(c: RedactionContext) -> Iterable[Span]:
    return find_dates(c.shadow)


def addresses(c: RedactionContext) -> Iterable[Span]:
    return find_locations(c.text)


def places_of_care(c: RedactionContext) -> Iterable[Span]:
    return find_facilities(c.text, c.lexicon.names.english, c.lexicon.clinical_words)


def spoken_addresses(c: RedactionContext) -> Iterable[Span]:
    return find_spoken_addresses(c.shadow)


def names(c: RedactionContext) -> Iterable[Span]:
    return find_names(c.text, c.words, c.lexicon)


def people(c: RedactionContext) -> Iterable[Span]:
    return find_people(c.text, c.words, c.lexicon, c.lower)


def dialogue(c: RedactionContext) -> Iterable[Span]:
    return find_dialogue_names(c.text, c.lexicon, c.lower)


def proper_nouns(c: RedactionContext) -> Iterable[Span]:
    return find_proper_nouns(c.text, c.words, c.lexicon.names, c.found)


def deny_list(c: RedactionContext) -> Iterable[Span]:
    for hit in c.lexicon.deny_matcher.find(c.text) if c.lexicon.deny_matcher else []:
        term = c.text[hit.start : hit.end]
        yield Span(hit.start, hit.end, c.lexicon.deny_kind(term), term, 1.0, "deny")


def known_people(c: RedactionContext) -> Iterable[Span]:
    return find_known(c.text, c.aliases, c.lexicon.names) if c.aliases is not None else []


# ---- vetoes: each returns the spans that remain ----
def word_edges(c: RedactionContext, spans: list[Span]) -> list[Span]:
    """Spaces and punctuation at the edges, a relative's or clinician's role or a sentence's first word before a
    name, charting words around a name in capitals, a title alone."""
    names = c.lexicon.names
    tidy = (trim(c.text, without_leading_word(c.text, without_role_word(c.text, s), names)) for s in spans)
    kept = (without_charting_words(c.text, t, names) for t in tidy if t is not None)
    return [t for t in kept if t is not None and not is_bare_title(t)]


def clinical_terms(c: RedactionContext, spans: list[Span]) -> list[Span]:
    """A weak detection keeps only what lies outside a clinical term, and none is an eponym before a head word."""
    names = c.lexicon.names
    outside = (outside_protected(c.text, s, c.protected, names) for s in spans)
    return [t for t in outside if t is not None and not eponym_before_head(c.text, t, names)]


def lowercase_names_widened(c: RedactionContext, spans: list[Span]) -> list[Span]:
    return widen_lowercase_names(c.text, c.words, spans, c.lexicon.names) if c.lower else spans


def allowed_protected_unsure(c: RedactionContext, spans: list[Span]) -> list[Span]:
    """The allow list, clinical terms against weak sources, and the minimum confidence."""
    return filter_spans(spans, c.allowed, c.protected, c.min_confidence)


# ---- merge ----
def later_mentions(c: RedactionContext, spans: list[Span]) -> list[Span]:
    return spans + propagate_mentions(c.text, c.words, spans, c.allowed, c.protected, c.lexicon.names)


def postcodes(c: RedactionContext, spans: list[Span]) -> list[Span]:
    return [with_postcode(c.text, s) for s in spans]


def one_span_per_identifier(c: RedactionContext, spans: list[Span]) -> list[Span]:
    return merge_overlaps(c.text, spans)


def misheard_known_names(c: RedactionContext, spans: list[Span]) -> list[Span]:
    """Proposes aliases only: the spans pass unchanged."""
    if c.aliases is not None:
        propose_misheard_aliases(spans, c.aliases, c.lexicon.names.is_name_word)
    return spans


DETECTORS: tuple[Detector, ...] = (
    model_entities,
    structured_identifiers,
    dates,
    addresses,
    places_of_care,
    spoken_addresses,
    names,
    people,
    dialogue,
    proper_nouns,
    deny_list,
    known_people,
)
VETOES: tuple[Step, ...] = (word_edges, clinical_terms, lowercase_names_widened, allowed_protected_unsure)
MERGE: tuple[Step, ...] = (later_mentions, postcodes, one_span_per_identifier, misheard_known_names)


def run_stages(context: RedactionContext, done: Callable[[float], None] | None = None) -> list[Span]:
    """The spans of the context's text, through every stage in order. `done` gets the fraction of the stages done."""
    total = len(DETECTORS) + len(VETOES) + len(MERGE)
    for k, detector in enumerate(DETECTORS, 1):
        context.found.extend(detector(context))
        if done is not None:
            done(k / total)
    spans = context.found
    for k, step in enumerate((*VETOES, *MERGE), len(DETECTORS) + 1):
        spans = step(context, spans)
        if done is not None:
            done(k / total)
    return spans
