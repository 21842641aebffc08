"""The held-out split of the deid development set: records the redaction rules are never written against.

Within each `source`, records are ranked by the SHA-256 of their id and the first quarter (rounded) is held out, so
every source is represented in proportion and the split depends on nothing but the ids. The list it produced is
committed (`tests/data/deid/heldout_ids.txt`) and is what the benchmark reads: the list, not a recomputation, is the
promise, so a record that rule writers have seen cannot drift into the held-out side when the dev file changes.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

HELDOUT_SHARE = 0.25
SALT = "clinic-assistant deid held-out v1"
HEADER = (
    "# Held-out split of tests/data/deid/dev.jsonl (app/core/bench/deid_split.py): per source, the ids with the lowest "
    f"sha256('{SALT}:' + id), {HELDOUT_SHARE:.0%} rounded. Do not read these records or write redaction rules "
    "against them; they measure how the rules hold on text they were not tuned on."
)


def id_rank(record_id: str) -> str:
    return hashlib.sha256(f"{SALT}:{record_id}".encode()).hexdigest()


def heldout_ids(records: Iterable[Mapping[str, Any]], share: float = HELDOUT_SHARE) -> list[str]:
    """The held-out ids, sorted, `share` of each source's records (at least one per source)."""
    by_source: dict[str, list[str]] = defaultdict(list)
    for record in records:
        by_source[str(record.get("source", ""))].append(str(record["id"]))
    chosen: list[str] = []
    for ids in by_source.values():
        count = max(1, round(share * len(ids)))
        chosen += sorted(ids, key=id_rank)[:count]
    return sorted(chosen)


def write_heldout_list(ids: Iterable[str], path: Path) -> None:
    path.write_text("\n".join([HEADER, *ids]) + "\n", encoding="utf-8")


def read_heldout_list(path: Path) -> frozenset[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))
