"""Build the held-out redaction sets from their marked sources, so every gold offset is computed, never typed.

    .venv/bin/python bench/build_deid_heldout.py            # write tests/data/deid_heldout/<set>.jsonl
    .venv/bin/python bench/build_deid_heldout.py --check    # exit 1 when a JSONL file or the held-out list is stale
    .venv/bin/python bench/build_deid_heldout.py --split    # also (re)write tests/data/deid/heldout_ids.txt

A source (`tests/data/deid_heldout/source/<set>.txt`) is a list of records, each opened by a line `=== <id>`; lines
starting with `#` before the first record are comments. In a record's text, `{{KIND:words}}` marks a gold span of
that kind (the kinds of dev.jsonl). `{{COUNTRY:...}}` and `{{STATE:...}}` are written as LOCATION spans with
`"safe_harbor": false`: Safe Harbor does not ask for countries and states to be hidden, so the benchmark neither
requires them nor counts their hiding against precision. A title right before a NAME marker ("DR.", "NP", "Mrs")
becomes a TITLE span, which is not scored either, as in dev.jsonl.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from the checkout
    sys.path.insert(0, str(REPO))

from app.core.bench.deid_split import heldout_ids, read_heldout_list, write_heldout_list  # noqa: E402

HELDOUT_DIR = REPO / "tests" / "data" / "deid_heldout"
DEV = REPO / "tests" / "data" / "deid" / "dev.jsonl"
HELDOUT_LIST = REPO / "tests" / "data" / "deid" / "heldout_ids.txt"
SETS = ("nursing", "conversations", "world")
# The kinds dev.jsonl uses.
KINDS = frozenset(
    {"NAME", "LOCATION", "DATE", "AGE", "MRN", "PHONE", "EMAIL", "URL", "IP", "SSN", "ACCOUNT", "HEALTH_PLAN_ID"}
    | {"LICENSE", "ID", "ORGANIZATION", "TITLE", "NRP"}
)
NOT_REQUIRED = {"COUNTRY": "LOCATION", "STATE": "LOCATION"}
_MARKER = re.compile(r"\{\{([A-Z_]+):(.+?)\}\}", re.DOTALL)
_HEADER = re.compile(r"^=== (\S+)\s*$")
_TITLE_BEFORE = re.compile(
    r"(?<![^\W_])(?:dr|mr|mrs|ms|miss|prof|fr|np|rn|pa|doctor|nurse|mister|missus)\.?\s+$", re.IGNORECASE
)


@dataclass(frozen=True)
class SourceRecord:
    id: str
    marked: str


def read_source(path: Path) -> list[SourceRecord]:
    records: list[SourceRecord] = []
    current: str | None = None
    lines: list[str] = []

    def close() -> None:
        if current is not None:
            records.append(SourceRecord(current, "\n".join(lines).strip("\n")))

    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        header = _HEADER.match(line)
        if header:
            close()
            current, lines = header.group(1), []
        elif current is not None:
            lines.append(line.rstrip())
        elif line.strip() and not line.startswith("#"):
            raise ValueError(f"{path.name}:{number}: text before the first '=== id' line")
    close()
    return records


def unmark(marked: str) -> tuple[str, list[dict[str, Any]]]:
    """The plain text and its gold spans, offsets computed from where the markers were."""
    text = ""
    spans: list[dict[str, Any]] = []
    last = 0
    for match in _MARKER.finditer(marked):
        kind, words = match.group(1), match.group(2)
        if kind not in KINDS and kind not in NOT_REQUIRED:
            raise ValueError(f"unknown kind {kind!r}")
        if words != words.strip() or "{{" in words:
            raise ValueError(f"badly marked span {words!r}")
        text += marked[last : match.start()]
        title = _TITLE_BEFORE.search(text) if kind == "NAME" else None
        if title:
            end = title.start() + len(title.group(0).rstrip())
            spans.append({"start": title.start(), "end": end, "type": "TITLE", "text": text[title.start() : end]})
        span: dict[str, Any] = {"start": len(text), "end": len(text) + len(words), "type": kind, "text": words}
        if kind in NOT_REQUIRED:
            span.update(type=NOT_REQUIRED[kind], safe_harbor=False)
        spans.append(span)
        text += words
        last = match.end()
    text += marked[last:]
    if "{{" in text or "}}" in text:
        raise ValueError("an unclosed marker")
    return text, spans


def build_set(name: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for record in read_source(HELDOUT_DIR / "source" / f"{name}.txt"):
        if record.id in seen:
            raise ValueError(f"{name}: id {record.id} used twice")
        seen.add(record.id)
        try:
            text, spans = unmark(record.marked)
        except ValueError as exc:
            raise ValueError(f"{name}: {record.id}: {exc}") from exc
        out.append({"id": record.id, "source": f"heldout_{name}", "text": text, "phi": spans})
    return out


def jsonl(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def dev_heldout_ids() -> list[str]:
    with open(DEV, encoding="utf-8") as fh:
        return heldout_ids(json.loads(line) for line in fh if line.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check that the files are up to date")
    parser.add_argument("--split", action="store_true", help="also write the held-out id list of dev.jsonl")
    args = parser.parse_args(argv)
    stale: list[str] = []
    for name in SETS:
        records = build_set(name)
        target = HELDOUT_DIR / f"{name}.jsonl"
        content = jsonl(records)
        words = [len(r["text"].split()) for r in records]
        spans = sum(len(r["phi"]) for r in records)
        print(f"{name}: {len(records)} records, {spans} spans, {min(words)}-{max(words)} words")
        if args.check:
            if not target.is_file() or target.read_text(encoding="utf-8") != content:
                stale.append(str(target.relative_to(REPO)))
        else:
            target.write_text(content, encoding="utf-8")
    if args.split and not args.check:
        write_heldout_list(dev_heldout_ids(), HELDOUT_LIST)
    elif not HELDOUT_LIST.is_file() or read_heldout_list(HELDOUT_LIST) != frozenset(dev_heldout_ids()):
        stale.append(str(HELDOUT_LIST.relative_to(REPO)))
    for path in stale:
        print(f"out of date: {path} (run bench/build_deid_heldout.py)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
