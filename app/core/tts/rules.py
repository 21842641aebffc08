"""The read-aloud rules table (resources/tts/normalisation.toml) as typed data.

One table feeds both the sentence splitter (which full stops are not sentence ends) and the normaliser (what to say
instead), so the two can never disagree about an abbreviation.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.core.errors import ConfigError
from app.core.paths import resource

DEFAULT_RULES_FILE = ("tts", "normalisation.toml")


@dataclass(frozen=True)
class SpeechRules:
    inside_abbreviations: dict[str, str]  # "Dr." -> "Doctor": a full stop that never ends a sentence
    final_abbreviations: dict[str, str]  # "b.i.d." -> "twice daily": ends a sentence before a capital letter
    words: dict[str, str]  # whole words, case-sensitive
    units: dict[str, tuple[str, str]]  # written -> (singular, plural)
    symbols: dict[str, str]
    fractions: dict[str, str]
    placeholders: dict[str, str]  # placeholder kind -> neutral words ("" = drop)

    def inside_forms(self) -> dict[str, str]:
        """Each never-final abbreviation as written and capitalised at a sentence start ("e.g." and "E.g."), but
        not in other cases: "MS." (multiple sclerosis) is not "Ms."."""
        return {form: spoken for written, spoken in self.inside_abbreviations.items()
                for form in (written, written[:1].upper() + written[1:])}


def _string_table(data: dict[str, Any], key: str, path: Path) -> dict[str, str]:
    table = data.get(key, {})
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise ConfigError(f"The read-aloud rules file {path} has a malformed [{key}] section", _FIX_HINT)
    return dict(table)


_FIX_HINT = "Each entry must be \"written\" = \"spoken\"; restore the shipped file if unsure"


def parse_rules(data: dict[str, Any], path: Path) -> SpeechRules:
    abbreviations = data.get("abbreviations", {})
    if not isinstance(abbreviations, dict):
        raise ConfigError(f"The read-aloud rules file {path} has a malformed [abbreviations] section", _FIX_HINT)
    units: dict[str, tuple[str, str]] = {}
    for written, forms in data.get("units", {}).items():
        if not (isinstance(forms, list) and len(forms) == 2 and all(isinstance(f, str) for f in forms)):
            raise ConfigError(
                f"The read-aloud rules file {path} has a malformed unit '{written}'",
                'A unit must be "written" = ["singular", "plural"]',
            )
        units[written] = (forms[0], forms[1])
    return SpeechRules(
        inside_abbreviations=_string_table(abbreviations, "inside", path),
        final_abbreviations=_string_table(abbreviations, "final", path),
        words=_string_table(data, "words", path),
        units=units,
        symbols=_string_table(data, "symbols", path),
        fractions=_string_table(data, "fractions", path),
        placeholders=_string_table(data, "placeholders", path),
    )


@lru_cache(maxsize=4)
def load_rules(path: Path | None = None) -> SpeechRules:
    """Read and check the rules table once per path (the default is the shipped table)."""
    path = path or resource(*DEFAULT_RULES_FILE)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"The read-aloud rules file {path} is missing", "Reinstall the app: the file ships with it"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"The read-aloud rules file {path} is not valid TOML ({exc})", _FIX_HINT) from None
    return parse_rules(data, path)
