"""The scorer behind `redact --eval`: which gold spans count, and how found/correct are decided."""

from __future__ import annotations

from app.core.redact.base import Kind, Span
from app.core.redact.evaluate import Scorer, format_table, gold_record, is_safe_harbor


def record(text: str, phi: list[tuple[str, str]], rid: str = "r") -> dict[str, object]:
    spans = []
    for value, kind in phi:
        start = text.index(value)
        spans.append({"start": start, "end": start + len(value), "type": kind, "text": value})
    return {"id": rid, "text": text, "phi": spans}


def at(text: str, value: str, kind: Kind) -> Span:
    start = text.index(value)
    return Span(start, start + len(value), kind, value)


def test_only_safe_harbor_spans_are_scored() -> None:
    assert is_safe_harbor("NAME", "John")
    assert not is_safe_harbor("ORGANIZATION", "Acme")
    assert not is_safe_harbor("AGE", "64")
    assert is_safe_harbor("AGE", "93")
    assert not is_safe_harbor("DATE", "2021")
    assert is_safe_harbor("DATE", "May 2021")


def test_span_and_character_figures() -> None:
    text = "Dr. Alice Morris saw Bob at Acme on May 3, 2022 for a 64 year old."
    gold = gold_record(
        record(
            text,
            [
                ("Alice Morris", "NAME"),
                ("Bob", "NAME"),
                ("Acme", "ORGANIZATION"),
                ("May 3, 2022", "DATE"),
                ("64", "AGE"),
            ],
        )
    )
    scorer = Scorer()
    predicted = [
        at(text, "Alice Morris", Kind.NAME),  # found
        at(text, "Acme", Kind.LOCATION),  # touches only a non-Safe-Harbor span: not counted
        at(text, "May 3", Kind.DATE),  # leaves "2022" readable: missed
        at(text, "year", Kind.NAME),  # touches nothing: a false positive
    ]
    scorer.add(gold, predicted)
    report = scorer.report(with_errors=True)
    assert report["per_kind"]["NAME"]["span_recall"] == 0.5  # Bob missed
    assert report["per_kind"]["DATE"]["span_recall"] == 0.0
    assert report["overall"]["detected_spans"] == 3
    assert report["overall"]["span_precision"] == round(2 / 3, 4)
    assert report["misses"] == [
        {"id": "r", "kind": "NAME", "text": "Bob"},
        {"id": "r", "kind": "DATE", "text": "May 3, 2022"},
    ]
    assert report["false_positives"][0]["text"] == "year"
    assert any("OVERALL" in line for line in format_table(report))


def test_false_positive_rate_on_clean_records() -> None:
    scorer = Scorer()
    clean = gold_record(record("Metformin 500 mg twice daily.", [], "c1"))
    scorer.add(clean, [])
    scorer.add(gold_record(record("Aspirin daily.", [], "c2")), [Span(0, 7, Kind.NAME, "Aspirin")])
    assert scorer.report()["records_without_identifiers"] == {
        "count": 2,
        "with_any_detection": 1,
        "false_positive_rate": 0.5,
    }


def test_titles_places_and_labels_need_not_be_hidden() -> None:
    text = "Dr. Emily Price of Austin, TX, USA, patient ID: AB1234, lives in Texas; Mrs. Georgia Hale called."
    gold = gold_record(
        record(
            text,
            [
                ("Dr. Emily Price", "NAME"),
                ("Austin, TX, USA", "LOCATION"),
                ("patient ID: AB1234", "ID"),
                ("Texas", "LOCATION"),
                ("Georgia Hale", "NAME"),
            ],
        )
    )
    scorer = Scorer()
    predicted = [
        at(text, "Emily Price", Kind.NAME),  # the title may stay
        at(text, "Austin", Kind.LOCATION),  # the state and the country may stay
        at(text, "AB1234", Kind.ID),  # the label may stay
        at(text, "Georgia", Kind.NAME),  # a person called Georgia: her surname must go too
    ]
    scorer.add(gold, predicted)
    report = scorer.report(with_errors=True)
    assert report["per_kind"]["LOCATION"]["gold_spans"] == 1  # "Texas" alone is not required
    assert report["per_kind"]["LOCATION"]["span_recall"] == 1.0
    assert report["per_kind"]["ID"]["span_recall"] == 1.0
    assert report["per_kind"]["NAME"]["span_recall"] == 0.5
    assert report["misses"] == [{"id": "r", "kind": "NAME", "text": "Georgia Hale"}]


def test_a_payer_before_a_plan_number_is_a_label() -> None:
    text = "Covered under Medicare #AB-987654 since May."
    gold = gold_record(record(text, [("Medicare #AB-987654", "HEALTH_PLAN_ID")]))
    scorer = Scorer()
    scorer.add(gold, [at(text, "AB-987654", Kind.HEALTH_PLAN_ID)])
    assert scorer.report()["per_kind"]["HEALTH_PLAN_ID"]["span_recall"] == 1.0
