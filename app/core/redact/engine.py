"""The redaction engine: spaCy's named-entity recogniser (en_core_web_sm), then the stages of `stages.py`.

NER finds most person and place names; it misses most other identifiers (dates of birth, MRNs, phone numbers,
addresses), which the rules find from their formats and context words. Only the `ner` pipe is loaded (it has its
own embedding layer in this model; tagger, parser and lemmatizer are not needed), which halves the time per note.
The model runs on a batch of texts at once; the stages then run on each text. `detect` only reads the encounter's
map; `redact` applies the detection's aliases to it and renders the placeholders.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from app.core.errors import CancelToken
from app.core.logs import text_stats
from app.core.redact.base import Detection, RedactionResult, Span
from app.core.redact.known import ProposedAliases
from app.core.redact.lexicon import Lexicon
from app.core.redact.ner import MODEL_NAME, NerFunction, chunks, load_spacy_ner
from app.core.redact.pseudonyms import PseudonymMap, render
from app.core.redact.rules_ner import NerHit
from app.core.redact.stages import RedactionContext, run_stages

log = logging.getLogger(__name__)

Progress = Callable[[float], None]
"""Called with the fraction done (0 to 1), rising, ending at exactly 1.0: for a progress bar or a CLI percentage."""
# Where the NER ends and the rules begin on the progress scale: the model takes most of the time on a long text.
NER_SHARE = 0.7
# Pieces of a long text given to the model together: its parser works on sub-batches of 8 anyway (batch_size // 4),
# so groups of 8 report progress without costing speed, and give the same entities as one call (checked on 1 MB).
NER_GROUP = 8
# Where the stages begin on a text's share of the rules' progress: its words and shadow text come first.
CONTEXT_SHARE = 0.1


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
    """spaCy NER plus the redaction stages. One instance per worker thread; it keeps no state between calls."""

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
    def detect(self, text: str, pseudonyms: PseudonymMap | None = None, progress: Progress | None = None) -> Detection:
        """`pseudonyms` is read, never changed. `progress`, if given, is called with the fraction done as the model
        and then the stages go through."""
        if progress is None:
            return self._detect_batch([text], [pseudonyms])[0]
        report = _Rising(progress)
        detection = self._detect_batch([text], [pseudonyms], report)[0]
        report(1.0)
        return detection

    def redact(
        self, text: str, pseudonyms: PseudonymMap | None = None, progress: Progress | None = None
    ) -> RedactionResult:
        """Detect, add the aliases to the map, render. `progress` as in `detect`; it reaches 1.0 once the
        placeholders are in."""
        pseudonyms = pseudonyms if pseudonyms is not None else self.new_map()
        if progress is None:
            return self._render(text, self.detect(text, pseudonyms), pseudonyms)
        report = _Rising(progress)
        detection = self.detect(text, pseudonyms, lambda f: report(f * 0.99))  # placing placeholders is the last 1 %
        result = self._render(text, detection, pseudonyms)
        report(1.0)
        return result

    def new_map(self) -> PseudonymMap:
        """An empty map for a new encounter, with this engine's date setting."""
        return PseudonymMap(date_offsets=self.date_offsets)

    def redact_many(
        self, texts: Iterable[str], cancel: CancelToken | None = None, batch: int = 16
    ) -> Iterable[RedactionResult]:
        """Results in order, each text with a map of its own."""
        pending: list[str] = []

        def flush() -> Iterable[RedactionResult]:
            maps = [self.new_map() for _text in pending]
            for text, detection, pseudonyms in zip(pending, self._detect_batch(pending, maps), maps, strict=True):
                yield self._render(text, detection, pseudonyms)
            pending.clear()

        for text in texts:
            if cancel:
                cancel.raise_if_cancelled()
            pending.append(text)
            if len(pending) >= batch:
                yield from flush()
        if pending:
            yield from flush()

    def detect_many(self, texts: list[str]) -> list[list[Span]]:
        """The spans of each text, with no encounter map (for scoring against gold spans)."""
        return [detection.spans for detection in self._detect_batch(texts, [None] * len(texts))]

    # ---- internals ----
    @staticmethod
    def _render(text: str, detection: Detection, pseudonyms: PseudonymMap) -> RedactionResult:
        """The one step that changes the map: the detection's aliases, then a placeholder for every span."""
        pseudonyms.add_aliases(detection.aliases)
        return render(text, detection.spans, pseudonyms)

    def _detect_batch(
        self, texts: list[str], maps: Sequence[PseudonymMap | None], progress: Progress | None = None
    ) -> list[Detection]:
        started = time.perf_counter()
        ner_hits = self._run_ner(texts, _share(progress, 0.0, NER_SHARE))
        total = sum(len(t) for t in texts) or 1
        out: list[Detection] = []
        done = 0
        for text, hits, m in zip(texts, ner_hits, maps, strict=True):
            step = _share(progress, NER_SHARE + (1 - NER_SHARE) * done / total, (1 - NER_SHARE) * len(text) / total)
            out.append(self._stages(text, hits, m, step))
            done += len(text)
        log.debug(
            "redaction of %d texts (%s) took %.1f ms",
            len(texts),
            text_stats(texts[0]) if len(texts) == 1 else "batch",
            (time.perf_counter() - started) * 1000,
        )
        return out

    def _stages(
        self, text: str, ner_hits: list[NerHit], pseudonyms: PseudonymMap | None, step: Progress | None = None
    ) -> Detection:
        if not text.strip():
            return Detection([])
        aliases = ProposedAliases(pseudonyms) if pseudonyms is not None else None
        context = RedactionContext(text, self.lexicon, self.min_confidence, ner_hits, aliases)
        if step is not None:
            step(CONTEXT_SHARE)
        spans = run_stages(context, _share(step, CONTEXT_SHARE, 1 - CONTEXT_SHARE))
        if step is not None:
            step(1.0)
        return Detection(spans, tuple(aliases.proposed) if aliases is not None else ())

    def _run_ner(self, texts: list[str], progress: Progress | None = None) -> list[list[NerHit]]:
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
        hits: list[list[NerHit]] = [[] for _ in texts]
        for (i, offset, _piece), ents in zip(pieces, results, strict=True):
            hits[i].extend((offset + a, offset + b, label) for a, b, label in ents)
        return hits
