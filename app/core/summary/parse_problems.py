"""Problems and diagnoses a note states, where notes state them in a form a parser can trust:

- the items of a past-history or problem-list section ("1. Type 1 diabetes mellitus, insulin pump requiring.",
  "Diabetes, hypertension, elevated lipids, status post CVA.");
- "(past medical) history (significant) for/of X, Y, and Z" anywhere but the family and social history, unless
  negated ("denies a history of...");
- the short lines and numbered items of an assessment or plan ("Hypertension.", "2. Diabetes type 2.",
  "Right knee pain, possible ACL tear."), the usual headings of a problem-oriented plan.
A name ends where the text goes on ("Hypertension since 1985", "Delirium resulting from...": resources/summary/
not_problems.txt); procedures ("cholecystectomy", "back surgery") are not problems. Everything else (a problem only
described in prose) is the language model's part.
"""

from __future__ import annotations

import re

from app.core.summary.document import NoteDoc
from app.core.summary.facts import Fact, FactKind, ProblemStatus
from app.core.summary.sections import Clause
from app.core.summary.words import ProblemWords, problem_words

MAX_WORDS = 10
_HISTORY = re.compile(
    r"\b(?:past medical history|medical history|past history|history|hx|pmh)\s+(?:is\s+)?"
    r"(?:significant\s+|remarkable\s+|notable\s+)?(?:for|of)\s+(.+)", re.I
)
_EXCEPT = re.compile(r"\bexcept(?:\s+for)?\s+(.+)", re.I)
_DENIED = re.compile(r"\b(?:no|denies|denied|deny|without|negative|not)\b", re.I)
_LEAD = re.compile(
    r"^(?:an?|the|and|or|newly diagnosed|new|recent|known|likely|probable|possible|presumed|suspected|"
    r"working diagnosis|history of|h/o|hx of|status post|s/p|personal|(?:significant|remarkable|positive) for)\s+",
    re.I,
)
_PROCEDURE = re.compile(
    r"(?:ectomy|otomy|ostomy|plasty|scopy|pexy|surgery|surgeries|repair|replacement|stents?|placement|transfusions?|"
    r"injections?|biops(?:y|ies)|grafts?|cabg|operation|delivery|section|fusion)$", re.I
)
_SPLIT = re.compile(r",|;|\band\b", re.I)
_LIST_END = re.compile(
    r"(?:,\s*|\s+)(?:who|which|that|presents|presenting|comes|here|now|but|and (?:takes|is|was|has|had|presents))\b.*$",
    re.I | re.S,
)
_HEADING_SECTIONS = {"assessment", "assessment_plan", "plan"}
_HISTORY_SECTIONS = {"hpi", "pmh", "history", "assessment", "assessment_plan", "plan", "other"}


def problem_facts(doc: NoteDoc) -> list[Fact]:
    words = problem_words()
    out: list[Fact] = []
    for index, clause in enumerate(doc.clauses):
        sentence = doc.clause_text(index)
        body = _without_label(sentence, clause)
        names: list[str] = []
        if clause.section in _HISTORY_SECTIONS:
            names = _history_items(sentence, words)
        if names:
            pass
        elif clause.section == "pmh" and clause.item:
            names = _heading_items(body, words)
        elif clause.section == "pmh" and clause.alone:
            names = _list_items(body, words)
        elif (clause.section in _HEADING_SECTIONS and (clause.alone or clause.item) and not clause.label
              and not _measures(doc, index)):
            names = _heading_items(body, words)
        if not names:
            continue
        status = ProblemStatus.RESOLVED if re.search(r"\bresolved\b", sentence, re.I) else ProblemStatus.ACTIVE
        medicines = {t.word for t in doc.terms(index) if t.medicine}
        for name in dict.fromkeys(names):
            if name in medicines:
                continue
            out.append(Fact(FactKind.PROBLEM, name, clause.start, clause.end, sentence, written=name,
                            action=status.value))
    return out


def _measures(doc: NoteDoc, index: int) -> bool:
    """A line with a reading, a dose, a date or an interval ("BP 138/88.", "Review in 3 months.") is no heading."""
    return any(q.family not in ("", "age") for q in doc.clause_quantities(index))


def _without_label(sentence: str, clause: Clause) -> str:
    if clause.label and sentence.lower().startswith(clause.label):
        return sentence[len(clause.label) :].lstrip(" :")
    return sentence


def _history_items(sentence: str, words: ProblemWords) -> list[str]:
    match = _HISTORY.search(sentence)
    if match is None:
        return []
    before = sentence[: match.start()]
    if re.search(r"\bfamily\s*$", before, re.I):
        return []
    if _DENIED.search(before):
        excepted = _EXCEPT.search(sentence, match.start())
        return _list_items(excepted.group(1), words) if excepted else []
    return _list_items(match.group(1), words)


def _list_items(listed: str, words: ProblemWords) -> list[str]:
    """Every problem of a list ("depression, type 2 diabetes, and hypertension, who presents...")."""
    listed = re.split(r"[.:]\s|[.:]$|\(", listed, maxsplit=1)[0]
    listed = _LIST_END.sub("", listed)
    return [name for piece in _SPLIT.split(listed) if (name := _clean(piece, words))]


def _heading_items(body: str, words: ProblemWords) -> list[str]:
    """A line of an assessment: its first comma piece is the problem, the rest says how it is ("Hypertension, better
    today"), unless the first piece is about the person ("Middle-aged woman, recent urinary tract infection")."""
    body = body.strip().rstrip(".")
    first = body.split()[0].lower().strip(",.:;") if body.split() else ""
    if not first or first in words.not_first or first.isdigit():
        return []
    pieces = [p for p in re.split(r",|;", body) if p.strip()]
    head = _clean(pieces[0], words)
    if head:
        return [head]
    if pieces and _about_the_person(pieces[0], words):
        return [name for piece in pieces[1:] if (name := _clean(piece, words))]
    return []


def _about_the_person(piece: str, words: ProblemWords) -> bool:
    return bool({"woman", "man", "male", "female", "gentleman", "lady", "girl", "boy"} & _words(piece)) or (
        "year-old" in piece.lower())


def _cut(text: str, words: ProblemWords) -> str:
    lowered = f" {text.lower()} "
    end = len(text)
    for cut in words.cut:
        at = lowered.find(f" {cut} ")
        if at > 1:
            end = min(end, at)
    return text[:end] if end < len(text) else text


def _clean(piece: str, words: ProblemWords) -> str:
    name = " ".join(re.sub(r"\([^)]*\)?", " ", piece).strip(" .,;:'\"").split())
    while True:
        stripped = _LEAD.sub("", name)
        if stripped == name:
            break
        name = stripped
    name = _cut(name, words)
    name = name.strip(" .,;:'\"-").lower()
    tokens = name.split()
    if not tokens or len(tokens) > MAX_WORDS or not any(c.isalpha() for c in name):
        return ""
    if tokens[0] in words.not_first or _words(name) & words.drop or _PROCEDURE.search(name):
        return ""
    return name


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z][a-z\-']*", text.lower()))
