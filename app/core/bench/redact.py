"""Redaction benchmark: time per dictation, notes per second, our cost over spaCy itself, memory.

Figures:
- load_s: building the engine (spaCy NER pipe + word lists), once.
- dictation_300_words_ms: median time to redact a 300-word dictation with identifiers, engine loaded and warm.
  Target <= 50 ms (the review screen appears right after dictation stops).
- notes_per_s: `redact_many` over the deid dev texts (all 872 notes, or 60 with `quick`).
- spacy_direct_notes_per_s / ratio_vs_spacy_direct: `nlp.pipe` of the same model, NER pipe only, on the same
  texts. The ratio (ours / spaCy's time) is what the rules, filters and placeholders add.
- over_redaction_per_1000: characters removed per 1,000 on the MTSamples notes (clinical text with almost no
  identifiers: what it removes is mostly clinical meaning lost). aci_names_surviving: ACI-BENCH dialogues in which
  the patient's first or family name (from the record's metadata) is still in the redacted text. Both need the
  development data beside the checkout (../shared/data); they are left out when it is not there.
- long_<size>_s_per_100kb: seconds per 100 KB to redact one long text (a pasted history, a day of dictation) of
  100 KB, 1 MB and 4 MB (100 KB and 256 KB with `quick`), made of the MTSamples notes and dev texts one after another
  (the dictation repeated outside a development checkout). Equal figures mean time grows linearly with the text;
  long_growth is the largest size's figure over the smallest's. Target <= 2 s per 100 KB.
- sets (with `--sets`): recall, name recall, character precision, over-redaction and time per data set, the
  development text the rules were written against apart from the held-out split and the project's own held-out
  cases (see redact_sets.py). Scored in full also with `quick`.
- peak_rss_mib: the highest resident memory seen during the run.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from typing import Any

from app.core.bench.common import BenchRequest, PeakMemory
from app.core.bench.redact_sets import score_sets
from app.core.paths import install_root

TARGET_DICTATION_MS = 50.0
TARGET_LONG_S_PER_100KB = 2.0
LONG_SIZES_KB = (100, 1024, 4096)
LONG_SIZES_KB_QUICK = (100, 256)
DICTATION = (
    "patient is john smith date of birth march third nineteen fifty seen today at st marys hospital mrn four five "
    "six seven eight nine phone five five five one two one two. he is a seventy two year old male with a history of "
    "hypertension type two diabetes and Parkinson's disease on metformin 500 mg twice daily and lisinopril 10 mg "
    "daily. blood pressure 142 over 88 heart rate 76 temperature 98.6 oxygen saturation 97 percent on room air. "
    "he reports chest pain radiating to the left arm since yesterday with shortness of breath on exertion. "
    "his wife mary smith says he was admitted on January 5, 2023 to Boston General Hospital and discharged on "
    "January 19, 2023. exam shows a Foley catheter in place, no edema, Glasgow Coma Scale 15. "
)


def dictation(words: int = 300) -> str:
    base = DICTATION.split()
    return " ".join(base[i % len(base)] for i in range(words))


def _shared_jsonl(*parts: str) -> list[dict[str, Any]]:
    path = install_root().parent.joinpath("shared", "data", *parts)
    if not path.is_file():
        return []
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _dev_texts(quick: bool) -> list[str]:
    texts = [str(r["text"]) for r in _shared_jsonl("deid", "dev.jsonl")]
    if not texts:  # outside a development checkout: the dictation cut into notes
        text = dictation(3000)
        texts = [text[i : i + 200] for i in range(0, len(text), 200)]
    return texts[:60] if quick else texts


def run(request: BenchRequest) -> dict[str, Any]:
    from app.core.installed_models import locate
    from app.core.redact.engine import SpacyRedactor
    from app.core.redact.ner import MODEL_NAME, load_spacy_ner

    out: dict[str, Any] = {}
    with PeakMemory() as peak:
        started = time.perf_counter()
        redactor = SpacyRedactor.from_settings(request.settings, request.models_dir)
        out["load_s"] = round(time.perf_counter() - started, 3)
        request.progress("redaction engine loaded")

        text = dictation(300)
        redactor.redact(text)  # warm-up
        times = []
        for _ in range(3 if request.quick else 30):
            t0 = time.perf_counter()
            redactor.redact(text)
            times.append((time.perf_counter() - t0) * 1000)
        out["dictation_300_words_ms"] = round(statistics.median(times), 2)
        out["dictation_300_words_ms_max"] = round(max(times), 2)
        out["dictation_target_ms"] = TARGET_DICTATION_MS
        out["dictation_within_target"] = out["dictation_300_words_ms"] <= TARGET_DICTATION_MS

        texts = _dev_texts(request.quick)
        t0 = time.perf_counter()
        for _result in redactor.redact_many(texts):
            pass
        ours = time.perf_counter() - t0
        out["notes"] = len(texts)
        out["notes_per_s"] = round(len(texts) / ours, 1)
        request.progress("redacted the dev notes")

        # The same model called directly: the NER pipe alone, as the engine loads it.
        ner = load_spacy_ner(locate(MODEL_NAME, request.models_dir))
        ner(texts[:5])  # warm-up
        t0 = time.perf_counter()
        ner(texts)
        direct = time.perf_counter() - t0
        out["spacy_direct_notes_per_s"] = round(len(texts) / direct, 1)
        out["ratio_vs_spacy_direct"] = round(ours / direct, 2)
        direct_times = []
        for _ in range(3 if request.quick else 30):
            t0 = time.perf_counter()
            ner([text])
            direct_times.append((time.perf_counter() - t0) * 1000)
        out["spacy_direct_dictation_ms"] = round(statistics.median(direct_times), 2)
        out.update(_clinical_figures(redactor, request.quick))
        if request.redact_sets:
            out["sets"] = score_sets(request.redact_sets, lambda t: redactor.detect_many([t])[0], request.progress)
        out.update(_long_text_figures(redactor, request))
    out["peak_rss_mib"] = peak.peak_mib
    return out


def size_label(kb: int) -> str:
    return f"{kb // 1024}mb" if kb % 1024 == 0 else f"{kb}kb"


def long_text(chars: int) -> str:
    """A long text of clinical notes and short texts, as one long paste: each MTSamples note followed by a few dev
    texts, repeated until `chars` long."""
    notes = [str(r["text"]) for r in _shared_jsonl("clinical", "mtsamples_sample50.jsonl")]
    short = [str(r["text"]) for r in _shared_jsonl("deid", "dev.jsonl")]
    pieces: list[str] = []
    per_note = max(1, len(short) // max(1, len(notes)))
    for i, note in enumerate(notes):
        pieces += [note, *short[i * per_note : (i + 1) * per_note]]
    pieces = pieces or short or [dictation(300)]
    out: list[str] = []
    size = 0
    while size < chars:
        piece = pieces[len(out) % len(pieces)]
        out.append(piece)
        size += len(piece) + 2
    return "\n\n".join(out)[:chars]


def _long_text_figures(redactor: Any, request: BenchRequest) -> dict[str, Any]:
    """Seconds per 100 KB at each size: the same figure at every size means redaction time is linear."""
    figures: dict[str, Any] = {}
    sizes = LONG_SIZES_KB_QUICK if request.quick else LONG_SIZES_KB
    per_100kb: list[float] = []
    redactor.redact(long_text(sizes[0] * 1024))  # warm-up: spaCy's vocabulary and the caches meet these words once
    for kb in sizes:
        text = long_text(kb * 1024)
        t0 = time.perf_counter()
        redactor.redact(text)
        seconds = time.perf_counter() - t0
        per_100kb.append(seconds / (len(text) / (100 * 1024)))
        figures[f"long_{size_label(kb)}_s_per_100kb"] = round(per_100kb[-1], 3)
        request.progress(f"redacted a long text of {size_label(kb).upper()}")
    figures["long_growth"] = round(per_100kb[-1] / per_100kb[0], 2)
    figures["long_target_s_per_100kb"] = TARGET_LONG_S_PER_100KB
    figures["long_within_target"] = max(per_100kb) <= TARGET_LONG_S_PER_100KB
    return figures


def _clinical_figures(redactor: Any, quick: bool) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    notes = [str(r["text"]) for r in _shared_jsonl("clinical", "mtsamples_sample50.jsonl")][: 5 if quick else None]
    if notes:
        removed = sum(s.end - s.start for spans in redactor.detect_many(notes) for s in spans)
        figures["over_redaction_per_1000"] = round(1000 * removed / sum(len(n) for n in notes), 2)
    dialogues = _shared_jsonl("clinical", "aci_bench_dev.jsonl")[: 3 if quick else None]
    if dialogues:
        surviving = 0
        for record in dialogues:
            redacted = redactor.redact(str(record["dialogue"])).redacted_text
            names = [record["metadata"].get(k) for k in ("patient_firstname", "patient_familyname")]
            surviving += any(n and re.search(rf"\b{re.escape(str(n))}\b", redacted, re.IGNORECASE) for n in names)
        figures["aci_dialogues"] = len(dialogues)
        figures["aci_names_surviving"] = surviving
    return figures
