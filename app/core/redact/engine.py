"""The redaction engine: spaCy's named-entity recogniser (en_core_web_sm) plus the rules in this package.

NER finds most person and place names; it misses most other identifiers (dates of birth, MRNs, phone numbers,
addresses), which the rules find from their formats and context words. Only the `ner` pipe is loaded (it has its
own embedding layer in this model; tagger, parser and lemmatizer are not needed), which halves the time per note.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from app.core.errors import CancelToken
from app.core.logs import text_stats
from app.core.redact.base import Kind, RedactionResult, Span
from app.core.redact.intervals import Ranges
from app.core.redact.known import alias_misheard_names, known_name_words, near_name_mentions
from app.core.redact.lexicon import Lexicon
from app.core.redact.name_words import FUNCTION_WORDS, TITLES_ABBREV, TITLES_WORD
from app.core.redact.ner import MODEL_NAME, NerFunction, chunks, load_spacy_ner
from app.core.redact.pseudonyms import PseudonymMap, render
from app.core.redact.rules_clinical import (
    NUMBER_WITH_UNIT,
    clinical_phrase,
    drug_not_place,
    eponym_before_head,
    outside_protected,
    widen_lowercase_names,
)
from app.core.redact.rules_dates import CALENDAR_WORDS, WEEKDAY_ABBREVIATIONS, find_dates
from app.core.redact.rules_facilities import FACILITY_WORDS, find_facilities
from app.core.redact.rules_ids import find_identifiers
from app.core.redact.rules_locations import find_locations, find_spoken_addresses
from app.core.redact.rules_names import (
    Word,
    find_names,
    is_lowercase_text,
    name_label,
    words_of,
)
from app.core.redact.rules_proper import MEDICAL_ENDINGS, find_proper_nouns
from app.core.redact.spans import filter_spans, find_mentions, merge_overlaps, trim
from app.core.redact.spoken import ShadowText

log = logging.getLogger(__name__)

Progress = Callable[[float], None]
"""Called with the fraction done (0 to 1), rising, ending at exactly 1.0: for a progress bar or a CLI percentage."""
# Where the NER ends and the rules begin on the progress scale: the model takes most of the time on a long text.
NER_SHARE = 0.7
# Pieces of a long text given to the model together: its parser works on sub-batches of 8 anyway (batch_size // 4),
# so groups of 8 report progress without costing speed, and give the same entities as one call (checked on 1 MB).
NER_GROUP = 8

_FACILITY_IN = re.compile(rf"\b(?:{FACILITY_WORDS})\b", re.IGNORECASE)
# State names (a state is not an identifier under Safe Harbor), and the single words of the two-word ones.
_STATE_WORDS = (
    "alabama alaska arizona arkansas california carolina colorado connecticut dakota delaware florida georgia "
    "hampshire hawaii idaho illinois indiana iowa island jersey kansas kentucky louisiana maine maryland "
    "massachusetts mexico michigan minnesota mississippi missouri montana nebraska nevada new north ohio oklahoma "
    "oregon pennsylvania rhode south tennessee texas utah vermont virginia west wisconsin wyoming"
)
US_STATES = frozenset(_STATE_WORDS.split()) | {
    "new hampshire",
    "new jersey",
    "new mexico",
    "north carolina",
    "north dakota",
    "rhode island",
    "south carolina",
    "south dakota",
    "west virginia",
}
_TITLE_PREFIX = re.compile(r"^(?:(?:mr|mrs|ms|mx|dr|prof|mister|missus|miss|doctor|professor|nurse)\b\.?\s*)+", re.I)

_POSTCODE_AFTER = re.compile(r",?\s(?:\d{4,5}(?:-\d{3,4})?|[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2})(?![\w/.%-])")


def _with_postcode(text: str, span: Span) -> Span:
    """A postcode right after a place is part of it: "Acquapendente 1021", "Canada 36523"."""
    if span.kind != Kind.LOCATION:
        return span
    m = _POSTCODE_AFTER.match(text, span.end)
    return span.moved(span.start, m.end(), text[span.start : m.end()]) if m else span


def _is_bare_title(span: Span) -> bool:
    """'Dr' in "This is Dr. Marsh" is not a name: a title alone identifies nobody (the name after it is kept)."""
    if span.kind != Kind.NAME or span.source in ("manual", "deny"):
        return False
    words = [w.strip(".").lower() for w in span.text.split()]
    return bool(words) and all(w in TITLES_ABBREV or w in TITLES_WORD for w in words)


def _share(progress: Progress | None, start: float, width: float) -> Progress | None:
    """A part of the progress scale: 0..1 of a stage becomes start..start+width of the whole."""
    if progress is None:
        return None
    return lambda f: progress(start + width * f)


class _Rising:
    """Passes a progress figure on only when it is higher than the last one, so the caller sees it rise."""

    def __init__(self, callback: Progress) -> None:
        self._callback = callback
        self._last = -1.0

    def __call__(self, fraction: float) -> None:
        fraction = min(1.0, fraction)
        if fraction > self._last:
            self._last = fraction
            self._callback(fraction)


class SpacyRedactor:
    """spaCy NER plus rules. One instance per worker thread; `detect`/`redact` keep no state between calls."""

    def __init__(
        self, ner: NerFunction | None, lexicon: Lexicon, min_confidence: float = 0.3, date_offsets: bool = True
    ) -> None:
        self._ner = ner
        self.lexicon = lexicon
        self.min_confidence = min_confidence
        self.date_offsets = date_offsets  # for maps this engine creates itself

    @classmethod
    def load(cls, models_dir: Path, lexicon: Lexicon, min_confidence: float = 0.3) -> SpacyRedactor:
        from app.core.installed_models import locate

        started = time.perf_counter()
        ner = load_spacy_ner(locate(MODEL_NAME, models_dir))
        log.info("spaCy NER loaded in %.2f s", time.perf_counter() - started)
        return cls(ner, lexicon, min_confidence)

    @classmethod
    def from_settings(cls, settings: Any, models_dir: Path) -> SpacyRedactor:
        """`settings` is the app's Settings (its `redaction` section is read)."""
        section = settings.redaction
        lexicon = Lexicon.build(section.allow, section.deny, section.use_default_lists)
        redactor = cls.load(models_dir, lexicon, section.min_confidence)
        redactor.date_offsets = section.date_offsets
        return redactor

    # ---- the Redactor protocol ----
    def detect(self, text: str, pseudonyms: PseudonymMap | None = None, progress: Progress | None = None) -> list[Span]:
        """`progress`, if given, is called with the fraction done as the model and then the rules go through."""
        if progress is None:
            return self.detect_many([text], pseudonyms)[0]
        report = _Rising(progress)
        spans = self._detect_batch([text], [pseudonyms], report)[0]
        report(1.0)
        return spans

    def redact(
        self, text: str, pseudonyms: PseudonymMap | None = None, progress: Progress | None = None
    ) -> RedactionResult:
        """`progress` as in `detect`; it reaches 1.0 once the placeholders are in."""
        pseudonyms = pseudonyms if pseudonyms is not None else self.new_map()
        if progress is None:
            return render(text, self.detect(text, pseudonyms), pseudonyms)
        report = _Rising(progress)
        spans = self.detect(text, pseudonyms, lambda f: report(f * 0.99))  # placing placeholders is the last 1 %
        result = render(text, spans, pseudonyms)
        report(1.0)
        return result

    def new_map(self) -> PseudonymMap:
        """An empty map for a new encounter, with this engine's date setting."""
        return PseudonymMap(date_offsets=self.date_offsets)

    def redact_many(
        self,
        texts: Iterable[str],
        pseudonyms_for: Callable[[int], PseudonymMap] | None = None,
        cancel: CancelToken | None = None,
        batch: int = 16,
    ) -> Iterable[RedactionResult]:
        """Results in order; each text gets its own map unless `pseudonyms_for(index)` gives one."""
        pending: list[str] = []
        index = 0

        def flush() -> Iterable[RedactionResult]:
            nonlocal index
            maps = [pseudonyms_for(index + k) if pseudonyms_for else self.new_map() for k in range(len(pending))]
            for k, (text, spans) in enumerate(zip(pending, self._detect_batch(pending, maps), strict=True)):
                yield render(text, spans, maps[k])
            index += len(pending)
            pending.clear()

        for text in texts:
            if cancel:
                cancel.raise_if_cancelled()
            pending.append(text)
            if len(pending) >= batch:
                yield from flush()
        if pending:
            yield from flush()

    def detect_many(self, texts: list[str], pseudonyms: PseudonymMap | None = None) -> list[list[Span]]:
        return self._detect_batch(texts, [pseudonyms] * len(texts))

    # ---- internals ----
    def _detect_batch(
        self, texts: list[str], maps: Sequence[PseudonymMap | None], progress: Progress | None = None
    ) -> list[list[Span]]:
        started = time.perf_counter()
        ner_hits = self._run_ner(texts, _share(progress, 0.0, NER_SHARE))
        total = sum(len(t) for t in texts) or 1
        out: list[list[Span]] = []
        done = 0
        for text, hits, m in zip(texts, ner_hits, maps, strict=True):
            step = _share(progress, NER_SHARE + (1 - NER_SHARE) * done / total, (1 - NER_SHARE) * len(text) / total)
            out.append(self._combine(text, hits, m, step))
            done += len(text)
        log.debug(
            "redaction of %d texts (%s) took %.1f ms",
            len(texts),
            text_stats(texts[0]) if len(texts) == 1 else "batch",
            (time.perf_counter() - started) * 1000,
        )
        return out

    def _run_ner(self, texts: list[str], progress: Progress | None = None) -> list[list[tuple[int, int, str]]]:
        if self._ner is None:
            return [[] for _ in texts]
        pieces: list[tuple[int, int, str]] = []  # (text index, offset, piece)
        for i, text in enumerate(texts):
            for offset, piece in chunks(text):
                pieces.append((i, offset, piece))
        if progress is None:
            results = self._ner([p for _i, _o, p in pieces]) if pieces else []
        else:
            results = []
            total = sum(len(p) for _i, _o, p in pieces) or 1
            done = 0
            for g in range(0, len(pieces), NER_GROUP):
                group = [p for _i, _o, p in pieces[g : g + NER_GROUP]]
                results += self._ner(group)
                done += sum(len(p) for p in group)
                progress(done / total)
        hits: list[list[tuple[int, int, str]]] = [[] for _ in texts]
        for (i, offset, _piece), ents in zip(pieces, results, strict=True):
            hits[i].extend((offset + a, offset + b, label) for a, b, label in ents)
        return hits

    def _combine(
        self,
        text: str,
        ner_hits: list[tuple[int, int, str]],
        pseudonyms: PseudonymMap | None,
        step: Progress | None = None,
    ) -> list[Span]:
        if not text.strip():
            return []
        # Rough shares of the rules' time on a long note, so a progress bar moves evenly.
        done: Progress = step or (lambda _f: None)
        words = words_of(text)
        shadow = ShadowText(text)
        done(0.1)
        spans: list[Span] = []
        spans += self._from_ner(text, ner_hits)
        spans += find_identifiers(shadow)
        done(0.2)
        spans += find_dates(shadow)
        spans += find_locations(text)
        done(0.3)
        spans += find_facilities(text, self.lexicon.names.english, self.lexicon.clinical_words)
        spans += find_spoken_addresses(shadow)
        done(0.4)
        spans += find_names(text, words, self.lexicon)
        done(0.5)
        spans += find_proper_nouns(text, words, self.lexicon.names, spans)
        spans += self._listed(text, pseudonyms)
        done(0.6)
        trimmed = [
            t
            for s in spans
            if (t := trim(text, self._drop_leading_word(text, s))) is not None and not _is_bare_title(t)
        ]
        norm_words = [(w.start, w.end, w.norm) for w in words]
        # Indexed once per text: every span is checked against them (scanning them per span was quadratic).
        protected = Ranges(self.lexicon.protected_ranges(text, norm_words))
        allowed = self.lexicon.allow.find(text, norm_words) if self.lexicon.allow else []
        allow = Ranges((h.start, h.end) for h in allowed)
        done(0.7)
        trimmed = [
            t
            for s in trimmed
            if (t := outside_protected(text, s, protected, self.lexicon.names)) is not None
            and not eponym_before_head(text, t, self.lexicon.names)
        ]
        if is_lowercase_text(text):
            trimmed = widen_lowercase_names(text, words, trimmed, self.lexicon.names)
        kept = filter_spans(trimmed, allow, protected, self.min_confidence)
        done(0.8)
        kept += self._propagate(text, words, kept, allow, protected)
        kept = [_with_postcode(text, s) for s in kept]
        merged = merge_overlaps(text, kept)
        done(0.9)
        if pseudonyms is not None:
            alias_misheard_names(merged, pseudonyms, self.lexicon.names.is_name_word)
        done(1.0)
        return merged

    def _drop_leading_word(self, text: str, span: Span) -> Span:
        """'Call Jane Doe' -> 'Jane Doe': a capitalised ordinary word that opens the sentence is not the name's."""
        if span.kind != Kind.NAME or span.source in ("manual", "deny", "known"):
            return span
        m = re.match(r"([A-Z][a-z]+)\s+(?=[A-Z])", span.text)
        if not m:
            return span
        word = m.group(1).lower()
        names = self.lexicon.names
        rest = re.match(r"[A-Za-z]+", span.text[m.end() :])
        follows_first_name = bool(rest) and names.is_first(rest.group().lower())  # type: ignore[union-attr]
        if word in names.english and not names.is_first(word) and follows_first_name:
            start = span.start + m.end()
            return span.moved(start, span.end, text[start : span.end])
        return span

    def _from_ner(self, text: str, hits: list[tuple[int, int, str]]) -> list[Span]:
        out: list[Span] = []
        lower = is_lowercase_text(text)
        names = self.lexicon.names
        for start, end, label in hits:
            value = text[start:end]
            if any(ch.isdigit() for ch in value) and label != "FAC":
                continue
            if label == "PERSON":
                prefix = _TITLE_PREFIX.match(value)
                if prefix:
                    start += prefix.end()
                    value = text[start:end]
                words = [w.lower() for w in re.findall(r"[^\W\d_]+", value)]
                if not words or all(w in FUNCTION_WORDS for w in words):
                    continue
                if clinical_phrase(value, names, self.lexicon.clinical_words, titled=prefix is not None):
                    continue  # "Chest x-ray", "Nares", "Mom", "mcg."
                if all(w in WEEKDAY_ABBREVIATIONS or w.rstrip("s") in CALENDAR_WORDS for w in words):
                    continue  # "dialysis Mon, Wed and Fri": the model took a day for a person
                if value.isupper() and len(value) <= 5 and not lower:
                    continue  # section headings and abbreviations: "HEENT", "PERRLA"
                listed = any(w in names.first or w in names.surnames for w in words) or (
                    len(words) > 1 and all(names.is_name_word(w) for w in words)
                )
                ambiguous_name = len(words) == 1 and names.is_name_word(words[0]) and value[:1].isupper()
                if not listed and not ambiguous_name and all(w in names.english for w in words):
                    continue  # "Discipline", "Princess Royal", "orchestra", "Mom": words, not a name
                if (
                    not listed
                    and len(words) == 1
                    and (MEDICAL_ENDINGS.search(words[0]) or drug_not_place(text, start, end))
                ):
                    continue  # "Lisinopril", "apixaban", "continue Ventolin"
                confidence = 0.6 if ambiguous_name and not listed else (0.85 if (listed or not lower) else 0.55)
                if end > start:
                    out.append(Span(start, end, Kind.NAME, value, confidence, "ner", name_label(text, start, end)))
            elif label in ("GPE", "LOC"):
                if value.isupper() and len(value) <= 5 and value not in ("NYC", "LA", "SF"):
                    continue  # "US", "COPD", "HTN": countries or abbreviations, not places smaller than a state
                if " " not in value and MEDICAL_ENDINGS.search(value) and not names.is_name_word(value.lower()):
                    continue  # "Warfarin", "Losartan"
                if " " not in value and value.lower() in names.english:
                    continue  # "anesthesia", "Liver", "Negative": clinical words the model took for places
                if clinical_phrase(value, names, self.lexicon.clinical_words):
                    continue  # "Oropharynx", "Inderal LA", "q.d.": clinical words the model took for places
                if value.lower() in US_STATES:
                    continue  # a state is not an identifier under Safe Harbor
                if drug_not_place(text, start, end):
                    continue  # "2 puffs of Ventolin": a brand-name drug the model took for a place
                out.append(Span(start, end, Kind.LOCATION, value, 0.75 if label == "GPE" else 0.6, "ner", "LOCATION"))
            elif label == "FAC" or (label == "ORG" and _FACILITY_IN.search(value)):
                if NUMBER_WITH_UNIT.search(value) or clinical_phrase(value, names, self.lexicon.clinical_words):
                    continue  # "Zoloft 10 years ago", "Cardiolite imaging": a drug or a test, not a building
                out.append(Span(start, end, Kind.LOCATION, value, 0.7, "ner", "FACILITY"))
        return out

    def _listed(self, text: str, pseudonyms: PseudonymMap | None) -> list[Span]:
        """Deny-list terms, and identifiers already known in this encounter (a name from an earlier note)."""
        out: list[Span] = []
        if self.lexicon.deny_matcher:
            for hit in self.lexicon.deny_matcher.find(text):
                kind = self.lexicon.deny_kind(text[hit.start : hit.end])
                out.append(Span(hit.start, hit.end, kind, text[hit.start : hit.end], 1.0, "deny"))
        if pseudonyms is not None:
            names = self.lexicon.names
            for entry, surface in pseudonyms.known_surfaces():
                forms = {surface}
                if entry.kind == Kind.NAME:  # "Quispe" alone, after "Zyanya Quispe" in an earlier note
                    forms |= {
                        w
                        for w in re.findall(r"[^\W\d_]{3,}", surface)
                        if w.lower() not in FUNCTION_WORDS and not names.known_word(w.lower())
                    }
                for form in forms:
                    if len(form.strip()) < 3:
                        continue
                    for a, b in find_mentions(text, form):
                        out.append(Span(a, b, entry.kind, text[a:b], 0.95, "known", entry.label))
            # A known name that the recogniser spelled a little wrong ("treadgol" for "Tredgold").
            owner = known_name_words(pseudonyms)
            for a, b, target in near_name_mentions(text, owner, names.known_word, names.is_name_word):
                entry = pseudonyms.entries[owner[target]]
                label = name_label(text, a, b)
                span = Span(a, b, Kind.NAME, text[a:b], 0.8, "known", label)
                if label == entry.label:  # "her son treadgol" is hidden too, but is not the patient
                    pseudonyms.alias(entry.placeholder, span)
                out.append(span)
        return out

    def _propagate(
        self,
        text: str,
        words: list[Word],
        spans: list[Span],
        allow: Ranges,
        protected: Ranges,
    ) -> list[Span]:
        """Every mention of a word of a name found elsewhere in the text ("stephanie morales ... thanks
        stephanie"). Words that are also English words ("green", "king") spread only with a capital letter."""
        names = self.lexicon.names
        found: dict[str, Span] = {}
        strong = ("rule:title", "rule:spelled", "known", "deny", "manual", "rule:names")
        for span in spans:
            if span.kind != Kind.NAME:
                continue
            for w in re.findall(r"[^\W\d_][\w'’-]*", span.text):
                norm = w.lower().rstrip("'’s") if w.lower().endswith(("'s", "’s")) else w.lower()
                if len(norm) < 3 or norm in FUNCTION_WORDS or norm in TITLES_ABBREV or norm in TITLES_WORD:
                    continue
                if w.isupper() and len(w) > 1:
                    continue  # "XYZ", "WNL": abbreviations spread nothing
                # Only words a name list knows, or names found by strong evidence, are looked for elsewhere.
                if span.source in strong or norm in names.first or norm in names.surnames:
                    found.setdefault(norm, span)
        if not found:
            return []
        lower_text = is_lowercase_text(text)
        out: list[Span] = []
        for w in words:
            source = found.get(w.norm)
            if source is None or (source.start <= w.start < source.end):
                continue
            ordinary = names.is_ambiguous(w.norm) or w.norm in names.english or "'" in w.norm
            # "randy gutierrez ... bye randy": an ambiguous first name spreads when its full name was certain.
            anchored = w.norm in names.first_ambiguous and any(
                t in names.first or t in names.surnames for t in re.findall(r"[a-z]+", source.text.lower())
            )
            if ordinary and (lower_text or not w.titlecase) and not anchored:
                continue
            candidate = Span(w.start, w.end, Kind.NAME, text[w.start : w.end], 0.7, "propagated", source.label)
            if not (allow.contains(w.start, w.end) or protected.contains(w.start, w.end)):
                out.append(candidate)
        return out
