"""Support links: the consultation sentences that say what a note sentence says.

A note sentence is a paraphrase of what was said, seldom a quote: "Endorses dyspnea on exertion" stands for "i got
really winded carrying the bags". So the link is lexical overlap of normalised content words (stems, synonym groups,
medicines, numbers), each weighted by how rare it is in the consultation (a word said in every other sentence, like
"pain", says little about which sentence is meant). Words the recogniser misspelt ("ronchi" for "rhonchi") are
matched by spelling similarity. Up to three sentences are linked, greedily, each adding words the others lack; the
note sentence counts as supported when they cover enough of its weight.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from app.core.grounding.terms import Term, Text

MAX_SUPPORT = 3
SUPPORTED_COVERAGE = 0.34  # share of the sentence's word weight the linked sentences must cover
MIN_GAIN = 0.15  # a further sentence is linked only if it adds this share
FUZZY_RATIO = 0.8  # spelling similarity for a word the consultation does not have verbatim
FUZZY_MIN_LENGTH = 5


@dataclass
class TranscriptIndex:
    text: Text
    postings: dict[str, list[int]]  # norm -> sentences holding it
    idf: dict[str, float]
    unseen_idf: float
    by_initial: dict[str, list[str]]  # first letter -> norms, for spelling matches
    _fuzzy: dict[str, str | None] = field(default_factory=dict)

    def weight(self, norm: str) -> float:
        return self.idf.get(norm, self.unseen_idf)

    def resolve(self, norm: str) -> str | None:
        """The consultation's form of a note word: itself, a close spelling, or None when it was not said."""
        if norm in self.postings:
            return norm
        if len(norm) < FUZZY_MIN_LENGTH or not norm.isalpha():
            return None
        if norm not in self._fuzzy:
            best, best_ratio = None, FUZZY_RATIO
            for candidate in self.by_initial.get(norm[0], ()):
                if abs(len(candidate) - len(norm)) > 2:
                    continue
                matcher = SequenceMatcher(None, norm, candidate)
                if matcher.real_quick_ratio() < best_ratio or matcher.quick_ratio() < best_ratio:
                    continue
                ratio = matcher.ratio()
                if ratio >= best_ratio:
                    best, best_ratio = candidate, ratio
            self._fuzzy[norm] = best
        return self._fuzzy[norm]


def index_transcript(text: Text) -> TranscriptIndex:
    postings: dict[str, list[int]] = defaultdict(list)
    for term in text.terms:
        if term.content and (not postings[term.norm] or postings[term.norm][-1] != term.sentence):
            postings[term.norm].append(term.sentence)
    count = max(1, len(text.sentences))
    idf = {norm: math.log((count + 1) / (len(where) + 0.5)) for norm, where in postings.items()}
    by_initial: dict[str, list[str]] = defaultdict(list)
    for norm in postings:
        if norm.isalpha() and len(norm) >= FUZZY_MIN_LENGTH - 2:
            by_initial[norm[0]].append(norm)
    return TranscriptIndex(text, dict(postings), idf, math.log((count + 1) / 0.5), dict(by_initial))


def support(terms: list[Term], index: TranscriptIndex, label: Sequence[Term] = ()) -> list[int]:
    """Indices of the transcript sentences that support a note sentence (its terms), best first; [] if none.

    The words of a label before the sentence ("Heart rate: 72") help when said, and are not missed when not
    ("Constitutional: denies fever")."""
    weights: dict[str, float] = {}
    for term in terms:
        # numbers do not link: a fact checked against the linked sentences must not choose them
        if term.content and not term.num:
            resolved = index.resolve(term.norm)
            weights[resolved or "?" + term.norm] = index.weight(resolved) if resolved else index.unseen_idf
    for term in label:
        resolved = index.resolve(term.norm) if term.content else None
        if resolved:
            weights[resolved] = index.weight(resolved)
    total = sum(weights.values())
    if total == 0:
        return []
    scores: dict[int, float] = defaultdict(float)
    for norm, weight in weights.items():
        for sentence in index.postings.get(norm, ()):
            scores[sentence] += weight
    if not scores:
        return []
    sentence_words = {s: _words_in(index, s, weights) for s in scores}
    chosen: list[int] = []
    covered: set[str] = set()
    for _ in range(MAX_SUPPORT):
        best, best_gain = -1, 0.0
        for sentence, words in sentence_words.items():
            if sentence in chosen:
                continue
            gain = sum(weights[w] for w in words - covered)
            # between equal gains prefer the shorter sentence: it says the thing more specifically
            tie = best >= 0 and abs(gain - best_gain) <= 1e-9 and _length(index, sentence) < _length(index, best)
            if gain > best_gain + 1e-9 or tie:
                best, best_gain = sentence, gain
        if best < 0 or (chosen and best_gain < MIN_GAIN * total):
            break
        chosen.append(best)
        covered |= sentence_words[best]
    coverage = sum(weights[w] for w in covered) / total
    return chosen if coverage >= SUPPORTED_COVERAGE else []


def _length(index: TranscriptIndex, sentence: int) -> int:
    first, last = index.text.ranges[sentence]
    return last - first


def _words_in(index: TranscriptIndex, sentence: int, weights: dict[str, float]) -> set[str]:
    return {t.norm for t in index.text.sentence_terms(sentence) if t.norm in weights}
