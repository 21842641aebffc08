"""`ground(note, transcript)`: link each note sentence to what was said and flag the facts that were not.

Pure and quick (no model call): it runs after every draft, in the window and in `clinic-assistant check-note`.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.core.grounding.align import support
from app.core.grounding.evidence import build_evidence, label_terms, note_sentence
from app.core.grounding.facts import check_quantities
from app.core.grounding.findings import check_negation
from app.core.grounding.laterality import check_laterality, readings, side_mentions
from app.core.grounding.lexicon import lexicon
from app.core.grounding.medicines import check_medicines
from app.core.grounding.negation import scopes
from app.core.grounding.quantities import quantities
from app.core.grounding.report import Flag, GroundingReport, SentenceGrounding, Span
from app.core.grounding.sentences import note_sentences
from app.core.grounding.terms import analyse


def ground(note: str, transcript: str, extra_sources: Sequence[str] = ()) -> GroundingReport:
    """Support links and flags for every sentence of `note` against `transcript` (dictation or dialogue).

    `extra_sources` are other texts a fact may come from, such as the patient's prior summary or demographics
    ("68-year-old woman"); a fact found there is not flagged, but sentences are linked to the transcript only.
    """
    words = lexicon()
    evidence = build_evidence(transcript, extra_sources, words)
    text = analyse(note, note_sentences(note), words)
    note_quantities = quantities(text.terms, text.ranges)
    sides = side_mentions(evidence)
    evidence.named_sides = frozenset().union(*(m.sides for m in sides.mentions))
    note_readings = readings(note_quantities)
    medicines_said: dict[str, bool] = {}
    results = []
    for index, sentence in enumerate(text.sentences):
        first, last = text.ranges[index]
        label = label_terms(text, index, words)
        linked = support(text.terms[first:last], evidence.index, label)
        view = note_sentence(text, index, linked, label, evidence)
        found = [q for q in note_quantities if first <= q.first < last]
        negations = scopes(text, index, words.negation)
        negated = {k for scope in negations if not scope.hypothetical for k in range(scope.first, scope.last)}
        flags: list[Flag] = [
            *check_quantities(view, found, evidence),
            *check_medicines(view, evidence, medicines_said),
            *check_laterality(view, evidence, sides, note_readings, negated),
            *check_negation(view, negations, evidence),
        ]
        flags.sort(key=lambda f: (f.start, f.end))
        spans = sorted(linked)
        results.append(SentenceGrounding(
            note[sentence.start : sentence.end], sentence.start, sentence.end,
            [Span(evidence.transcript.sentences[s].start, evidence.transcript.sentences[s].end) for s in spans],
            flags,
        ))
    return GroundingReport(results)
