"""The dictated text as it grows: utterances go in, voice commands and number formatting are applied, and the text
comes out with the character spans of low-confidence words for the UI to highlight.

"scratch that" removes the last phrase: the words since the previous pause between utterances, sentence end or line
break (or, said on its own, the phrase before it). Breaks count as phrases, so "new paragraph, scratch that" undoes
the paragraph.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from app.core.asr.base import Word
from app.core.dictation.commands import Command, find_command
from app.core.dictation.numbers import format_numbers
from app.core.dictation.tokens import SENTENCE_END, Token, tokenize

_TRAILING_MARKS = re.compile(r"[.,;:!?]+$")
_BREAKS = {Command.NEW_LINE: "\n", Command.NEW_PARAGRAPH: "\n\n"}


@dataclass(frozen=True)
class RenderedText:
    text: str
    low_confidence: tuple[tuple[int, int], ...] = ()  # [start, end) character offsets of doubtful words


@dataclass(frozen=True)
class DictationOptions:
    commands: bool = True
    format_numbers: bool = True
    low_confidence: float = 0.5  # words recognised with less probability than this are marked


@dataclass
class _Piece:
    phrase: int
    token: Token | None = None  # a word
    brk: str = ""  # or a line break ("\n", "\n\n")


def _capitalised(token: Token) -> Token:
    return token.with_core(token.core[:1].upper() + token.core[1:]) if token.core[:1].islower() else token


def _decapitalised(token: Token) -> Token:
    core = token.core
    # Leave "I", acronyms ("ECG") and names Whisper capitalised mid-word ("McDonald") alone.
    if len(core) > 1 and core[0].isupper() and core[1:].islower():
        return token.with_core(core[0].lower() + core[1:])
    return token


class DictationDocument:
    """Not thread-safe: owned by the live transcriber (or a file transcription) that feeds it."""

    def __init__(self, options: DictationOptions | None = None) -> None:
        self.options = options or DictationOptions()
        self._pieces: list[_Piece] = []
        self._phrase = 0
        self._phrase_open = False  # the current phrase already holds a word
        self._capitalise_next = True

    # --- building ----------------------------------------------------------------------------------------------
    def _new_phrase(self) -> None:
        self._phrase += 1
        self._phrase_open = False

    def _last_word_index(self) -> int | None:
        for index in range(len(self._pieces) - 1, -1, -1):
            if self._pieces[index].brk:
                return None
            if self._pieces[index].token is not None:
                return index
        return None

    def _punctuate(self, mark: str) -> bool:
        """Put `mark` after the last word, replacing Whisper's own mark there. True if that ended a sentence."""
        index = self._last_word_index()
        if index is None:
            return False
        token = self._pieces[index].token
        assert token is not None
        replaced_sentence_end = any(c in SENTENCE_END for c in token.trail)
        self._pieces[index].token = replace(token, trail=_TRAILING_MARKS.sub("", token.trail) + mark)
        return replaced_sentence_end

    def _scratch(self) -> None:
        if not self._phrase_open:
            # Said on its own: remove the previous phrase that has anything in it.
            previous = {p.phrase for p in self._pieces}
            if not previous:
                return
            target = max(previous)
        else:
            target = self._phrase
        self._pieces = [p for p in self._pieces if p.phrase != target]
        self._capitalise_next = not self._pieces or bool(self._pieces[-1].brk) or (
            self._pieces[-1].token is not None and self._pieces[-1].token.ends_sentence
        )
        self._new_phrase()

    def _apply(self, command: Command) -> bool:
        """Carry out a command; True when the next word must lose a capital Whisper gave it after a full stop."""
        if command is Command.SCRATCH_THAT:
            self._scratch()
        elif command in _BREAKS:
            index = self._last_word_index()
            if index is not None:  # a dangling comma before a break is Whisper's, not the doctor's
                token = self._pieces[index].token
                assert token is not None
                self._pieces[index].token = replace(token, trail=token.trail.rstrip(",;"))
            self._new_phrase()
            self._pieces.append(_Piece(self._phrase, brk=_BREAKS[command]))
            self._new_phrase()
            self._capitalise_next = True
        elif command is Command.FULL_STOP:
            self._punctuate(".")
            self._new_phrase()
            self._capitalise_next = True
        elif command is Command.COMMA:
            self._capitalise_next = False
            return self._punctuate(",")
        return False

    def _add_word(self, token: Token, decapitalise: bool) -> None:
        if self._capitalise_next:
            token = _capitalised(token)
        elif decapitalise:
            token = _decapitalised(token)
        self._pieces.append(_Piece(self._phrase, token=token))
        self._phrase_open = True
        self._capitalise_next = token.ends_sentence
        if token.ends_sentence:
            self._new_phrase()

    def add(self, words: Sequence[Word]) -> None:
        """Add one utterance (the words between two pauses, or one recognised segment)."""
        tokens = tokenize(words)
        if self.options.format_numbers:
            tokens = format_numbers(tokens)
        self._new_phrase()
        decapitalise = False
        i = 0
        while i < len(tokens):
            found = find_command(tokens, i) if self.options.commands else None
            if found is not None:
                decapitalise = self._apply(found[0])
                i += found[1]
                continue
            self._add_word(tokens[i], decapitalise)
            decapitalise = False
            i += 1

    # --- output ------------------------------------------------------------------------------------------------
    def render(self) -> RenderedText:
        parts: list[str] = []
        length = 0
        spans: list[tuple[int, int]] = []
        for piece in self._pieces:
            if piece.brk:
                while parts and parts[-1] == " ":
                    length -= len(parts.pop())
                parts.append(piece.brk)
                length += len(piece.brk)
                continue
            token = piece.token
            assert token is not None
            if parts and not parts[-1].endswith("\n"):
                parts.append(" ")
                length += 1
            start = length + len(token.lead)
            text = token.lead + token.core + token.trail
            parts.append(text)
            length += len(text)
            if token.probability < self.options.low_confidence:
                spans.append((start, start + len(token.core)))
        return RenderedText("".join(parts), tuple(spans))

    @property
    def text(self) -> str:
        return self.render().text

    def preview(self, words: Sequence[Word]) -> RenderedText:
        """How `words` would read if added now, on their own (for the tentative tail); the document is unchanged."""
        draft = DictationDocument(self.options)
        draft._capitalise_next = self._capitalise_next
        draft.add(words)
        return draft.render()

    def copy(self) -> DictationDocument:
        return copy.deepcopy(self)
