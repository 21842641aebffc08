"""Allergies and intolerances a note states: the items of its allergy section ("Penicillin (rash), sulfa.", "No known
drug allergies."), and "allergic to X" or "intolerant of X" anywhere else but the family history. A negated mention
("denies allergies to...") states nothing. A medicine is named by its generic, as on the medication list.
"""

from __future__ import annotations

import re

from app.core.grounding.terms import sentence_terms
from app.core.summary.document import NoteDoc
from app.core.summary.facts import NONE_KNOWN, AllergyKind, Fact, FactKind

_NONE_KNOWN = re.compile(
    r"^\W*(?:(?:the )?patient (?:has|reports) )?(?:no known (?:drug |medication |food )?allerg(?:y|ies)|nkda|nka|"
    r"no (?:drug |medication )?allerg(?:y|ies)|none|nil|none known)\b", re.I
)
_LEAD = re.compile(
    r"^\W*(?:(?:the )?(?:patient|pt|she|he|they)\s+)?(?:(?:admits|reports|has|have|is|are)\s+)*"
    r"(?:(?:an?\s+)?(?:allergic|allergies|allergy|sensitive|sensitivity|intolerant|intolerance)\s*)?"
    r"(?:or\s+(?:sensitive|intolerant)\s+)?(?:only\s+)?(?:to|of)?\s*", re.I
)
_MENTION = re.compile(
    r"\b(allergic|allerg(?:y|ies)|intoleran(?:t|ce)|sensitivity)(?:\s+or\s+(?:sensitive|intolerant))?(?:\s+only)?"
    r"\s+(?:to|of)\s+([^.;:]+)", re.I
)
_DENIED = re.compile(r"\b(?:no|denies|denied|deny|not|without|negative)\b", re.I)
_SPLIT = re.compile(r",|;|/|\band\b|\bor\b", re.I)
_CUT = re.compile(r"\s+(?:primarily|which|that|with|since|as|in|causing|causes|caused|because|but)\b.*$", re.I)
_REACTION = re.compile(r"^(.*?)\s*[(\[]([^)\]]*)[)\]]\s*$|^(.*?)\s+[-–:]\s+(.+)$")
_NOT_SUBSTANCES = {"", "none", "nkda", "nka", "unknown", "unable to evaluate", "see above", "as above", "listed"}
MAX_WORDS = 4
_ELSEWHERE = {"allergies", "family", "social"}


def allergy_facts(doc: NoteDoc) -> list[Fact]:
    out: list[Fact] = []
    for index, clause in enumerate(doc.clauses):
        sentence = doc.clause_text(index)
        if clause.section == "allergies":
            out.extend(_section_clause(doc, index, sentence))
        elif clause.section not in _ELSEWHERE:
            for match in _MENTION.finditer(sentence):
                if _DENIED.search(sentence, 0, match.start()):
                    continue
                kind = AllergyKind.INTOLERANCE if match.group(1).lower().startswith("intoler") else AllergyKind.ALLERGY
                out.extend(_items(doc, index, match.group(2), kind))
    return out


def _section_clause(doc: NoteDoc, index: int, sentence: str) -> list[Fact]:
    clause = doc.clauses[index]
    body = sentence[len(clause.label) + 1 :] if clause.label and sentence.lower().startswith(clause.label) else sentence
    if _NONE_KNOWN.match(body):
        return [Fact(FactKind.ALLERGY, NONE_KNOWN, clause.start, clause.end, sentence, written=body.strip(" .,"),
                     action=AllergyKind.NONE_KNOWN.value)]
    if _DENIED.match(body.strip()) or re.match(r"\W*(?:patient\s+)?denies\b", body, re.I):
        return []
    kind = AllergyKind.INTOLERANCE if re.search(r"\bintoleran", body, re.I) else AllergyKind.ALLERGY
    lead = _LEAD.match(body)
    return _items(doc, index, body[lead.end() if lead else 0 :], kind)


def _items(doc: NoteDoc, index: int, listed: str, kind: AllergyKind) -> list[Fact]:
    clause = doc.clauses[index]
    sentence = doc.clause_text(index)
    out = []
    for raw in _SPLIT.split(listed):
        item = _CUT.sub("", raw).strip(" .,'\"")
        reaction = ""
        match = _REACTION.match(item)
        if match:
            item, reaction = (match.group(1) or match.group(3) or "").strip(), (match.group(2) or match.group(4) or "")
        words = item.split()
        if item.lower() in _NOT_SUBSTANCES or not words or len(words) > MAX_WORDS:
            continue
        out.append(Fact(FactKind.ALLERGY, _name(doc, item), clause.start, clause.end, sentence, written=item,
                        action=kind.value, value=reaction.strip()))
    return out


def _name(doc: NoteDoc, item: str) -> str:
    """A medicine's generic name ("Macrodantin" is nitrofurantoin), else the item in lower case."""
    terms = sentence_terms(item, 0, 0, len(item), doc.lexicon)
    medicines = [t.medicine for t in terms if t.medicine]
    if len(medicines) == 1 and len([t for t in terms if t.content]) == 1:
        return medicines[0]
    return " ".join(item.lower().split())
