"""Readable text from a structured note while its JSON is still streaming.

A SOAP note or summary is generated as JSON (so every section is present), but the doctor should watch the note
appear, and read-aloud should start at its first sentence, not after the closing brace. This renders the JSON
pieces as they arrive into the same layout as `render_note` ("SUBJECTIVE" line, section text, "- " list items).

Only the shape the note schemas allow is understood: one object whose values are strings or arrays of strings.
Anything else is ignored here; the complete answer is still parsed and checked by `parse_note` at the end.
"""

from __future__ import annotations

import contextlib

from app.core.llm.notes import NOTE_SECTIONS

_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "", "f": "", "n": "\n", "r": "", "t": " "}


class StreamingNoteRenderer:
    def __init__(self, task: str) -> None:
        self._titles = {s.key: s.title.upper() for s in NOTE_SECTIONS.get(task, ())}
        self._state = "object"  # object | key | colon | value | string | array | after_value
        self._in_array = False
        self._key: list[str] = []
        self._escape = ""  # pending escape sequence after a backslash ("\\", "\\u00")
        self._sections = 0
        self._items_in_array = 0

    def feed(self, piece: str) -> str:
        out: list[str] = []
        for ch in piece:
            self._step(ch, out)
        return "".join(out)

    def _step(self, ch: str, out: list[str]) -> None:
        state = self._state
        if state == "string":
            self._string_char(ch, out)
        elif state == "key":
            if ch == '"':
                self._begin_section("".join(self._key), out)
                self._state = "colon"
            else:
                self._key.append(ch)
        elif state == "object" and ch == '"':
            self._key = []
            self._state = "key"
        elif state == "colon" and ch == ":":
            self._state = "value"
        elif state == "value":
            if ch == '"':
                self._state = "string"
            elif ch == "[":
                self._in_array, self._items_in_array = True, 0
                self._state = "array"
        elif state == "array":
            if ch == '"':
                out.append("\n- " if self._items_in_array else "- ")
                self._items_in_array += 1
                self._state = "string"
            elif ch == "]":
                self._in_array = False
                self._state = "object"
        elif state == "after_value" and ch in ",}":
            self._state = "object"

    def _begin_section(self, key: str, out: list[str]) -> None:
        title = self._titles.get(key, key.replace("_", " ").upper())
        out.append(("\n\n" if self._sections else "") + title + "\n")
        self._sections += 1

    def _string_char(self, ch: str, out: list[str]) -> None:
        if self._escape:
            self._escape += ch
            if self._escape.startswith("\\u"):
                if len(self._escape) == 6:
                    with contextlib.suppress(ValueError):  # a broken escape is dropped, the note goes on
                        out.append(chr(int(self._escape[2:], 16)))
                    self._escape = ""
            else:
                out.append(_ESCAPES.get(ch, ch))
                self._escape = ""
            return
        if ch == "\\":
            self._escape = "\\"
        elif ch == '"':
            self._state = "array" if self._in_array else "after_value"
        else:
            out.append(ch)
