"""Consistent placeholders per encounter, and the way back.

The same identifier always gets the same placeholder within an encounter ("John Smith", "Smith" and
"S M I T H" are all [PATIENT_1]; "March 3rd 1950" and "3/3/1950" are one [DATE_n]). Dates carry their distance in
days from the encounter's reference date, so the model can still reason about intervals: "[DATE_2 (day +14)]".
The map is serialisable (`to_json`/`from_json`) for the encrypted store, and `reidentify` turns the model's
placeholders back into the identifiers for display, including slightly reformatted ones ("[Patient 1]",
"PATIENT_1", "[patient_1]").
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from app.core.errors import InputError
from app.core.redact.base import Alias, Kind, PlacedSpan, RedactionResult, Span
from app.core.redact.rules_dates import parse_date
from app.core.redact.rules_names import spelled_key
from app.core.redact.spans import merge_overlaps

MAP_VERSION = 1
MAX_OFFSET_DAYS = 89 * 365  # a larger offset (a date of birth long ago) would reveal an age over 89


@dataclass
class Entry:
    placeholder: str  # "PATIENT_1"
    kind: Kind
    label: str
    key: str
    surfaces: list[str] = field(default_factory=list)  # forms seen in the text; the first is shown
    iso_date: str | None = None

    @property
    def display(self) -> str:
        return self.surfaces[0] if self.surfaces else self.placeholder


def identity_key(span: Span, reference: date | None) -> tuple[str, str | None]:
    """(key, iso date or None): what makes two mentions the same identifier."""
    if span.kind == Kind.NAME:
        return spelled_key(span.text), None
    if span.kind == Kind.DATE:
        parts = parse_date(span.text)
        if parts is not None:
            full = parts.as_date(reference.year if reference else None)
            if full is not None and parts.year is not None:
                return full.isoformat(), full.isoformat()
            if full is not None:
                return full.isoformat(), full.isoformat()
            return f"{parts.year or ''}-{parts.month or ''}-{parts.day or ''}", None
        return " ".join(re.findall(r"\w+", span.text.lower())), None
    if span.kind in (Kind.LOCATION, Kind.URL, Kind.EMAIL):
        return " ".join(re.findall(r"\w+", span.text.lower())), None
    return re.sub(r"[^0-9A-Za-z]", "", span.text).upper(), None


def _name_keys(text: str) -> set[str]:
    """The words of a name that partial matches compare: letters only, three or more."""
    return {k for w in text.split() if len(k := spelled_key(w)) >= 3}


_NONE = 1 << 62  # "no entry" for the minimum positions below


class PseudonymMap:
    """Placeholders of one encounter. Use from one thread at a time (the GUI's redaction worker).

    Surfaces are added through the map (`entry_for`, `alias`, `from_json`), which keeps the indexes below in step;
    an entry's `surfaces` list is for reading (a surface appended to it directly counts once the map is saved and
    read back)."""

    def __init__(self, reference_date: date | None = None, date_offsets: bool = True) -> None:
        self.reference_date = reference_date
        # Given: the visit's date. Otherwise the first date mentioned becomes the reference, and intervals say so.
        self.reference_is_visit = reference_date is not None
        self.date_offsets = date_offsets
        self.date_of_birth: str | None = None  # ISO; the patient's own, from the record (`known.seed_patient`)
        self.reference_placeholder: str | None = None  # the date that became the reference, when no visit was given
        self.entries: dict[str, Entry] = {}
        self._by_key: dict[tuple[Kind, str], str] = {}
        self._counters: dict[str, int] = {}
        # Indexes for `entry_for` and `_partial_name`, which scanned every surface of every entry per mention: a
        # long text naming many people took time proportional to the square of its length.
        self._position: dict[str, int] = {}  # placeholder -> its place in `entries`
        self._order: list[str] = []
        self._surface_set: dict[str, set[str]] = {}
        self._first_with_word: dict[str, int] = {}  # name word -> first NAME entry with a surface holding it
        self._first_with_only_word: dict[str, int] = {}  # ... with a surface that is that word alone

    def _index_entry(self, entry: Entry) -> None:
        if entry.placeholder in self._position:  # a stored map that reuses a placeholder: index it all again
            self._reindex()
            return
        self._position[entry.placeholder] = len(self._order)
        self._order.append(entry.placeholder)
        self._surface_set[entry.placeholder] = set()
        for surface in entry.surfaces:
            self._index_surface(entry, surface)

    def _reindex(self) -> None:
        self._position, self._order, self._surface_set = {}, [], {}
        self._first_with_word, self._first_with_only_word = {}, {}
        for entry in self.entries.values():
            self._index_entry(entry)

    def _index_surface(self, entry: Entry, surface: str) -> None:
        self._surface_set[entry.placeholder].add(surface)
        if entry.kind != Kind.NAME:
            return
        position = self._position[entry.placeholder]
        theirs = _name_keys(surface)
        for word in theirs:
            if position < self._first_with_word.get(word, _NONE):
                self._first_with_word[word] = position
            if len(theirs) == 1 and position < self._first_with_only_word.get(word, _NONE):
                self._first_with_only_word[word] = position

    def _add_surface(self, entry: Entry, surface: str) -> None:
        if surface not in self._surface_set[entry.placeholder]:
            entry.surfaces.append(surface)
            self._index_surface(entry, surface)

    def __len__(self) -> int:
        return len(self.entries)

    # ---- assigning ----
    def entry_for(self, span: Span) -> Entry:
        key, iso = identity_key(span, self.reference_date)
        found = self._lookup(span, key)
        if found is not None:
            entry = self.entries[found]
            self._add_surface(entry, span.text)
            self._by_key[(span.kind, key)] = found
            return entry
        label = span.label or span.kind.value
        self._counters[label] = self._counters.get(label, 0) + 1
        placeholder = f"{label}_{self._counters[label]}"
        entry = Entry(placeholder, span.kind, label, key, [span.text], iso)
        self.entries[placeholder] = entry
        self._index_entry(entry)
        self._by_key[(span.kind, key)] = placeholder
        if iso and self.reference_date is None:
            self.reference_date = date.fromisoformat(iso)
            self.reference_placeholder = placeholder  # later dates are said relative to this one
        return entry

    def alias(self, placeholder: str, span: Span) -> None:
        """`span` names the same thing as `placeholder` (a misspelled known name): give it that placeholder."""
        entry = self.entries[placeholder]
        key, _ = identity_key(span, self.reference_date)
        self._by_key[(span.kind, key)] = placeholder
        self._add_surface(entry, span.text)

    def add_aliases(self, aliases: Iterable[Alias]) -> None:
        """Apply the aliases a detection proposed (`Detection.aliases`), in the order it proposed them."""
        for proposed in aliases:
            self.alias(proposed.placeholder, proposed.span)

    def copy(self) -> PseudonymMap:
        """An independent copy, indexes included (a JSON round trip keeps each entry's own key, not the keys of
        the other spellings it was found by)."""
        return copy.deepcopy(self)

    def find(self, span: Span) -> str | None:
        """The placeholder `span` already has (same key, or a part of a known name), without assigning one."""
        return self._lookup(span, identity_key(span, self.reference_date)[0])

    def _lookup(self, span: Span, key: str) -> str | None:
        return self._by_key.get((span.kind, key)) or self._partial_name(span, key)

    def _partial_name(self, span: Span, key: str) -> str | None:
        """'Smith' after 'John Smith' (or the reverse) is the same person. Misheard spellings are matched by the
        redactor, which knows which words are real names (`known.propose_misheard_aliases`)."""
        if span.kind != Kind.NAME or len(key) < 3:
            return None
        # The first entry with a surface that holds the whole key as a word, or shares a word with the mention
        # when either of the two is a single word: the indexes give each word's first such entry.
        words = _name_keys(span.text)
        sharing = self._first_with_word if len(words) == 1 else self._first_with_only_word
        first = min([self._first_with_word.get(key, _NONE), *(sharing.get(w, _NONE) for w in words)])
        return self._order[first] if first < _NONE else None

    def rendered(self, entry: Entry) -> str:
        """The placeholder, with what a model needs to reason about it in words it understands (Safe Harbor allows
        ages under 90): "[DATE_1] (age 68)" for the patient's date of birth, "[DATE_2] (3 weeks before this visit)"
        for another date, never a raw day offset that no model turns into an age."""
        if entry.kind == Kind.DATE and self.date_offsets and entry.iso_date and self.reference_date:
            when = date.fromisoformat(entry.iso_date)
            if entry.iso_date == self.date_of_birth:
                return f"[{entry.placeholder}] ({age_words(when, self.reference_date)})"
            if self.reference_is_visit:
                return f"[{entry.placeholder}] ({interval_words(when, self.reference_date)})"
            if when != self.reference_date and self.reference_placeholder:
                anchor = f"[{self.reference_placeholder}]"
                return f"[{entry.placeholder}] ({interval_words(when, self.reference_date, anchor)})"
        if entry.kind == Kind.AGE:
            return f"[{entry.placeholder}] (90 or older)"
        return f"[{entry.placeholder}]"

    def known_surfaces(self) -> list[tuple[Entry, str]]:
        return [(entry, surface) for entry in self.entries.values() for surface in entry.surfaces]

    # ---- the way back ----
    def _pattern(self) -> re.Pattern[str] | None:
        labels = sorted({e.label for e in self.entries.values()}, key=len, reverse=True)
        if not labels:
            return None
        alternatives = "|".join(re.escape(label).replace("_", "[ _-]?") for label in labels)
        return re.compile(
            rf"[\[{{<]{{1,2}}\s*(?P<l1>{alternatives})[ _-]?(?P<n1>\d+)\b[^\]}}>\n]{{0,40}}[\]}}>]{{1,2}}"
            rf"|\b(?P<l2>{alternatives})_(?P<n2>\d+)\b",
            re.IGNORECASE,
        )

    def reidentify(self, text: str) -> str:
        """Placeholders in model output back to the identifiers, for display only."""
        pattern = self._pattern()
        if pattern is None:
            return text
        canonical = {re.sub(r"[ _-]", "", e.label.upper()): e.label for e in self.entries.values()}

        def swap(m: re.Match[str]) -> str:
            raw_label = m.group("l1") or m.group("l2")
            number = m.group("n1") or m.group("n2")
            label = canonical.get(re.sub(r"[ _-]", "", raw_label.upper()))
            entry = self.entries.get(f"{label}_{int(number)}") if label else None
            return entry.display if entry else m.group()

        return pattern.sub(swap, text)

    # ---- storage ----
    def to_json(self) -> str:
        return json.dumps(
            {
                "version": MAP_VERSION,
                "reference_date": self.reference_date.isoformat() if self.reference_date else None,
                "reference_is_visit": self.reference_is_visit,
                "date_of_birth": self.date_of_birth,
                "reference_placeholder": self.reference_placeholder,
                "date_offsets": self.date_offsets,
                "counters": self._counters,
                "entries": [
                    {
                        "placeholder": e.placeholder,
                        "kind": e.kind.value,
                        "label": e.label,
                        "key": e.key,
                        "surfaces": e.surfaces,
                        "date": e.iso_date,
                    }
                    for e in self.entries.values()
                ],
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, data: str) -> PseudonymMap:
        try:
            raw = json.loads(data)
            if raw.get("version") != MAP_VERSION:
                raise ValueError("version")
            ref = raw.get("reference_date")
            out = cls(date.fromisoformat(ref) if ref else None, bool(raw.get("date_offsets", True)))
            out.reference_is_visit = bool(raw.get("reference_is_visit", ref is not None))
            anchor = raw.get("reference_placeholder")
            out.reference_placeholder = str(anchor) if anchor else None
            dob = raw.get("date_of_birth")
            out.date_of_birth = str(dob) if dob else None
            out._counters = {str(k): int(v) for k, v in raw.get("counters", {}).items()}
            for item in raw["entries"]:
                entry = Entry(
                    str(item["placeholder"]),
                    Kind(item["kind"]),
                    str(item["label"]),
                    str(item["key"]),
                    [str(s) for s in item["surfaces"]],
                    str(item["date"]) if item.get("date") else None,
                )
                out.entries[entry.placeholder] = entry
                out._index_entry(entry)
                out._by_key[(entry.kind, entry.key)] = entry.placeholder
        except (ValueError, KeyError, TypeError, AttributeError):
            raise InputError(
                "The stored redaction map cannot be read", "Redact the encounter's text again to rebuild it"
            ) from None
        return out


def render(text: str, spans: list[Span], pseudonyms: PseudonymMap | None = None) -> RedactionResult:
    """Replace spans by placeholders. Also what the review screen calls after the doctor edits the spans
    (removed a false positive, marked a missed identifier): the map keeps earlier placeholders stable."""
    pseudonyms = pseudonyms if pseudonyms is not None else PseudonymMap()
    ordered = merge_overlaps(text, (s for s in spans if 0 <= s.start < s.end <= len(text)))
    pieces: list[str] = []
    placed: list[PlacedSpan] = []
    pos = 0
    out_len = 0
    for span in ordered:
        pieces.append(text[pos : span.start])
        out_len += span.start - pos
        placeholder = pseudonyms.rendered(pseudonyms.entry_for(span))
        pieces.append(placeholder)
        placed.append(PlacedSpan(span, placeholder, out_len, out_len + len(placeholder)))
        out_len += len(placeholder)
        pos = span.end
    pieces.append(text[pos:])
    return RedactionResult("".join(pieces), ordered, placed)


class StreamingReidentifier:
    """Re-identifies streamed model tokens: text that could still be the start of a placeholder is held back
    until it is complete (or clearly is not one), so a placeholder split across tokens is still replaced."""

    HOLD = 48

    def __init__(self, pseudonyms: PseudonymMap) -> None:
        self.pseudonyms = pseudonyms
        self._buffer = ""
        labels = {e.label for e in pseudonyms.entries.values()}
        self._prefixes = [label.lower() for label in labels]

    def feed(self, chunk: str) -> str:
        self._buffer += chunk
        cut = self._safe_cut()
        ready, self._buffer = self._buffer[:cut], self._buffer[cut:]
        return self.pseudonyms.reidentify(ready)

    def close(self) -> str:
        ready, self._buffer = self._buffer, ""
        return self.pseudonyms.reidentify(ready)

    def _safe_cut(self) -> int:
        buf = self._buffer
        open_at = max(buf.rfind("["), buf.rfind("{"), buf.rfind("<"))
        if open_at >= 0 and len(buf) - open_at <= self.HOLD and not re.search(r"[\]}>]", buf[open_at:]):
            return open_at
        # A bare "PATIENT_1" may be arriving word by word: hold a trailing word that could begin one.
        m = re.search(r"[A-Za-z_]+\d*$", buf)
        if m and any(
            p.startswith(m.group().lower().rstrip("0123456789_")) or m.group().lower().startswith(p)
            for p in self._prefixes
        ):
            return m.start()
        return len(buf)


def age_words(born: date, on: date) -> str:
    """ "age 68"; "age over 89" from 90 on (Safe Harbor: ages over 89 are one group)."""
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    if years < 0:
        return "date of birth"
    if years > 89:
        return "age over 89"
    if years < 2:
        months = (on.year - born.year) * 12 + on.month - born.month - (on.day < born.day)
        return f"age {months} month{'s' if months != 1 else ''}"
    return f"age {years}"


def interval_words(when: date, reference: date, anchor: str = "this visit") -> str:
    """How far `when` is from the reference, in the units a clinician would say: "3 weeks before this visit", or
    "2 weeks after [DATE_1]" when the reference is another date of the text (no visit date was given)."""
    days = (when - reference).days
    if days == 0:
        return f"the day of {anchor}" if anchor == "this visit" else f"the same day as {anchor}"
    span = abs(days)
    if span < 14:
        amount = f"{span} day{'s' if span != 1 else ''}"
    elif span < 60:
        amount = f"{round(span / 7)} weeks"
    elif span < 730:
        amount = f"{round(span / 30.44)} months"
    elif span > MAX_OFFSET_DAYS:
        amount = "over 89 years"  # a longer interval could reveal an age over 89
    else:
        early, late = sorted((when, reference))
        years = late.year - early.year - ((late.month, late.day) < (early.month, early.day))  # whole calendar years
        amount = f"{years} years"
    return f"{amount} {'before' if days < 0 else 'after'} {anchor}"
