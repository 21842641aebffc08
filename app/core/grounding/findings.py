"""Negation check: whether the note says present what the consultation says absent, or the reverse.

A note sentence is cut into findings: short runs of content words ("left ankle pain", "pain with flexion"), each
negated or not (NegEx scopes, negation.py). A finding is looked up where the sentence comes from (its supporting
sentences and their neighbours), in the tightest window holding most of its words; when every such window has the
other polarity, the note is flagged: "no chest pain: the consultation says chest pain".

Guards against reading too much into a mention:
- a word that changes what is meant ("extra heart sounds", "left ankle") must be in the window too;
- a "no" that is only the patient's reply to a question ("is it a dandruff shampoo?" "no") is weaker than a
  statement: it does not count when the consultation also says the finding the note's way somewhere;
- words of time ("last year", "today") are not findings: durations are checked as quantities.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.grounding.evidence import Evidence, NoteSentence
from app.core.grounding.negation import Scope
from app.core.grounding.report import Flag
from app.core.grounding.sentences import Polarity
from app.core.grounding.terms import Term

_BREAKS = {"and", "or", "nor", "but", "as", "well", "however", "while", "although", "with", "without"}
# Words that change what is meant: the consultation's words must have them too ("extra heart sounds"). For a side
# it is enough that the consultation names no other side ("any pain in your calf?" answers "left calf pain").
_QUALIFIERS = {"extra", "additional", "new", "other", "further", "abnormal", "upper", "lower"}
_SIDES = {"left", "right", "bilateral", "bilaterally", "both"}
# Not findings: words of time (durations are checked as quantities) and verbs that only carry one ("taking
# lisinopril", "has noticed a rash"), as stems.
_NOT_FINDINGS = {"year", "month", "week", "day", "hour", "minut", "time", "tim", "last", "past", "next", "today", "ago",
                 "recent", "recently", "current", "currently", "yesterday", "tomorrow", "tonight", "morn", "night",
                 "tak", "took", "us", "start", "continu", "experienc", "notic", "feel", "felt", "seem", "appear",
                 "tri", "try", "get", "got", "hav", "keep", "kept", "mak", "made", "go", "went", "com", "cam"}
MAX_ITEM = 3  # content words in one finding
WINDOW = 8  # transcript terms a finding's words may spread over


@dataclass(frozen=True, slots=True)
class Finding:
    terms: list[Term]
    negated: bool
    start: int  # character span in the note (with the negation cue for the first finding of a scope)
    end: int


def findings(sentence: NoteSentence, scopes: list[Scope]) -> list[Finding]:
    """The findings of a note sentence, each negated or not (inside a NegEx scope of `scopes`)."""
    in_scope: dict[int, Scope] = {}
    cue_terms: set[int] = set()
    for scope in scopes:
        cue_terms |= {i for i in range(sentence.first, scope.first) if sentence.note.terms[i].start >= scope.cue_start}
        if scope.hypothetical:  # "call if symptoms worsen": nothing is said present or absent
            cue_terms |= set(range(scope.first, scope.last))
            continue
        for index in range(scope.first, scope.last):
            in_scope[index] = scope
    found: list[Finding] = []
    current: list[Term] = []
    current_scope: Scope | None = None
    scopes_started: set[int] = set()

    def close() -> None:
        if current:
            negated = current_scope is not None
            start = current[0].start
            if negated and current_scope is not None and current_scope.cue_start not in scopes_started:
                start = current_scope.cue_start  # "denies chest pain": the flag shows the cue with its finding
                scopes_started.add(current_scope.cue_start)
            found.append(Finding(list(current), negated, start, current[-1].end))
            current.clear()

    for offset, term in enumerate(sentence.terms):
        index = sentence.first + offset
        governed = in_scope.get(index)
        size = sum(1 for t in current if t.word not in _QUALIFIERS | _SIDES)  # "left sided facial pain": one
        if term.word in _BREAKS or governed is not current_scope or size >= MAX_ITEM:
            close()
            current_scope = governed
        wanted = (term.content or term.word in _SIDES) and not term.num and term.norm not in _NOT_FINDINGS
        if wanted and index not in cue_terms:
            current.append(term)
        if "," in term.punct or ";" in term.punct:
            close()
    close()
    return found


@dataclass(frozen=True, slots=True)
class _Window:
    count: int  # how many of the finding's words
    polarity: Polarity | None  # their common polarity, None when mixed or undecided
    from_reply: bool  # the polarity comes only from the reply to a question


def _best_window(evidence: Evidence, hits: list[int], qualifiers: set[str], other_sides: set[str]) -> _Window:
    """The tightest window of hits holding the most of a finding's words (and all of `qualifiers`, and none of
    `other_sides` nearby)."""
    terms, polarity, replied = evidence.transcript.terms, evidence.polarity, evidence.replied
    best, best_span = _Window(0, None, False), 0
    for i, start in enumerate(hits):
        seen: set[str] = set()
        for j, end in enumerate(hits[i:], start=i):
            if end - start > WINDOW:
                break
            seen.add(terms[end].norm)
            if not qualifiers <= seen:
                continue
            if other_sides and any(t.word in other_sides for t in terms[max(0, start - 3) : end + 4]):
                continue
            window = hits[i : j + 1]
            known = {polarity[k] for k in window} - {None}
            common = known.pop() if len(known) == 1 else None
            from_reply = all(replied[k] for k in window if polarity[k] is not None)
            if (len(seen), -(end - start)) > (best.count, -best_span):
                best, best_span = _Window(len(seen), common, from_reply), end - start
    return best


def _windows(finding: Finding, evidence: Evidence, area: range | list[int]) -> tuple[int, list[_Window]]:
    norms = {t.norm for t in finding.terms}
    qualifiers = {t.norm for t in finding.terms if t.word in _QUALIFIERS}
    sides = {t.word for t in finding.terms if t.word in _SIDES}
    one_side = bool(sides & {"left", "right"}) and not sides & {"bilateral", "both"}
    other_sides = {"left", "right"} - sides if one_side else set()
    # where it is is not what it is: "right cheek" alone does not say "tingling in the right cheek"
    places = {t.norm for t in finding.terms
              if t.word in _QUALIFIERS | _SIDES or tuple(t.word.split()) in evidence.lexicon.body_parts}
    transcript = evidence.transcript
    wanted = set(area)
    by_sentence: dict[int, list[int]] = {}
    for norm in norms:
        for k in evidence.positions.get(norm, ()):
            if transcript.terms[k].sentence in wanted:
                by_sentence.setdefault(transcript.terms[k].sentence, []).append(k)
    windows = []
    for hits in by_sentence.values():
        hits.sort()
        if any(transcript.terms[k].norm not in places for k in hits):
            window = _best_window(evidence, hits, qualifiers, other_sides)
            if window.count:
                windows.append(window)
    top = max((w.count for w in windows), default=0)
    return top, [w for w in windows if w.count == top]


def _needed(finding: Finding) -> int:
    """A single word must be said; of several, at least two and half ("recent broken bones": "broken bones").
    A medicine is enough on its own."""
    count = len({t.norm for t in finding.terms})
    if count == 1 or any(t.medicine for t in finding.terms):
        return 1
    return max(2, (count + 1) // 2)


def _said(finding: Finding, sentence: NoteSentence, evidence: Evidence) -> list[_Window]:
    """The windows where the consultation says the finding: near the sentence's support, else anywhere for a
    finding of several words, a medicine, or a word said near the support only in a question nobody answered. One
    ordinary word said elsewhere may be about something else ("plan", "spine", "symptoms")."""
    top, windows = _windows(finding, evidence, sorted(sentence.region))
    if top >= _needed(finding) and any(w.polarity is not None for w in windows):
        return windows
    several = len({t.norm for t in finding.terms}) > 1 or any(t.medicine for t in finding.terms)
    if several or (top and all(w.polarity is None for w in windows)):
        top, windows = _windows(finding, evidence, range(len(evidence.transcript.sentences)))
        if top >= _needed(finding) and any(w.polarity is not None for w in windows):
            return windows
    return []


def check_negation(sentence: NoteSentence, scopes: list[Scope], evidence: Evidence) -> list[Flag]:
    flags = []
    for finding in findings(sentence, scopes):
        windows = _said(finding, sentence, evidence)
        written: Polarity = "neg" if finding.negated else "pos"
        known = [w for w in windows if w.polarity is not None]
        if not known or {w.polarity for w in known} != {"neg" if written == "pos" else "pos"}:
            continue
        if all(w.from_reply for w in known):
            top, everywhere = _windows(finding, evidence, range(len(evidence.transcript.sentences)))
            if top >= _needed(finding) and any(w.polarity == written and not w.from_reply for w in everywhere):
                continue
        words = sentence.note.text[finding.terms[0].start : finding.terms[-1].end]
        if finding.negated:
            reason = f"no {words}: the consultation says {words}"
        else:
            reason = f"{words}: the consultation says no {words}"
        flags.append(sentence.flag("negation", finding.start, finding.end, reason))
    return flags
