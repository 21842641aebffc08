"""The grounding check on the default model's real drafts, not on injected errors.

    .venv/bin/python bench/grounding_real_drafts.py draft [--out DIR] [--limit N] [--ids ID ...]
    .venv/bin/python bench/grounding_real_drafts.py keep [--drafts DIR]
    .venv/bin/python bench/grounding_real_drafts.py check [--drafts DIR] [--markdown FILE]

`draft` writes a SOAP note for ACI-BENCH dialogues (../shared/data/clinical/aci_bench_dev.jsonl, file order) with
the app's own pipeline (redact, then the `answer` stage with the settings' local model, a fixed seed), one JSON
file per dialogue in DIR (default /tmp/grounding_drafts). A dialogue already drafted there is skipped, so the loop
can be stopped and resumed. Each draft takes minutes on a 2-core machine.

`check` runs the grounding check (with the patient's age and sex from the record, as the window gives them) on each
draft and sets every flag beside the verdict given by hand in `bench/results/grounding_real_drafts.json`: "real"
(the model wrote a fact the consultation does not say, or says otherwise) or "false" (the consultation does say
it), with the category of a false flag. Without --drafts it checks the drafts kept in that file, so the table in
`bench/results/grounding_real_drafts.md` is reproduced without a model; with --drafts it checks new drafts and
counts the flags no verdict covers yet ("not reviewed"). A verdict is keyed by the flag's kind, words and reason, so
it survives a change to the check that moves nothing but offsets. `keep` copies the drafts of DIR into that file
(the verdicts already given are kept).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

VERDICTS = REPO / "bench" / "results" / "grounding_real_drafts.json"
MARKDOWN = REPO / "bench" / "results" / "grounding_real_drafts.md"
DEFAULT_OUT = Path("/tmp/grounding_drafts")
SEED = 16
REFERENCE_DATE = date(2024, 1, 15)  # the redaction map's visit date: fixed, so a rerun sees the same prompt


def _records() -> list[dict[str, Any]]:
    from app.core.bench.grounding import aci_records

    return aci_records()


def draft(out: Path, limit: int, ids: list[str]) -> int:
    from app.core.config import load_settings, models_dir
    from app.core.errors import AppError, CancelToken
    from app.core.services import consultation as c
    from app.core.services.engines import load_language_model, load_redactor
    from app.core.services.events import Redacted

    settings = load_settings().settings.model_copy(deep=True)
    settings.llm.seed = SEED
    settings.llm.idle_unload_s = 0
    models = models_dir(settings)
    records = [r for r in _records() if not ids or r["id"] in ids][:limit]
    out.mkdir(parents=True, exist_ok=True)
    redactor = load_redactor(settings, models)
    llm = load_language_model(settings, models)
    pipeline = c.ConsultationPipeline(settings, redactor=redactor, llm=llm)
    cancel = CancelToken()
    try:
        for _step in llm.load(cancel):
            pass  # loading, reported by its steps: nothing to show here
        for record in records:
            target = out / f"{record['id']}.json"
            if target.exists():
                continue
            started = time.perf_counter()
            events = list(pipeline.redact(record["dialogue"], None, reference_date=REFERENCE_DATE))
            redacted = next(e for e in events if isinstance(e, Redacted))
            done: c.AnswerDone | None = None
            result: dict[str, Any] = {"id": record["id"], "model": Path(settings.llm.model).stem, "seed": SEED}
            try:
                for event in pipeline.answer(redacted.result.redacted_text, redacted.pseudonyms, "soap", None,
                                             cancel):
                    if isinstance(event, c.AnswerDone):
                        done = event
            except AppError as exc:  # a draft the app could not make is a finding too: kept, and the loop goes on
                result.update(draft="", error=exc.message)
            if done is not None:
                result.update(model=done.draft.completion.model, draft=done.display_text,
                              condensed_parts=done.draft.condensed_parts)
            result["seconds"] = round(time.perf_counter() - started, 1)
            tmp = target.with_suffix(".tmp")
            tmp.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
            tmp.replace(target)
            print(f"{record['id']}: {result['seconds']} s {result.get('error', '')}".rstrip(), flush=True)
    finally:
        llm.close()
    return 0


def flag_key(flag: dict[str, Any]) -> str:
    return f"{flag['kind']}|{flag['text']}|{flag['reason']}"


def _drafts(directory: Path | None, kept: dict[str, Any]) -> dict[str, str]:
    if directory is None:
        return {note_id: kept[note_id]["draft"] for note_id in sorted(kept)}
    found = {}
    for path in sorted(directory.glob("aci-*.json")):
        entry = json.loads(path.read_text(encoding="utf-8"))
        found[entry["id"]] = entry["draft"]
    return found


HEADER = """# The grounding check on the default model's real drafts

Generated by `.venv/bin/python bench/grounding_real_drafts.py check --markdown
bench/results/grounding_real_drafts.md` from the drafts and the verdicts kept in `grounding_real_drafts.json` (a
verdict per flag, given by hand against the dialogue). `draft` wrote the drafts: {model}, through the app's own
pipeline (redaction, the SOAP task, the settings' sampling with seed {seed}), for the 21 ACI-BENCH dialogues of
`../shared/data/clinical/aci_bench_dev.jsonl`, on a 2-core machine shared with other jobs ({minutes} minutes per
draft on average, 1 to 30). The check is given the patient's age and sex from the record, as the window gives
them; "check ms" is one check of the draft against its dialogue.

- **real error**: the draft states a fact the dialogue does not say, or says otherwise.
- **false flag**: the dialogue does say it; the category says why the check missed that.
"""


def check(directory: Path | None, markdown: Path | None) -> int:
    from app.core.bench.grounding import demographics
    from app.core.grounding import ground

    kept: dict[str, Any] = json.loads(VERDICTS.read_text(encoding="utf-8")) if VERDICTS.exists() else {}
    drafts: dict[str, Any] = kept.get("drafts", {})
    records = {r["id"]: r for r in _records()}
    table = ["| dialogue | draft words | flags | real errors | false flags | false flag categories | not reviewed "
             "| check ms |", "|---|---|---|---|---|---|---|---|"]
    details: list[str] = []
    totals = {"flags": 0, "real": 0, "false": 0, "open": 0}
    ground("Warm-up.", "[doctor] warm-up .")  # the word lists load once: not part of any note's time
    failed = []
    for note_id, text in _drafts(directory, drafts).items():
        if not text:
            failed.append(f"- {note_id}: no draft: {drafts.get(note_id, {}).get('error', 'the model gave none')}")
            continue
        record = records[note_id]
        started = time.perf_counter()
        report = ground(text, record["dialogue"], [demographics(record)])
        ms = (time.perf_counter() - started) * 1000
        verdicts: dict[str, dict[str, str]] = drafts.get(note_id, {}).get("flags", {})
        flags = [f for s in report.as_dict()["sentences"] for f in s["flags"]]
        judged = [(f, verdicts.get(flag_key(f), {})) for f in flags]
        real = sum(1 for _f, v in judged if v.get("verdict") == "real")
        false = [v for _f, v in judged if v.get("verdict") == "false"]
        unreviewed = sum(1 for _f, v in judged if not v)
        categories = ", ".join(sorted({v.get("category", "") for v in false}))
        table.append(f"| {note_id} | {len(text.split())} | {len(flags)} | {real} | {len(false)} | {categories} "
                     f"| {unreviewed} | {ms:.0f} |")
        totals["flags"] += len(flags)
        totals["real"] += real
        totals["false"] += len(false)
        totals["open"] += unreviewed
        details.append(f"### {note_id}")
        for f, v in judged:
            verdict = v.get("verdict", "not reviewed")
            category = f" ({v['category']})" if v.get("category") else ""
            details.append(f"- {f['kind']}: {f['reason']} — **{verdict}**{category}: {v.get('why', '')}")
        if not judged:
            details.append("- no flags")
        for missed in drafts.get(note_id, {}).get("missed", []):
            details.append(f"- not flagged: {missed}")
        details.append("")
    table.append(f"| **all {len(table) - 2}** | | {totals['flags']} | {totals['real']} | {totals['false']} | "
                 f"| {totals['open']} | |")
    print("\n".join(table))
    if markdown is not None:
        seconds = [e.get("seconds", 0) for e in drafts.values()]
        header = HEADER.format(model=kept.get("model", "?"), seed=kept.get("seed", SEED),
                               minutes=round(sum(seconds) / max(1, len(seconds)) / 60, 1))
        summary = kept.get("summary", "")
        failures = ["", "Drafts the app could not make:", "", *failed] if failed else []
        body = [header, "\n".join(table), *failures, "", summary, "", "## Each flag", "", *details]
        markdown.write_text("\n".join(body).rstrip() + "\n", encoding="utf-8")
    return 0


def keep(directory: Path) -> int:
    """Copy the drafts of `directory` into the verdicts file, keeping the verdicts already given."""
    kept: dict[str, Any] = json.loads(VERDICTS.read_text(encoding="utf-8")) if VERDICTS.exists() else {}
    drafts = kept.setdefault("drafts", {})
    for path in sorted(directory.glob("aci-*.json")):
        entry = json.loads(path.read_text(encoding="utf-8"))
        kept.setdefault("model", entry["model"])
        kept.setdefault("seed", entry["seed"])
        known = drafts.setdefault(entry["id"], {"flags": {}, "missed": []})
        known.update(draft=entry["draft"], seconds=entry["seconds"])
        if entry.get("error"):
            known["error"] = entry["error"]
    VERDICTS.write_text(json.dumps(kept, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("draft", help="draft SOAP notes with the settings' model")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--limit", type=int, default=21)
    p.add_argument("--ids", nargs="*", default=[])
    q = sub.add_parser("check", help="check the drafts and set each flag beside its verdict")
    q.add_argument("--drafts", type=Path, help="a folder `draft` wrote (default: the drafts kept with the verdicts)")
    q.add_argument("--markdown", type=Path, help="also write the table to this file")
    k = sub.add_parser("keep", help="copy the drafts of a folder into the verdicts file (verdicts kept)")
    k.add_argument("--drafts", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if args.command == "draft":
        return draft(args.out, args.limit, args.ids)
    if args.command == "keep":
        return keep(args.drafts)
    return check(args.drafts, args.markdown)


if __name__ == "__main__":
    sys.exit(main())
