"""Summary benchmark: the extraction's precision and recall against a hand-made gold file, and its time per note.

The gold (tests/data/summary_gold.jsonl) lists the medicines (name, dose, frequency), problems and allergies stated
in 34 reference notes of tests/data/clinical/ (21 ACI-BENCH notes, 13 MTSamples reports), written by reading the
notes (docs/summaries.md says how). Per note, the predicted medicines are the note's medication facts that are not
only "considered", one per generic name, with the last dose and frequency the note states for it; problems are the
ones not said resolved; allergies every substance.

Figures, per field: `<field>_precision`, `<field>_recall` for medicine names, name + dose, name + dose + frequency,
problems and allergies (target >= 0.90 for medicine name + dose); `parse_ms_per_note_p50/_max` (parsers alone);
and, unless quick or no model is installed, the same with the language model's step (`model_*`, the default model,
with the settings' `gpu.n_threads`) and `model_s_per_note_p50`.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.bench.common import BenchRequest, PeakMemory
from app.core.grounding.lexicon import lexicon
from app.core.grounding.terms import sentence_terms
from app.core.paths import install_root
from app.core.summary.extract import ModelStep, extract_facts
from app.core.summary.facts import NONE_KNOWN, Fact, FactKind, MedicationAction, ProblemStatus
from app.core.summary.keys import key_words, problem_key

TARGET = 0.90
FIELDS = ("medicine_name", "medicine_name_dose", "medicine_name_dose_frequency", "problems", "allergies")
_DATASETS = {"aci_bench_dev": "aci_bench_dev.jsonl", "mtsamples_sample50": "mtsamples_sample50.jsonl"}
_UNITS = {"mg": "mg", "mcg": "mcg", "micrograms": "mcg", "µg": "mcg", "ug": "mcg", "g": "g", "ml": "ml", "cc": "ml",
          "%": "%", "units": "units", "unit": "units", "international units": "units", "iu": "units", "meq": "meq",
          "tab": "tab", "tabs": "tab", "tablet": "tab", "tablets": "tab", "puff": "puff", "puffs": "puff"}
_DOSE = re.compile(r"(\d+(?:\.\d+)?(?:/\d+)?)(?:\s*(?:to|-)\s*(\d+(?:\.\d+)?))?\s*(international units|[a-zµ%]+)?")


@dataclass
class Counts:
    tp: int = 0
    predicted: int = 0
    gold: int = 0

    def figures(self) -> tuple[float, float]:
        precision = self.tp / self.predicted if self.predicted else 1.0
        recall = self.tp / self.gold if self.gold else 1.0
        return round(precision, 3), round(recall, 3)


@dataclass
class Score:
    fields: dict[str, Counts] = field(default_factory=lambda: {f: Counts() for f in FIELDS})

    def as_figures(self, prefix: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, counts in self.fields.items():
            precision, recall = counts.figures()
            out[f"{prefix}{name}_precision"] = precision
            out[f"{prefix}{name}_recall"] = recall
        return out


def gold_records(root: Path | None = None) -> list[tuple[dict[str, Any], str]]:
    """(gold record, note text) for every gold record."""
    data = (root or install_root()) / "tests" / "data"
    notes: dict[str, str] = {}
    for file in _DATASETS.values():
        with open(data / "clinical" / file, encoding="utf-8") as fh:
            for line in fh:
                record = json.loads(line)
                notes[record["id"]] = record.get("note") or record.get("text") or ""
    with open(data / "summary_gold.jsonl", encoding="utf-8") as fh:
        gold = [json.loads(line) for line in fh if line.strip()]
    return [(g, notes[g["id"]]) for g in gold]


def generic(name: str) -> str:
    terms = sentence_terms(name, 0, 0, len(name), lexicon())
    medicines = [t.medicine for t in terms if t.medicine]
    return medicines[0] if medicines else " ".join(name.lower().split())


def dose_key(dose: str | None) -> tuple[str, ...] | None:
    if not dose:
        return None
    match = _DOSE.search(dose.lower().replace(",", ""))
    if match is None:
        return (dose.lower().strip(),)
    unit = _UNITS.get((match.group(3) or "").strip(), (match.group(3) or "").strip())
    low = match.group(1)
    if unit == "g":  # 1 g is 1000 mg
        low, unit = f"{float(low) * 1000:g}", "mg"
    number = low if "/" in low else f"{float(low):g}"
    return (number, f"{float(match.group(2)):g}" if match.group(2) else "", unit)


def frequency_key(text: str | None) -> str | None:
    if not text:
        return None
    t = text.lower()
    if "as needed" in t or "prn" in t:
        return "prn"
    if any(w in t for w in ("bedtime", "at night", "every morning", "every evening", "nightly")):
        return "1/d"
    if "every other day" in t:
        return "0.5/d"
    count = {"once": "1", "twice": "2", "three times": "3", "four times": "4"}
    number = next((v for k, v in count.items() if k in t), None)
    found = re.search(r"(\d+(?:\.\d+)?)(?:\s*(?:-|to)\s*(\d+))?\s*times", t)
    if found:
        number = found.group(1) + (f"-{found.group(2)}" if found.group(2) else "")
    per = "w" if "week" in t else "d"
    return f"{number or '1'}/{per}"


def _alternatives(value: str | None) -> list[str | None]:
    return [v.strip() for v in value.split("|")] if value else [None]


def predicted(facts: list[Fact]) -> tuple[dict[str, tuple[str, str]], list[str], list[str]]:
    """({generic: (dose, frequency)}, problems, allergies) as the bench compares them."""
    medicines: dict[str, tuple[str, str]] = {}
    for fact in sorted(facts, key=lambda f: f.start):
        if fact.kind != FactKind.MEDICATION or fact.action == MedicationAction.CONSIDERED:
            continue
        dose, frequency = medicines.get(fact.name, ("", ""))
        medicines[fact.name] = (fact.dose or dose, fact.frequency or frequency)
    problems: dict[str, str] = {}
    for fact in facts:
        if fact.kind == FactKind.PROBLEM and fact.action != ProblemStatus.RESOLVED:
            problems.setdefault(problem_key(fact.name), fact.name)
    allergies = sorted({generic(f.name) for f in facts if f.kind == FactKind.ALLERGY and f.name != NONE_KNOWN})
    return medicines, list(problems.values()), allergies


def _same_problem(a: str, b: str) -> bool:
    x, y = key_words(a), key_words(b)
    return bool(x and y) and (x <= y or y <= x or len(x & y) * 2 >= len(x | y))


def score_note(gold: dict[str, Any], facts: list[Fact], score: Score) -> None:
    medicines, problems, allergies = predicted(facts)
    f = score.fields
    for key in ("medicine_name", "medicine_name_dose", "medicine_name_dose_frequency"):
        f[key].predicted += len(medicines)
        f[key].gold += len(gold["medications"])
    for item in gold["medications"]:
        names = {generic(n) for n in item["name"].split("|")}
        hit = next((n for n in medicines if n in names or any(n in g.split(" and ") for g in names)), None)
        if hit is None:
            continue
        dose, frequency = medicines[hit]
        f["medicine_name"].tp += 1
        if dose_key(dose) in {dose_key(d) for d in _alternatives(item["dose"])}:
            f["medicine_name_dose"].tp += 1
            if frequency_key(frequency) == frequency_key(item["frequency"]):
                f["medicine_name_dose_frequency"].tp += 1
    _match_lists(gold["problems"], problems, _same_problem, f["problems"])
    _match_lists(gold["allergies"], allergies,
                 lambda g, p: generic(g) == p or generic(g) in p or p in generic(g), f["allergies"])


def _match_lists(gold: list[str], found: list[str], same: Any, counts: Counts) -> None:
    counts.gold += len(gold)
    counts.predicted += len(found)
    left = list(found)
    for item in gold:
        hit = next((p for p in left if any(same(alt, p) for alt in item.split("|"))), None)
        if hit is not None:
            left.remove(hit)
            counts.tp += 1


def evaluate(records: list[tuple[dict[str, Any], str]], model: ModelStep | None = None) -> tuple[Score, list[float]]:
    score = Score()
    times: list[float] = []
    for gold, text in records:
        started = time.perf_counter()
        facts = extract_facts(text, model).facts
        times.append(time.perf_counter() - started)
        score_note(gold, facts, score)
    return score, times


def _model_figures(request: BenchRequest, records: list[tuple[dict[str, Any], str]]) -> dict[str, Any]:
    from app.core.redact.pseudonyms import PseudonymMap
    from app.core.services.engines import load_language_model, load_redactor
    from app.core.summary.extract_llm import ModelExtractor

    settings = request.settings
    request.progress("summary: loading the redactor and the language model…")
    redactor = load_redactor(settings, request.models_dir)
    llm = load_language_model(settings, request.models_dir)
    try:
        for _ in llm.load():
            pass
        score = Score()
        times: list[float] = []
        for number, (gold, text) in enumerate(records, 1):
            request.progress(f"summary: model step, note {number} of {len(records)}…")
            step = ModelExtractor(llm, redactor, PseudonymMap())
            started = time.perf_counter()
            facts = extract_facts(text, step).facts
            times.append(time.perf_counter() - started)
            score_note(gold, facts, score)
        return {"model": llm.model_name, **score.as_figures("model_"),
                "model_s_per_note_p50": round(statistics.median(times), 2),
                "model_s_per_note_max": round(max(times), 2)}
    finally:
        llm.close()


def run(request: BenchRequest) -> dict[str, Any]:
    try:
        records = gold_records()
    except OSError:  # an installed bundle has no tests/data
        return {"skipped": "the gold file tests/data/summary_gold.jsonl and its notes are not here"}
    with PeakMemory() as memory:
        extract_facts(records[0][1])  # loads the word lists once
        score, times = evaluate(records)
        results: dict[str, Any] = {"notes": len(records), "target": TARGET, **score.as_figures()}
        results["parse_ms_per_note_p50"] = round(1000 * statistics.median(times), 2)
        results["parse_ms_per_note_max"] = round(1000 * max(times), 2)
        results["medicine_name_dose_within_target"] = (
            results["medicine_name_dose_precision"] >= TARGET and results["medicine_name_dose_recall"] >= TARGET
        )
        if not request.quick:
            try:
                results.update(_model_figures(request, records))
            except Exception as exc:  # no model installed, or it failed to load: the parser figures stand alone
                results["model_skipped"] = f"{type(exc).__name__}"
        else:
            results["model_skipped"] = "quick run"
    results["peak_rss_mib"] = memory.peak_mib
    return results


# --- the patient view with its summary, at scale (called by `bench store`) ---------------------------------------

TEMPLATE_NOTES = (  # one synthetic patient's year: five accepted notes whose facts are extracted once
    "ASSESSMENT AND PLAN\n1. Hypertension. Blood pressure 152/96. Start lisinopril 10 mg once daily.\n"
    "2. Type 2 diabetes. Hemoglobin A1c 8.1. Continue metformin 500 mg twice daily.\nAllergies: penicillin (rash).\n"
    "Follow up in 4 weeks.",
    "ASSESSMENT AND PLAN\nHypertension. BP 144/90. Increase lisinopril to 20 mg once daily.\n"
    "Type 2 diabetes. Continue metformin 500 mg twice daily.\nReview in 3 months.",
    "HISTORY OF PRESENT ILLNESS\nThe patient has a past medical history of hypertension and type 2 diabetes.\n"
    "MEDICATIONS\nLisinopril 20 mg once daily. Metformin 1000 mg twice daily.\nVITALS\nBlood pressure: 136/84.\n"
    "ASSESSMENT AND PLAN\nDiabetes type 2. Hemoglobin A1c 7.4. Continue metformin 1000 mg twice daily.",
    "ASSESSMENT AND PLAN\n1. Acute bronchitis. Start amoxicillin 500 mg three times daily for 7 days.\n"
    "2. Hypertension. BP 130/82. Continue lisinopril 20 mg once daily.\nReturn in 2 weeks if not better.",
    "ASSESSMENT AND PLAN\nHypertension. Blood pressure 128/80. Continue lisinopril 20 mg once daily.\n"
    "Acute bronchitis, resolved. Stop amoxicillin.\nType 2 diabetes. Hemoglobin A1c 6.9.\nFollow up in 6 months.",
)


def fill_summaries(db: Any, patient_ids: range, notes_per_patient: int = 5) -> None:
    """Give each patient `notes_per_patient` accepted notes (the templates) with their extracted facts. Bulk SQL in
    one transaction, so filling 50,000 notes takes seconds; what is measured goes through the service."""
    from datetime import UTC, datetime, timedelta

    from app.core.storage.schema import to_db_time
    from app.core.summary.facts import facts_to_json

    texts = [TEMPLATE_NOTES[k % len(TEMPLATE_NOTES)] for k in range(notes_per_patient)]
    facts = [facts_to_json(extract_facts(text).facts) for text in texts]
    start = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)
    encounter0 = int(db.scalar("SELECT coalesce(max(id), 0) FROM encounters")) + 1
    note0 = int(db.scalar("SELECT coalesce(max(id), 0) FROM notes")) + 1
    version0 = int(db.scalar("SELECT coalesce(max(id), 0) FROM note_versions")) + 1
    encounters, notes, versions, rows = [], [], [], []
    for n, patient_id in enumerate(patient_ids):
        for k in range(notes_per_patient):
            i = n * notes_per_patient + k
            at = to_db_time(start + timedelta(days=70 * k + n % 30))
            encounters.append((encounter0 + i, patient_id, at, "follow-up", "closed", at, at))
            notes.append((note0 + i, encounter0 + i, "soap", at))
            versions.append((version0 + i, note0 + i, 1, "accepted", texts[k], "doctor", "", at))
            rows.append((version0 + i, "done", facts[k], "parsers-1", "", at))
    with db.transaction("fill the benchmark store"):
        db.executemany("INSERT INTO encounters(id, patient_id, started_at, reason, status, created_at, updated_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", encounters)
        db.executemany("INSERT INTO notes(id, encounter_id, kind, created_at) VALUES (?, ?, ?, ?)", notes)
        db.executemany("INSERT INTO note_versions(id, note_id, version, status, text, author, model, created_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", versions)
        db.executemany("INSERT INTO note_facts(note_version_id, status, facts_json, extractor, error, updated_at) "
                       "VALUES (?, ?, ?, ?, ?, ?)", rows)
