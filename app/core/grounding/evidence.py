"""What a note is checked against, analysed once per check: the consultation (sentences, terms, quantities, the
polarity of every mention, the medicines named) and any extra sources (a prior summary, demographics).

Also the per-sentence view of the note the checks share: its terms, the words that anchor a fact ("lisinopril" for
"20 mg") and the region of the consultation to look in first (the supporting sentences and their neighbours, where a
question's answer or a reading's value often sits).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.core.grounding.align import TranscriptIndex, index_transcript
from app.core.grounding.lexicon import Lexicon
from app.core.grounding.negation import polarities
from app.core.grounding.quantities import Quantity, quantities
from app.core.grounding.report import Flag, FlagKind
from app.core.grounding.sentences import Polarity, note_sentences, transcript_sentences
from app.core.grounding.terms import Term, Text, analyse, sentence_terms, stem

NEIGHBOURS = 2  # transcript sentences either side of a supporting one that are also looked in
ANCHOR_WORDS = 4  # note words either side of a fact that say what it is about
ANCHOR_REACH = 12  # transcript terms either side of a value within which an anchor word must be
BARE_REACH = 3  # content words either side of a bare number within which an anchor word must be
COMPOUND_LENGTH = 12  # letters of a note word that may be a compound the recogniser cut in two
COMPOUND_PART = 8  # letters of the part of it that must be said


@dataclass
class Evidence:
    transcript: Text
    index: TranscriptIndex
    polarity: list[Polarity | None]  # per transcript term (negation.polarities)
    replied: list[bool]  # per transcript term: its polarity is the reply to a question
    quantities: list[Quantity]
    by_sentence: dict[int, list[Quantity]]
    extras: list[Text]
    extra_quantities: list[Quantity]
    medicines: set[str]  # generic names said in the consultation or written in an extra source
    lexicon: Lexicon
    positions: dict[str, list[int]]  # norm (or a word of a phrase) -> indices of the transcript terms that have it
    aliases: dict[str, str | None] = field(default_factory=dict)  # cache of `said_as`
    named_sides: frozenset[str] = frozenset()  # the sides of the body the consultation names (laterality.py)

    def said_as(self, norm: str) -> str | None:
        """The consultation's form of a note word: itself, a close spelling ("erythmateous"), the end of a compound
        the recogniser cut in two ("hepatospleno splenomegaly" for "hepatosplenomegaly"), or None."""
        if norm in self.positions:
            return norm
        if norm not in self.aliases:
            found = self.index.resolve(norm)
            if found is None and len(norm) >= COMPOUND_LENGTH and norm.isalpha():
                ends = [other for other in self.positions if len(other) >= COMPOUND_PART and norm.endswith(other)]
                found = max(ends, key=len, default=None)
            self.aliases[norm] = found
        return self.aliases[norm]


@dataclass
class NoteSentence:
    note: Text
    index: int
    terms: list[Term]
    first: int  # index of terms[0] in note.terms
    context: list[Term]  # the label before the sentence ("Heart rate:")
    support: list[int]
    region: set[int]  # transcript sentences to look in first

    def anchors(self, first: int, last: int) -> set[str]:
        """Norms of the content words around note terms [first, last] (indices into note.terms)."""
        lo, hi = max(self.first, first - ANCHOR_WORDS), min(self.first + len(self.terms), last + ANCHOR_WORDS + 1)
        words = {t.norm for t in self.note.terms[lo:hi] if t.content and not t.num}
        return words | {t.norm for t in self.context if t.content and not t.num}

    def flag(self, kind: FlagKind, start: int, end: int, reason: str) -> Flag:
        return Flag(kind, self.note.text[start:end], start, end, reason)


def build_evidence(transcript: str, extra_sources: Sequence[str], lexicon: Lexicon) -> Evidence:
    text = analyse(transcript, transcript_sentences(transcript), lexicon)
    found = quantities(text.terms, text.ranges)
    by_sentence: dict[int, list[Quantity]] = defaultdict(list)
    for q in found:
        by_sentence[text.terms[q.first].sentence].append(q)
    extras = [analyse(source, note_sentences(source), lexicon) for source in extra_sources if source.strip()]
    extra_quantities = [q for extra in extras for q in quantities(extra.terms, extra.ranges)]
    medicines = {t.medicine for t in text.terms if t.medicine}
    medicines |= {t.medicine for extra in extras for t in extra.terms if t.medicine}
    polarity, replied = polarities(text, lexicon.negation)
    positions: dict[str, list[int]] = defaultdict(list)
    for index, term in enumerate(text.terms):
        positions[term.norm].append(index)
        if " " in term.word and not term.medicine and not term.num:
            # the words of a phrase are said too: "pain to palpation" (tenderness) says "palpation"
            for word in term.word.split():
                if word not in lexicon.stopwords and stem(word) != term.norm:
                    positions[stem(word)].append(index)
    return Evidence(text, index_transcript(text), polarity, replied, found, dict(by_sentence), extras,
                    extra_quantities, medicines, lexicon, dict(positions))


def label_terms(note: Text, index: int, lexicon: Lexicon) -> list[Term]:
    """The terms of the label before a note sentence ("Heart rate:"), none when it has no label."""
    context = note.sentences[index].context
    return [] if context is None else sentence_terms(note.text, index, context[0], context[1], lexicon)


def note_sentence(note: Text, index: int, support: list[int], label: list[Term], evidence: Evidence) -> NoteSentence:
    first, last = note.ranges[index]
    context = label
    count = len(evidence.transcript.sentences)
    region = {n for s in support for n in range(max(0, s - NEIGHBOURS), min(count, s + NEIGHBOURS + 1))}
    return NoteSentence(note, index, note.terms[first:last], first, context, support, region)


def anchor_distance(evidence: Evidence, first: int, last: int, anchors: set[str], reach: int = ANCHOR_REACH
                    ) -> int | None:
    """How many terms from a transcript span [first, last] the nearest anchor word is, None beyond `reach`."""
    terms = evidence.transcript.terms
    for distance in range(1, reach + 1):
        for index in (first - distance, last + distance):
            if 0 <= index < len(terms) and terms[index].norm in anchors:
                return distance
    return None


def anchored(evidence: Evidence, first: int, last: int, anchors: set[str], reach: int = ANCHOR_REACH) -> bool:
    """Whether a transcript span of terms [first, last] has one of the anchor words within `reach` terms."""
    return anchor_distance(evidence, first, last, anchors, reach) is not None


def close_by(evidence: Evidence, first: int, last: int, anchors: set[str], reach: int = BARE_REACH) -> bool:
    """Whether one of the anchor words is within `reach` content words of a transcript span: how near a bare
    number's words must be ("a1c is a little elevated at eight")."""
    terms, sentences = evidence.transcript.terms, evidence.transcript.sentences
    turn = sentences[terms[first].sentence].turn  # a long turn cut into pieces is still one utterance
    for indices in (range(first - 1, -1, -1), range(last + 1, len(terms))):
        seen = 0
        for index in indices:
            term = terms[index]
            if sentences[term.sentence].turn != turn:
                break
            if term.norm in anchors:
                return True
            if term.content and not term.num:
                seen += 1
                if seen >= reach:
                    break
    return False


def replies_to(evidence: Evidence, support: list[int]) -> set[int]:
    """The sentences that answer a supporting question (the first sentence of the next speaker's turn)."""
    sentences = evidence.transcript.sentences
    out = set()
    for index in support:
        if sentences[index].question and index + 1 < len(sentences):
            out.add(index + 1)
    return out


def region_quantities(evidence: Evidence, sentence: NoteSentence) -> list[Quantity]:
    return [q for s in sorted(sentence.region) for q in evidence.by_sentence.get(s, ())]
