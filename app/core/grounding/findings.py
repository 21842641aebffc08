"""Negation check: whether the note says present what the consultation says absent, or the reverse.

A note sentence is cut into findings: short runs of content words ("left ankle pain", "pain with flexion"), each
negated or not (NegEx scopes, negation.py). A finding is looked up where the sentence comes from (its supporting
sentences and their neighbours), in the tightest window holding most of its words; when every such window has the
other polarity, the note is flagged: "no chest pain: the consultation says chest pain".

Guards against reading too much into a mention:
- a word that changes what is meant ("extra heart sounds", "left ankle") must be in the window too;
- a "no" that is only the patient's reply to a question ("is it a dandruff shampoo?" "no") is weaker than a
  statement: it does not count when the consultation also says the finding the note's way somewhere;
- words of time ("last year", "today") are not findings: durations are checked as quantities;
- where a finding is (a body part, a side) does not say whether it is there: "my eyes, i don't have any weakness"
  says no weakness, so a window's polarity is that of its other words;
- one ordinary word is looked for where the note sentence comes from, and elsewhere only beside another of the
  note sentence's words ("rest" beside "meloxicam"): said alone elsewhere it may be about something else.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.grounding.evidence import Evidence, NoteSentence
from app.core.grounding.negation import Scope
from app.core.grounding.report import Flag
from app.core.grounding.sentences import Polarity
from app.core.grounding.terms import Term

# Words between two findings: "cough and fever", "elevated since the infection began", "pain after eating".
_BREAKS = {"and", "or", "nor", "but", "as", "well", "however", "while", "although", "with", "without", "since",
           "after", "before", "until", "because", "during", "when", "whenever"}
# Words that change what is meant: the consultation's words must have them too ("extra heart sounds"). For a side
# it is enough that the consultation names no other side ("any pain in your calf?" answers "left calf pain").
_QUALIFIERS = {"extra", "additional", "new", "other", "further", "abnormal", "upper", "lower"}
# Words of place that are no content words but change where a finding is: "pain above the ankle" is not ankle pain.
_LOCATIVE = {"above", "below", "beneath", "behind", "beyond", "under"}
_SIDES = {"left", "right", "bilateral", "bilaterally", "both"}
# Not findings: words of time (durations are checked as quantities) and verbs that only carry one ("taking
# lisinopril", "has noticed a rash"), as stems.
_NOT_FINDINGS = {"year", "month", "week", "day", "hour", "minut", "time", "tim", "last", "past", "next", "today", "ago",
                 "recent", "recently", "current", "currently", "yesterday", "tomorrow", "tonight", "morn", "night",
                 "tak", "took", "us", "start", "continu", "experienc", "notic", "feel", "felt", "seem", "appear",
                 "tri", "try", "get", "got", "hav", "keep", "kept", "mak", "made", "go", "went", "com", "cam",
                 "used", "history", "sign", "evidence"}  # "no history of asthma", "no signs of pneumonia"
MAX_ITEM = 3  # content words in one finding
WINDOW = 8  # transcript terms a finding's words may spread over


@dataclass(frozen=True, slots=True)
class Finding:
    terms: list[Term]
    negated: bool
    start: int  # character span in the note (with the negation cue: before the first finding of a scope, or after
    # the findings a cue that comes after governs)
    end: int


def findings(sentence: NoteSentence, scopes: list[Scope]) -> list[Finding]:
    """The findings of a note sentence, each negated or not (inside a NegEx scope of `scopes`)."""
    in_scope: dict[int, Scope] = {}
    cue_terms: set[int] = set()
    for scope in scopes:
        cue_terms |= set(range(*scope.cue))
        if scope.hypothetical:  # "call if symptoms worsen": nothing is said present or absent
            cue_terms |= set(range(scope.first, scope.last))
            continue
        for index in range(scope.first, scope.last):
            in_scope[index] = scope
    found: list[Finding] = []
    current: list[Term] = []
    current_scope: Scope | None = None
    scopes_started: set[int] = set()
    terms = sentence.note.terms

    def close() -> None:
        if current:
            negated = current_scope is not None
            start, end = current[0].start, current[-1].end
            if negated and current_scope is not None and current_scope.cue[0] >= current_scope.last:
                # "pink tissue is not present": the flag runs to the cue after its finding
                end = max(end, terms[current_scope.cue[1] - 1].end)
            elif negated and current_scope is not None and current_scope.cue_start not in scopes_started:
                start = current_scope.cue_start  # "denies chest pain": the flag shows the cue with its finding
                scopes_started.add(current_scope.cue_start)
            found.append(Finding(list(current), negated, start, end))
            current.clear()

    for offset, term in enumerate(sentence.terms):
        index = sentence.first + offset
        governed = in_scope.get(index)
        size = sum(1 for t in current if t.word not in _QUALIFIERS | _SIDES | _LOCATIVE)  # "left sided facial pain"
        if term.word in _BREAKS or governed is not current_scope or size >= MAX_ITEM:
            close()
            current_scope = governed
        wanted = (term.content or term.word in _SIDES | _LOCATIVE) and not term.num and (
            term.norm not in _NOT_FINDINGS)
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


def _best_window(evidence: Evidence, hits: list[tuple[int, str]], qualifiers: set[str], other_sides: set[str],
                 places: set[str]) -> _Window:
    """The tightest window of hits (transcript term, the finding's word it says) holding the most of a finding's
    words (and all of `qualifiers`, something besides `places`, and none of `other_sides` nearby). Its polarity is
    that of the words that are not places."""
    terms, polarity, replied = evidence.transcript.terms, evidence.polarity, evidence.replied
    best, best_span = _Window(0, None, False), 0
    for i, (start, _norm) in enumerate(hits):
        seen: set[str] = set()
        for j, (end, norm) in enumerate(hits[i:], start=i):
            if end - start > WINDOW:
                break
            seen.add(norm)
            if not qualifiers <= seen or seen <= places:
                continue
            if other_sides and any(t.word in other_sides for t in terms[max(0, start - 3) : end + 4]):
                continue
            window = [k for k, said in hits[i : j + 1] if said not in places]
            known = {polarity[k] for k in window} - {None}
            common = known.pop() if len(known) == 1 else None
            from_reply = all(replied[k] for k in window if polarity[k] is not None)
            if (len(seen), -(end - start)) > (best.count, -best_span):
                best, best_span = _Window(len(seen), common, from_reply), end - start
    return best


def _places(finding: Finding, evidence: Evidence) -> set[str]:
    """Norms of the finding's words that say where it is, not what it is ("right", "cheek", "upper")."""
    return {t.norm for t in finding.terms
            if t.word in _QUALIFIERS | _SIDES | _LOCATIVE or tuple(t.word.split()) in evidence.lexicon.body_parts}


def _windows(finding: Finding, evidence: Evidence, area: range | list[int], anchors: set[str] | None = None
             ) -> tuple[int, list[_Window]]:
    """The best window of each sentence of `area` that has the finding's words; with `anchors`, only sentences where
    one of them is said within a window's reach of those words."""
    norms = {t.norm for t in finding.terms}
    qualifiers = {t.norm for t in finding.terms if t.word in _QUALIFIERS | _LOCATIVE}
    sides = {t.word for t in finding.terms if t.word in _SIDES}
    one_side = bool(sides & {"left", "right"}) and not sides & {"bilateral", "both"}
    if finding.negated and one_side and evidence.named_sides - sides:
        # "denies left-sided facial pain" is not contradicted by "facial pain" said of no side where the right one
        # is talked about too
        qualifiers |= {t.norm for t in finding.terms if t.word in sides}
    other_sides = {"left", "right"} - sides if one_side else set()
    # where it is is not what it is: "right cheek" alone does not say "tingling in the right cheek"
    places = _places(finding, evidence)
    transcript = evidence.transcript
    wanted = set(area)
    by_sentence: dict[int, list[tuple[int, str]]] = {}
    for norm in norms:
        said = evidence.said_as(norm)
        for k in evidence.positions.get(said, ()) if said else ():
            if transcript.terms[k].sentence in wanted:
                by_sentence.setdefault(transcript.terms[k].sentence, []).append((k, norm))
    windows = []
    for hits in by_sentence.values():
        hits.sort()
        if anchors is not None and not _anchored(evidence, [k for k, _norm in hits], anchors):
            continue
        if any(norm not in places for _k, norm in hits):
            window = _best_window(evidence, hits, qualifiers, other_sides, places)
            if window.count:
                windows.append(window)
    top = max((w.count for w in windows), default=0)
    return top, [w for w in windows if w.count == top]


def _anchored(evidence: Evidence, hits: list[int], anchors: set[str]) -> bool:
    """Whether an anchor is said within a window's reach of the hits, in the same turn (a long turn is cut into
    pieces: "a lot more frequently and | a lot more severe")."""
    terms, sentences = evidence.transcript.terms, evidence.transcript.sentences
    turn = sentences[terms[hits[0]].sentence].turn
    near = terms[max(0, hits[0] - WINDOW) : hits[-1] + WINDOW + 1]
    return any(t.norm in anchors and sentences[t.sentence].turn == turn for t in near)


def _needed(finding: Finding) -> int:
    """A single word must be said; of several, at least two and half ("recent broken bones": "broken bones").
    A medicine is enough on its own."""
    count = len({t.norm for t in finding.terms})
    if count == 1 or any(t.medicine for t in finding.terms):
        return 1
    return max(2, (count + 1) // 2)


def _anchors(finding: Finding, sentence: NoteSentence) -> set[str]:
    """The note sentence's other content words: what a single word must be said beside, away from the support."""
    own = {t.norm for t in finding.terms}
    return {t.norm for t in sentence.terms if t.content and not t.num and t.norm not in own
            and t.norm not in _NOT_FINDINGS}


def _said(finding: Finding, sentence: NoteSentence, evidence: Evidence) -> list[_Window]:
    """The windows where the consultation says the finding: near the sentence's support, else anywhere for a
    finding of several words, a medicine, or a word said near the support only in a question nobody answered, and
    for any other single word anywhere beside another of the note sentence's words: said alone elsewhere it may be
    about something else ("plan", "spine", "symptoms")."""
    top, windows = _windows(finding, evidence, sorted(sentence.region))
    if top >= _needed(finding) and any(w.polarity is not None for w in windows):
        return windows
    several = len({t.norm for t in finding.terms}) > 1 or any(t.medicine for t in finding.terms)
    # a word said near the support only in a question nobody answered: its answer may be anywhere; so may a word
    # that is all its sentence says ("Hepatosplenomegaly.")
    anchors = None if several or (top and all(w.polarity is None for w in windows)) else (
        _anchors(finding, sentence) or None)
    top, windows = _windows(finding, evidence, range(len(evidence.transcript.sentences)), anchors)
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
        several = len({t.norm for t in finding.terms}) > 1 or any(t.medicine for t in finding.terms)
        if all(w.from_reply for w in known) or several:
            # a reply's "no" is weaker than a statement the note's way anywhere; and a finding of several words
            # said both ways ("i was raking leaves", "he did n't actually rake leaves") is not contradicted
            anchors = None if several else _anchors(finding, sentence) or None
            top, everywhere = _windows(finding, evidence, range(len(evidence.transcript.sentences)), anchors)
            if top >= _needed(finding) and any(w.polarity == written and not w.from_reply for w in everywhere):
                continue
        words = sentence.note.text[finding.terms[0].start : finding.terms[-1].end]
        if finding.negated:
            reason = f"no {words}: the consultation says {words}"
        else:
            reason = f"{words}: the consultation says no {words}"
        flags.append(sentence.flag("negation", finding.start, finding.end, reason))
    return flags
