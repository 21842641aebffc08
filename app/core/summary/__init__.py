"""Patient summaries: facts extracted from accepted notes (parsers, and optionally the language model on the redacted
note), stored per note version, merged into a summary whose every item links to the sentence it came from.

No Qt and no model call when a summary is built: `merge` is pure. See docs/summaries.md.
"""

from app.core.summary.age import age_on, age_text
from app.core.summary.extract import Extraction, extract_facts
from app.core.summary.facts import Fact, FactKind, facts_from_json, facts_to_json
from app.core.summary.items import PatientSummary, Source
from app.core.summary.merge import NoteEntry, merge
from app.core.summary.render import prompt_text, summary_text

__all__ = [
    "Extraction", "Fact", "FactKind", "NoteEntry", "PatientSummary", "Source", "age_on", "age_text", "extract_facts",
    "facts_from_json", "facts_to_json", "merge", "prompt_text", "summary_text",
]
