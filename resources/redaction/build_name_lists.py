"""Rebuild the name lists in this folder (a development-time tool; the app only reads the .txt files).

Sources, both free to use:
- US Census 1990 name frequency files (public domain), as shipped in the `names` 0.3.0 sdist (MIT):
  dist.male.first, dist.female.first, dist.all.last.
- SCOWL English word list (Debian package `wamerican`, /usr/share/dict/words; permissive licence, see README.md),
  used only to split names that are also ordinary English words ("Will", "Grace", "Green") from those that are not.

Usage: python build_name_lists.py CENSUS_DIR [/usr/share/dict/words]
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SURNAME_LIMIT = 30000  # the most frequent surnames cover ~90% of the population; the tail is mostly noise


def read_census(path: Path) -> list[str]:
    return [line.split()[0].lower() for line in path.read_text().splitlines() if line.strip()]


def main() -> None:
    census = Path(sys.argv[1])
    words_file = Path(sys.argv[2] if len(sys.argv) > 2 else "/usr/share/dict/words")
    words = {w.strip().lower() for w in words_file.read_text(errors="ignore").splitlines() if w[:1].islower()}
    first = list(dict.fromkeys(read_census(census / "dist.male.first") + read_census(census / "dist.female.first")))
    last = read_census(census / "dist.all.last")[:SURNAME_LIMIT]
    header = "# Derived from US Census 1990 name files (public domain). See README.md.\n"
    outputs = {
        "first_names.txt": sorted(n for n in first if n not in words and len(n) > 2),
        "first_names_ambiguous.txt": sorted(n for n in first if n in words or len(n) <= 2),
        "surnames.txt": sorted(n for n in last if n not in words and len(n) > 2),
        "surnames_ambiguous.txt": sorted(n for n in last if n in words or len(n) <= 2),
    }
    # Proper nouns of the dictionary (months, nationalities, big cities) are kept apart: a capitalised word found
    # there is known (not guessed to be a name), but the language model's place names are not dropped for it.
    raw = [w.strip() for w in words_file.read_text(errors="ignore").splitlines()]
    common = sorted({w for w in words if "'" not in w and len(w) > 1 and w.isalpha()})
    proper = sorted(
        {w.lower() for w in raw if w[:1].isupper() and "'" not in w and w.isalpha() and len(w) > 1} - set(common)
    )
    for name, items, what in (
        ("english_words.txt", common, "English words"),
        ("proper_words.txt", proper, "proper nouns"),
    ):
        (HERE / name).write_text(
            f"# {what} (lower-cased) from SCOWL (wamerican); see README.md for its licence.\n"
            + "\n".join(items)
            + "\n",
            encoding="utf-8",
        )
        print(name, len(items))
    for name, items in outputs.items():
        (HERE / name).write_text(header + "\n".join(items) + "\n", encoding="utf-8")
        print(name, len(items))


if __name__ == "__main__":
    main()
