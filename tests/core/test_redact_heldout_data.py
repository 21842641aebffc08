"""The held-out redaction data: the split of the dev set, the written sets built from their marked sources, and the
per-set scoring of `bench redact --sets` (with a stand-in detector; the real engine is in tests/integration)."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from app.core.bench.deid_split import heldout_ids, read_heldout_list, write_heldout_list
from app.core.bench.redact_sets import (
    ALL_SETS,
    load_gold_set,
    parse_sets,
    score_aci,
    score_gold_set,
    scored_record,
    sets_table,
)
from app.core.errors import InputError
from app.core.redact.base import Kind, Span

REPO = Path(__file__).resolve().parents[2]
DEV = REPO / "tests" / "data" / "deid" / "dev.jsonl"


def _builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_deid_heldout", REPO / "bench" / "build_deid_heldout.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def _dev() -> list[dict[str, object]]:
    return [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_split_is_a_stratified_quarter_that_depends_only_on_the_ids() -> None:
    records = [{"id": f"a-{i}", "source": "a"} for i in range(40)] + [{"id": f"b-{i}", "source": "b"} for i in range(3)]
    held = heldout_ids(records)
    assert Counter(r.split("-")[0] for r in held) == {"a": 10, "b": 1}
    assert heldout_ids(list(reversed(records))) == held
    assert heldout_ids([*records, {"id": "c-0", "source": "c"}]) == sorted([*held, "c-0"])  # every source has one


def test_committed_list_is_the_split_of_dev(tmp_path: Path) -> None:
    path = REPO / "tests" / "data" / "deid" / "heldout_ids.txt"
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("# Held-out split") and "write redaction rules against them" in header
    held = read_heldout_list(path)
    dev = _dev()
    assert held == frozenset(heldout_ids(dev))
    by_source = Counter(str(r["source"]) for r in dev)
    held_by_source = Counter(str(r["source"]) for r in dev if r["id"] in held)
    for source, count in by_source.items():
        assert abs(held_by_source[source] - count / 4) <= 1
    write_heldout_list(sorted(held), tmp_path / "ids.txt")
    assert read_heldout_list(tmp_path / "ids.txt") == held


def test_dev_and_heldout_sets_do_not_overlap() -> None:
    dev = {r["id"] for r in load_gold_set("dev") or []}
    held = {r["id"] for r in load_gold_set("heldout") or []}
    assert dev and held and not dev & held and len(dev) + len(held) == len(_dev())


def test_markers_become_exact_offsets_titles_and_optional_places() -> None:
    builder = _builder()
    marked = "Seen by DR. {{NAME:OKAFOR}} in {{LOCATION:Porto}}, {{COUNTRY:Portugal}} on {{DATE:12/3}}."
    text, spans = builder.unmark(marked)
    assert text == "Seen by DR. OKAFOR in Porto, Portugal on 12/3."
    assert [(text[s["start"] : s["end"]], s["type"]) for s in spans] == [
        ("DR.", "TITLE"),
        ("OKAFOR", "NAME"),
        ("Porto", "LOCATION"),
        ("Portugal", "LOCATION"),
        ("12/3", "DATE"),
    ]
    assert spans[3]["safe_harbor"] is False
    with pytest.raises(ValueError):
        builder.unmark("{{CONTACT:555-0100}}")
    with pytest.raises(ValueError):
        builder.unmark("{{NAME:Ann")


def test_written_sets_are_built_from_their_sources_with_dev_kinds() -> None:
    builder = _builder()
    assert builder.main(["--check"]) == 0, "run bench/build_deid_heldout.py"
    dev_kinds = {str(p["type"]) for r in _dev() for p in r["phi"]}  # type: ignore[attr-defined]
    sizes = {"nursing": 40, "conversations": 25, "world": 30}
    for name, least in sizes.items():
        records = load_gold_set(name)
        assert records is not None and len(records) >= least
        for record in records:
            for span in record["phi"]:
                assert span["type"] in dev_kinds
                assert record["text"][span["start"] : span["end"]] == span["text"]
    nursing_words = [len(r["text"].split()) for r in load_gold_set("nursing") or []]
    assert min(nursing_words) >= 60 and max(nursing_words) <= 400
    assert all(re.search(r"^\[doctor\]", r["text"]) for r in load_gold_set("conversations") or [])


def _at(text: str, value: str) -> Span:
    start = text.index(value)
    return Span(start, start + len(value), Kind.NAME, value)


def test_gold_set_figures() -> None:
    text = "DR. ODUYA saw Anna Berg from Oslo, Norway. Foley in place."
    phi = [
        {"start": 0, "end": 3, "type": "TITLE", "text": "DR."},
        {"start": 4, "end": 9, "type": "NAME", "text": "ODUYA"},
        {"start": 14, "end": 23, "type": "NAME", "text": "Anna Berg"},
        {"start": 29, "end": 33, "type": "LOCATION", "text": "Oslo"},
        {"start": 35, "end": 41, "type": "LOCATION", "text": "Norway", "safe_harbor": False},
    ]
    record = {"id": "x", "text": text, "phi": phi}
    assert [g.kind for g in scored_record(record).spans] == ["NAME", "NAME", "LOCATION"]

    def detect(t: str) -> list[Span]:
        return [_at(t, "DR. ODUYA"), _at(t, "Berg"), _at(t, "Norway"), _at(t, "Foley")]

    figures = score_gold_set([record], detect)
    assert figures["span_recall"] == round(1 / 3, 4)  # ODUYA; "Anna" left beside a hidden "Berg" is a miss
    assert figures["span_recall_strict"] == round(1 / 3, 4)
    assert figures["name_recall"] == 0.5 and figures["name_recall_strict"] == 0.5
    assert figures["char_precision"] == round(9 / 14, 4)  # ODUYA, Berg of ODUYA Berg Foley; DR., Norway not counted
    assert figures["over_redaction_per_1000"] == round(1000 * 5 / len(text), 2)  # Foley
    assert figures["ms_per_300_words"] is not None


def test_aci_counts_each_mention_of_the_patient() -> None:
    dialogue = "[doctor] hi andrew how are you\n[patient] fine\n[doctor] so andrew campbell your knee"
    record = {"dialogue": dialogue, "metadata": {"patient_firstname": "Andrew", "patient_familyname": "Campbell"}}

    def detect(t: str) -> list[Span]:
        start = t.index("andrew campbell")
        return [Span(start, start + len("andrew campbell"), Kind.NAME, "andrew campbell"), _at(t, "knee")]

    figures = score_aci([record], detect)
    assert figures["patient_name_mentions"] == 3
    assert figures["patient_name_mentions_left"] == 1
    assert figures["dialogues_with_a_name_left"] == 1
    assert figures["over_redaction_per_1000"] == round(1000 * 4 / len(dialogue), 2)


def test_set_names_and_table() -> None:
    assert parse_sets("all") == ALL_SETS
    assert parse_sets("dev, nursing") == ("dev", "nursing")
    with pytest.raises(InputError):
        parse_sets("dev,everything")
    rows = list(sets_table({"world": {"label": "world", "missing": "the world records"}}))
    assert "not found" in rows[-1]
