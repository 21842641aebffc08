"""What a clinic server really enforces when asked for a JSON answer, and the prompt-only path when it enforces nothing.

OpenAI-compatible servers differ: vLLM and llama.cpp's `llama-server` enforce `response_format: json_schema`;
llama-cpp-python's server rejects that but enforces `json_object` with a `schema`; llama-server also takes a
`json_schema` field in the body; older vLLM takes `guided_json`. Some servers accept a format and silently ignore it.
So we never trust a format because the server said 200: a tiny probe asks for a one-field object whose only allowed
value is a code no model writes unprompted (`PROBE_VALUE`), at temperature 0, and a style counts as enforced only
when the answer is exactly that object. When no style is enforced, the schema goes into the prompt instead, the answer
is checked against it (`validate`), and the backend asks once for a repair.
"""

from __future__ import annotations

import json
from typing import Any, Literal

SchemaStyle = Literal["json_schema", "json_object", "body_json_schema", "guided_json", "prompt"]
# Tried in this order; "prompt" (nothing enforced) is what is left.
PROBE_STYLES: tuple[SchemaStyle, ...] = ("json_schema", "json_object", "body_json_schema", "guided_json")
PROBE_VALUE = "zq-7431"
PROBE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"code": {"type": "string", "enum": [PROBE_VALUE]}},
    "required": ["code"],
    "additionalProperties": False,
}
PROBE_MESSAGES = (
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Say hello in one word."},
)
PROBE_MAX_TOKENS = 24


def schema_fields(style: SchemaStyle, name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The request body fields that ask for `schema` in `style` (none for the prompt-only style)."""
    if style == "json_schema":
        wrapped = {"name": name, "schema": schema, "strict": True}
        return {"response_format": {"type": "json_schema", "json_schema": wrapped}}
    if style == "json_object":
        return {"response_format": {"type": "json_object", "schema": schema}}
    if style == "body_json_schema":
        return {"json_schema": schema}
    if style == "guided_json":
        return {"guided_json": schema}
    return {}


def probe_body(model: str, style: SchemaStyle) -> dict[str, Any]:
    return {
        "model": model,
        "messages": list(PROBE_MESSAGES),
        "temperature": 0.0,
        "top_p": 1.0,
        "max_tokens": PROBE_MAX_TOKENS,
        "seed": 1,
        "stream": True,
        **schema_fields(style, "probe", PROBE_SCHEMA),
    }


def probe_enforced(text: str) -> bool:
    """True when the probe's answer is exactly the one object the schema allows."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return False
    return value == {"code": PROBE_VALUE}


# -- the prompt-only path ------------------------------------------------------------------------------------------
def prompt_instruction(schema: dict[str, Any]) -> str:
    return (
        "Answer with one JSON object and nothing else: no explanation, no code fence. "
        f"It must follow this JSON schema exactly: {json.dumps(schema, separators=(',', ':'))}"
    )


def repair_instruction(problems: list[str], schema: dict[str, Any]) -> str:
    listed = "; ".join(problems[:5])
    return (
        f"Your answer was not a valid JSON object for the schema ({listed}). Write it again as one JSON object and "
        f"nothing else, following this JSON schema exactly: {json.dumps(schema, separators=(',', ':'))}"
    )


def extract_json(text: str) -> Any | None:
    """The JSON value in `text`: the whole text, or the first balanced {...} in it (models wrap JSON in prose or
    code fences when nothing enforces the format). None when there is none."""
    stripped = text.strip()
    try:
        return json.loads(stripped, strict=False)
    except json.JSONDecodeError:
        pass
    decoder = json.JSONDecoder(strict=False)
    start = stripped.find("{")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(stripped, start)
            return value
        except json.JSONDecodeError:
            start = stripped.find("{", start + 1)
    return None


_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "null": (type(None),),
}


def validate(schema: dict[str, Any], value: Any, where: str = "$") -> list[str]:
    """Problems of `value` against the subset of JSON schema the app's notes use (type, enum, properties,
    required, additionalProperties, items, maxItems, maxLength). An empty list means valid."""
    problems: list[str] = []
    kind = schema.get("type")
    if isinstance(kind, str) and kind in _TYPES:
        ok = isinstance(value, _TYPES[kind]) and not (kind in ("integer", "number") and isinstance(value, bool))
        if not ok:
            return [f"{where} is not {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where} is not an allowed value")
    if isinstance(value, str) and isinstance(schema.get("maxLength"), int) and len(value) > schema["maxLength"]:
        problems.append(f"{where} is too long")
    if isinstance(value, list):
        if isinstance(schema.get("maxItems"), int) and len(value) > schema["maxItems"]:
            problems.append(f"{where} has too many items")
        items = schema.get("items")
        if isinstance(items, dict):
            for index, item in enumerate(value):
                problems += validate(items, item, f"{where}[{index}]")
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        for key in schema.get("required") or ():
            if key not in value:
                problems.append(f"{where}.{key} is missing")
        for key, item in value.items():
            if key in properties:
                problems += validate(properties[key], item, f"{where}.{key}")
            elif schema.get("additionalProperties") is False:
                problems.append(f"{where}.{key} is not allowed")
    return problems
