"""Medicines a note names, with the dose, the frequency and what the sentence does with them (started, stopped,
dose changed, continued, only discussed).

Names come from grounding's medicine lexicon (brand and generic names, mapped to the generic: "Protonix" is
pantoprazole), numbers and units from its quantities ("1 g" is 1000 mg, "bid" twice daily). A dose is the first dose
after the name and before the next medicine ("metformin to 1000 mg twice daily"), or just before "of <name>" ("10 mg
of melatonin"); the action is the nearest cue word before the name (resources/summary/cues.txt). A negated mention
("not on aspirin") and a medicine named as an allergy are left to the other parsers.
"""

from __future__ import annotations

from app.core.grounding.quantities import Quantity
from app.core.grounding.spoken import frequency_shown
from app.core.grounding.terms import Term
from app.core.summary.document import NoteDoc
from app.core.summary.facts import Fact, FactKind, MedicationAction
from app.core.summary.words import Cues, medication_cues

WINDOW = 10  # terms after a name within which its dose and frequency are read
DOSE_FAMILIES = frozenset({"mass", "volume", "units", "percent", "meq", "mmol"})
# what grounding counts that is a dose of a medicine ("1 tab", "2 puffs"), not a cigarette or a drink
COUNTED_DOSES = frozenset({"tablet", "capsule", "puff", "drop", "spray"})
# words after a bare number that make it a dose: "1 tab", "2 puffs", "800 international units"
DOSE_WORDS = {"tab": "tab", "tabs": "tabs", "tablet": "tablet", "tablets": "tablets", "pill": "pill",
              "pills": "pills", "puff": "puff", "puffs": "puffs", "capsule": "capsule", "capsules": "capsules",
              "cap": "cap", "caps": "caps", "drop": "drop", "drops": "drops", "spray": "spray", "sprays": "sprays",
              "patch": "patch", "units": "units", "unit": "unit", "international": "units", "iu": "units",
              "teaspoon": "teaspoon", "teaspoons": "teaspoons", "tsp": "tsp", "ampule": "ampule", "vial": "vial"}
# frequencies grounding's reader leaves alone (it reads "bid", "twice a day", "every 4 hours", "at bedtime"...)
_EXTRA_FREQUENCY: dict[tuple[str, ...], tuple[float, str]] = {
    ("q.h.s",): (1.0, "at bedtime"), ("qhs",): (1.0, "at bedtime"), ("hs",): (1.0, "at bedtime"),
    ("at", "bedtime"): (1.0, "at bedtime"), ("at", "night"): (1.0, "at night"), ("nightly",): (1.0, "at night"),
    ("q.a.m",): (1.0, "every morning"), ("qam",): (1.0, "every morning"), ("every", "morning"): (1.0, "every morning"),
    ("in", "the", "morning"): (1.0, "every morning"), ("each", "morning"): (1.0, "every morning"),
    ("q.p.m",): (1.0, "every evening"), ("in", "the", "evening"): (1.0, "every evening"),
    ("per", "day"): (1.0, ""), ("a", "day"): (1.0, ""), ("each", "day"): (1.0, ""),
    ("per", "week"): (1 / 7, ""), ("a", "week"): (1 / 7, ""), ("every", "week"): (1 / 7, ""),
    ("per", "month"): (1 / 30.44, ""), ("a", "month"): (1 / 30.44, ""),
    ("q.o.d",): (0.5, ""), ("qod",): (0.5, ""), ("every", "other", "day"): (0.5, "every other day"),
}
_ALLERGY_WORDS = {"allergic", "allergy", "allergies", "intolerant", "intolerance", "anaphylaxis", "sensitive"}
_NOT_HERE = {"family", "allergies", "social", "results"}  # substance use and drug screens are not medicines
_LEVEL_WORDS = {"level", "levels", "concentration", "screen"}  # "erythropoietin level": a test, not a medicine
_JOINS = {"and", "or", ","}
_WEEKDAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}


def medication_facts(doc: NoteDoc) -> list[Fact]:
    cues = medication_cues()
    out: list[Fact] = []
    for index, clause in enumerate(doc.clauses):
        if clause.section in _NOT_HERE:
            continue
        terms = doc.terms(index)
        meds = [k for k, t in enumerate(terms) if t.medicine]
        if not meds:
            continue
        base = doc.first_term(index)
        words = [t.word.rstrip(".") for t in terms]
        # "calcium carbonate with vitamin D 500 mg": the second name is part of the first product
        ingredients = {k for k in meds if k >= 2 and words[k - 1] == "with" and terms[k - 2].medicine}
        stops = [k for k in meds if k not in ingredients]
        found: dict[str, Fact] = {}
        for k in meds:
            if _not_a_medicine(words, k):
                continue
            stop = next((s for s in stops if s > k), len(terms))
            window = range(k + 1, min(stop, k + 1 + WINDOW))
            quantities = [q for q in doc.clause_quantities(index) if q.first - base in window]
            action = _action(words, k, window, cues)
            if doc.negated[base + k] is True and action not in (MedicationAction.STOPPED, MedicationAction.TRIED):
                continue  # "not on aspirin"; but "stopped Aleve" is negated only in grounding's sense
            frequency = _frequency(words, quantities, window, cues)
            fact = Fact(
                FactKind.MEDICATION, terms[k].medicine, clause.start, clause.end, doc.clause_text(index),
                written=doc.text[terms[k].start : terms[k].end],
                dose="" if k in ingredients else _dose(words, quantities, k, base, doc.clause_quantities(index)),
                frequency=frequency or _shared_frequency(terms, words, k, stop, doc, index, cues),
                action=action,
            )
            earlier = found.get(fact.name)
            if earlier is None or (not earlier.dose and fact.dose):
                found[fact.name] = fact
        out.extend(found.values())
    return out


def _not_a_medicine(words: list[str], k: int) -> bool:
    """"allergic to penicillin" (an allergy), "erythropoietin level" (a test)."""
    before = set(words[max(0, k - 4) : k])
    return bool(before & _ALLERGY_WORDS and before & {"to", "of"}) or (
        k + 1 < len(words) and words[k + 1] in _LEVEL_WORDS)


def _dose(words: list[str], window: list[Quantity], k: int, base: int, clause: list[Quantity]) -> str:
    for q in window:
        dose = _as_dose(q, words, q.last - base + 1)
        if dose:
            return dose
    for q in clause:  # before the name: "10 mg of melatonin", "1% lidocaine"
        if q.family in DOSE_FAMILIES and (q.last - base == k - 1 or (q.last - base == k - 2 and words[k - 1] == "of")):
            return q.shown
    return ""


def _shared_frequency(terms: list[Term], words: list[str], k: int, stop: int, doc: NoteDoc, index: int,
                      cues: Cues) -> str:
    """"Phenergan and Zofran twice a day": a list of names joined by and, or, commas shares the frequency after it."""
    if stop >= len(terms) or any(words[j] not in _JOINS for j in range(k + 1, stop)):
        return ""
    base = doc.first_term(index)
    nxt = [s for s in range(stop + 1, len(terms)) if terms[s].medicine]
    end = nxt[0] if nxt else len(terms)
    window = range(stop + 1, min(end, stop + 1 + WINDOW))
    quantities = [q for q in doc.clause_quantities(index) if q.first - base in window]
    if any(_as_dose(q, words, q.last - base + 1) for q in quantities):
        return ""  # the next name has its own dose: its frequency is its own too
    return _frequency(words, quantities, window, cues) or _shared_frequency(terms, words, stop, end, doc, index, cues)


def _as_dose(q: Quantity, words: list[str], after: int) -> str:
    if q.kind != "number":
        return ""
    if q.family in DOSE_FAMILIES or q.family in COUNTED_DOSES:  # grounding reads "1 tab" as one counted quantity
        return q.shown
    following = words[after] if after < len(words) else ""
    if q.family in ("", "ratio") and following in DOSE_WORDS:
        return f"{q.shown} {DOSE_WORDS[following]}"
    return ""


def _frequency(words: list[str], window: list[Quantity], span: range, cues: Cues) -> str:
    scheduled = ""
    prn = False
    for q in window:
        if q.kind == "frequency" and q.high == 0:
            prn = True
        elif q.kind == "frequency" and not scheduled:
            scheduled = _weekly_words(q.shown)
    if not scheduled:
        scheduled = _extra_frequency(words, span)
    days = sum(1 for k in span if words[k] in _WEEKDAYS)
    if not scheduled and days >= 2:  # "Monday, Wednesday, and Friday"
        scheduled = _weekly_words(f"{days} times weekly")
    for k in span:
        if words[k] == "if" or any(tuple(words[k : k + len(c)]) == c for c in cues.prn):
            prn = True
    if prn:
        return f"{scheduled} as needed".strip()
    return scheduled


def _extra_frequency(words: list[str], span: range) -> str:
    for k in span:
        for n in (3, 2, 1):
            found = _EXTRA_FREQUENCY.get(tuple(words[k : k + n]))
            if found is not None and k + n <= span.stop:
                per_day, shown = found
                return shown or _weekly_words(frequency_shown(per_day, per_day))
    return ""


def _weekly_words(shown: str) -> str:
    """grounding writes a weekly rate as "1 times weekly": say it as a note does."""
    return {"1 times weekly": "once weekly", "2 times weekly": "twice weekly"}.get(shown, shown)


_WEAK = {"take", "takes", "taking", "use", "uses", "using"}  # "recommended she take": the verb before decides


def _cue_before(words: list[str], k: int, cues: Cues, reach: int | None = None) -> tuple[str, int] | None:
    """The nearest cue before words[k] (within `reach` words): (its kind, where it starts)."""
    for start in range(k - 1, -1 if reach is None else max(-1, k - 1 - reach), -1):
        for n in range(min(cues.longest, k - start), 0, -1):
            kind = cues.before.get(tuple(words[start : start + n]))
            if kind is not None:
                return kind, start
    return None


def _action(words: list[str], k: int, window: range, cues: Cues) -> str:
    found = _cue_before(words, k, cues)
    if found is not None:
        kind, start = found
        if words[start] in _WEAK:
            stronger = _cue_before(words, start, cues, reach=3)
            if stronger is not None:
                return stronger[0]
        return kind
    for start in window[:4]:
        for n in range(cues.longest, 0, -1):
            after = cues.after.get(tuple(words[start : start + n]))
            if after is not None:
                return after
    return MedicationAction.TAKING.value
