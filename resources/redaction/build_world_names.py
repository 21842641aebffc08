"""Rebuild first_names_world.txt and surnames_world.txt (a development-time tool; the app only reads the .txt files).

Source: the person providers of Faker 40.54.0 (MIT licence, https://pypi.org/project/Faker/), which list common first
and family names per locale. Install it anywhere (it is not a dependency of the app) and point this script at it:

    pip install --target /tmp/faker faker==40.54.0
    python build_world_names.py /tmp/faker

Kept: per locale, the first PER_LOCALE names in the provider's order (by weight where the provider gives weights),
in Latin script (Cyrillic transliterated), with and without diacritics ("małgorzata", "malgorzata"); of those, the
words of at least MIN_LETTERS letters that are not in the census lists, not an English word or dictionary proper
noun (nor one with an ending: "comes"), not a clinical, function, title or identifier label word ("iban"), with no
drug or medical ending, and not used as ordinary lower-case words in the clinical fixture texts (MTSamples reports,
ACI-BENCH notes and dialogues). The US locales are left out: the census lists cover them.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PER_LOCALE = 600
MIN_LETTERS = 4
SKIP_LOCALES = {"en", "en_US"}
FIRST_FIELDS = (
    "first_names",
    "first_names_male",
    "first_names_female",
    "first_romanized_names",
    "first_romanized_names_male",
    "first_romanized_names_female",
)
LAST_FIELDS = ("last_names", "last_names_male", "last_names_female", "last_romanized_names")
CYRILLIC = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "e",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
    "і": "i",
    "ї": "yi",
    "є": "ye",
    "ґ": "g",
    "ј": "j",
    "љ": "lj",
    "њ": "nj",
    "ћ": "c",
    "ђ": "dj",
    "џ": "dz",
    "ѓ": "gj",
    "ќ": "kj",
    "ѕ": "dz",
}


def words(folder: Path, *names: str) -> set[str]:
    out: set[str] = set()
    for name in names:
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                out.update(re.findall(r"[^\W\d_]+", line.lower()))
    return out


def romanised(name: str) -> str | None:
    if all("CYRILLIC" in unicodedata.name(ch, "") or ch in "-' " for ch in name):
        return "".join(CYRILLIC.get(ch, ch) for ch in name.lower())
    if all("LATIN" in unicodedata.name(ch, "") or ch in "-' " for ch in name):
        return name.lower()
    return None


_FOLDED = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ß": "ss", "ı": "i"})


def folded(name: str) -> str:
    """'małgorzata' -> 'malgorzata': speech-to-text and hurried typing drop the diacritics."""
    plain = unicodedata.normalize("NFKD", name.translate(_FOLDED))
    return "".join(ch for ch in plain if not unicodedata.combining(ch))


def provider_names(provider: type, fields: Iterable[str]) -> list[str]:
    out: list[str] = []
    for field in fields:
        value = provider.__dict__.get(field)
        if value is None or isinstance(value, property):
            continue
        if isinstance(value, dict):
            out += [k for k, _w in sorted(value.items(), key=lambda kv: -float(kv[1]))]
        else:
            out += list(value)
    return list(dict.fromkeys(out))


def lowercase_uses() -> Counter[str]:
    """Words written in lower case in the clinical fixture texts: ordinary words there, whatever else they are."""
    counts: Counter[str] = Counter()
    data = ROOT / "tests" / "data" / "clinical"
    sources = (("mtsamples_sample50.jsonl", ("text", "description")), ("aci_bench_dev.jsonl", ("note", "dialogue")))
    for path, fields in sources:
        for line in (data / path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                for field in fields:
                    counts.update(re.findall(r"\b[a-z][^\W\d_]+\b", str(record.get(field) or "")))
    return counts


def main() -> None:
    sys.path.insert(0, sys.argv[1])
    sys.path.insert(0, str(ROOT))
    from app.core.redact.lexicon import MEDICAL_ENDINGS  # the app's own list of drug and medical endings
    from app.core.redact.rules_ids import _CONTEXT  # the words that label identifiers ("iban", "mrn")

    people = importlib.import_module("faker.providers.person")
    census = words(HERE, "first_names.txt", "first_names_ambiguous.txt", "surnames.txt", "surnames_ambiguous.txt")
    blocked = census | words(
        HERE,
        "english_words.txt",
        "proper_words.txt",
        "clinical_words.txt",
        "clinical_terms.txt",
        "function_words.txt",
        "not_first_names.txt",
        "dosing_abbreviations.txt",
        "relative_words.txt",
        "relationship_words.txt",
        "titles_abbreviated.txt",
        "titles_spoken.txt",
        "staff_credentials.txt",
        "staff_credentials_short.txt",
        "us_states.txt",
        "generic_places.txt",
        "field_labels.txt",
        "clinical_heads.txt",
        "subject_verbs.txt",
    )
    blocked |= {w for _kind, _label, pattern in _CONTEXT for w in re.findall(r"[a-z]{3,}", pattern)}
    used = lowercase_uses()

    def keep(names: list[str]) -> set[str]:
        out: set[str] = set()
        for name in names[:PER_LOCALE]:
            roman = romanised(name) or ""
            for part in {*re.split(r"[ \-']", roman), *re.split(r"[ \-']", folded(roman))}:
                if (
                    len(part) >= MIN_LETTERS
                    and part.isalpha()
                    and part not in blocked
                    and not any(part.endswith(e) and part[: -len(e)] in blocked for e in ("s", "es", "ed", "ing"))
                    and not used[part]
                    and not MEDICAL_ENDINGS.search(part)
                ):
                    out.add(part)
        return out

    first: set[str] = set()
    last: set[str] = set()
    for module in pkgutil.iter_modules(people.__path__):
        if module.name in SKIP_LOCALES:
            continue
        provider = importlib.import_module(f"faker.providers.person.{module.name}").Provider
        first |= keep(provider_names(provider, FIRST_FIELDS))
        last |= keep(provider_names(provider, LAST_FIELDS))
    last -= first
    header = (
        "# Derived from the person providers of Faker 40.54.0 (MIT licence, Copyright (c) 2012 Daniele Faraglia), "
        "{what}; see README.md and build_world_names.py.\n"
    )
    for name, items, what in (
        ("first_names_world.txt", first, "common first names of many countries not in the census lists"),
        ("surnames_world.txt", last, "common family names of many countries not in the census lists"),
    ):
        (HERE / name).write_text(header.format(what=what) + "\n".join(sorted(items)) + "\n", encoding="utf-8")
        print(name, len(items))


if __name__ == "__main__":
    main()
