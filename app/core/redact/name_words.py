"""Word lists the name rules consult: function words, census first names that are usually something else, titles.
Each is a file in resources/redaction/."""

from __future__ import annotations

from app.core.redact.lexicon import shipped_words
from app.core.redact.rules_dates import CALENDAR_WORDS

FUNCTION_WORDS = shipped_words("function_words.txt")
# Census first names that are far more often something else in a note.
NOT_FIRST_NAMES = shipped_words("not_first_names.txt") | CALENDAR_WORDS
TITLES_ABBREV = shipped_words("titles_abbreviated.txt")
TITLES_WORD = shipped_words("titles_spoken.txt")
