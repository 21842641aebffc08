"""A llama.cpp grammar for a structured note that begins after the note's opening.

A structured note's JSON starts the same way every time (`{"subjective": "`): with the grammar llama-cpp-python
builds from the note's JSON schema, the model still spends its first five or six tokens (about half a second for
the default model on two cores) writing that opening before the first word a doctor can read. The local model is
therefore given the opening at the end of its prompt and this grammar for the rest, so its first token is already
the note's first word. The shape is the schema's: the properties in their order, each a string or a list of
strings, nothing else. Only for the local model: a server is asked with the JSON schema itself.
"""

from __future__ import annotations

import json
from typing import Any

_RULES = r"""
ws ::= | " " | "\n" [ \t]{0,20}
char ::= [^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})
string ::= "\"" char* "\""
list-rest ::= ws (string (ws "," ws string)*)? ws "]"
"""


def _sections(schema: dict[str, Any]) -> list[tuple[str, bool]]:
    """(key, is a list) for each property, in order; ValueError for a schema of another shape."""
    properties = schema.get("properties")
    if schema.get("type") != "object" or not isinstance(properties, dict) or not properties:
        raise ValueError("not an object schema with properties")
    sections = []
    for key, spec in properties.items():
        kind = spec.get("type") if isinstance(spec, dict) else None
        if kind == "string":
            sections.append((key, False))
        elif kind == "array" and spec.get("items", {}).get("type") == "string":
            sections.append((key, True))
        else:
            raise ValueError(f"property {key!r} is neither a string nor a list of strings")
    return sections


def note_opening_and_grammar(schema: dict[str, Any]) -> tuple[str, str]:
    """The text a note following `schema` always starts with, and a GBNF grammar for everything after it.
    ValueError when the schema is not a flat object of strings and lists of strings."""
    sections = _sections(schema)
    first_key, first_is_list = sections[0]
    # Spaced as the shipped models write it themselves ('{ "subjective": "'): prompted with '{"subjective"' SmolLM2
    # wrote notes twice as long (median 740 characters against 400 over 8 seeds); spaced, as long as before.
    opening = "{ " + json.dumps(first_key) + ": " + ("[" if first_is_list else '"')
    parts = ["list-rest" if first_is_list else 'char* "\\""']
    for key, is_list in sections[1:]:
        value = '"[" list-rest' if is_list else "string"
        parts.append(f'ws "," ws {json.dumps(json.dumps(key))} ws ":" ws {value}')
    parts.append('ws "}"')
    return opening, "root ::= " + " ".join(parts) + "\n" + _RULES.lstrip("\n")
