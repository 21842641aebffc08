"""A note read once for every parser: its clauses (with sections), grounding's terms and quantities per clause
(medicine names mapped to generics, numbers with units, frequencies, durations), and which terms are negated.

Grounding does the reading (app/core/grounding: the medicine lexicon, number and unit normalisation, sentence
splitting, NegEx-style negation); this module only lines it up with the note's sections.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.grounding.lexicon import Lexicon, lexicon
from app.core.grounding.negation import scopes
from app.core.grounding.quantities import Quantity, quantities
from app.core.grounding.sentences import Sentence
from app.core.grounding.terms import Term, Text, analyse
from app.core.summary.sections import Clause, clauses

# Per term: negated (True), inside a hypothetical ("if he develops a fever": None), or stated (False).
Negated = bool | None


@dataclass(frozen=True)
class NoteDoc:
    text: str
    clauses: list[Clause]
    analysed: Text  # grounding's terms; its sentence i is clause i
    quantities: list[Quantity]
    negated: list[Negated]  # per term of `analysed`
    lexicon: Lexicon

    def terms(self, clause: int) -> list[Term]:
        return self.analysed.sentence_terms(clause)

    def first_term(self, clause: int) -> int:
        return self.analysed.ranges[clause][0]

    def clause_text(self, clause: int) -> str:
        c = self.clauses[clause]
        return self.text[c.start : c.end]

    def clause_quantities(self, clause: int) -> list[Quantity]:
        first, last = self.analysed.ranges[clause]
        return [q for q in self.quantities if first <= q.first < last]


def read_note(text: str) -> NoteDoc:
    found = clauses(text)
    sentences = [Sentence(c.start, c.end, turn=i) for i, c in enumerate(found)]
    lex = lexicon()
    analysed = analyse(text, sentences, lex)
    flags: list[Negated] = [False] * len(analysed.terms)
    for index in range(len(sentences)):
        for scope in scopes(analysed, index, lex.negation):
            for term in range(scope.first, scope.last):
                flags[term] = None if scope.hypothetical else True
    return NoteDoc(text, found, analysed, quantities(analysed.terms, analysed.ranges), flags, lex)
