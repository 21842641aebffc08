"""Cut a stream of model tokens into sentences as soon as each one ends, so speech can start before the answer does.

A full stop ends a sentence only when whitespace follows it: "0.5" and the inner dots of "b.i.d." never do, and a
"." at the very end of what has arrived so far waits for the next token. Abbreviations from the rules table decide
the rest: "Dr." and "e.g." never end a sentence; "b.i.d." does when a capital letter follows. A line break always
ends one (model answers use bullet lists without full stops). A run-on sentence longer than `max_chars` is cut at
its last comma so the listener is not kept waiting.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from app.core.errors import CancelToken
from app.core.tts.rules import SpeechRules, load_rules

_TERMINALS = ".!?…"
_CLOSERS = "\"')]”’»*"  # may follow the terminal and still belong to the sentence ("stop." / **done.**)
_OPENERS = "\"'([“‘«*"
_SOFT_BREAKS = (", ", "; ", ": ", " – ", " — ")


class SentenceStreamer:
    """Feed tokens, get complete sentences. Not thread-safe: one streamer per answer."""

    def __init__(self, rules: SpeechRules | None = None, max_chars: int = 300, min_cut_chars: int = 40) -> None:
        rules = rules or load_rules()
        self._never_final = set(rules.inside_forms())
        self._final_before_capital = {a.lower() for a in rules.final_abbreviations}
        self._max_chars = max_chars
        self._min_cut = min_cut_chars
        self._buffer = ""
        self._scan = 0  # text before this index holds no sentence end

    def feed(self, token: str) -> list[str]:
        """Add a token; return the sentences it completed (often none)."""
        self._buffer += token
        return self._drain(final=False)

    def finish(self) -> list[str]:
        """The input is over: whatever is left is the last sentence."""
        sentences = self._drain(final=True)
        rest = self._buffer.strip()
        self._buffer, self._scan = "", 0
        if rest:
            sentences.append(rest)
        return sentences

    def sentences(self, tokens: Iterable[str], cancel: CancelToken | None = None) -> Iterator[str]:
        """Each complete sentence of the token stream, as soon as it is known to be complete."""
        for token in tokens:
            if cancel:
                cancel.raise_if_cancelled()
            yield from self.feed(token)
        yield from self.finish()

    def _drain(self, final: bool) -> list[str]:
        out: list[str] = []
        while True:
            end = self._find_end(final)
            if end is None:
                end = self._overlong_cut()
            if end is None:
                return out
            sentence = self._buffer[:end].strip()
            self._buffer = self._buffer[end:]
            self._scan = 0
            if sentence:
                out.append(sentence)

    def _find_end(self, final: bool) -> int | None:
        """Index just past the first complete sentence, or None (and remember where to resume)."""
        text = self._buffer
        i = self._scan
        while i < len(text):
            char = text[i]
            if char == "\n":
                return i + 1
            if char not in _TERMINALS:
                i += 1
                continue
            j = i
            while j < len(text) and (text[j] in _TERMINALS or text[j] in _CLOSERS):
                j += 1
            if j == len(text) and not final:
                self._scan = i  # cannot tell "0." from "0.5" or "mg." from "mg.5" yet
                return None
            if j < len(text) and not text[j].isspace():
                i = j  # "0.5", "b.i.d" inner dots, "e.g," ...
                continue
            verdict = self._ends_sentence(text, i, j, final)
            if verdict is None:
                self._scan = i
                return None
            if verdict:
                return j
            i = j
        self._scan = len(text)
        return None

    def _ends_sentence(self, text: str, dot: int, after: int, final: bool) -> bool | None:
        """True/False, or None when the next token must arrive before we can tell."""
        if text[dot] != "." or text[dot : after].count(".") > 1:
            return True  # "?", "!", "..." always end
        line_start = text.rfind("\n", 0, dot) + 1
        word_start = max(text.rfind(" ", 0, dot), text.rfind("\t", 0, dot)) + 1
        word_start = max(word_start, line_start)
        word = text[word_start : dot + 1].lstrip(_OPENERS)
        if word in self._never_final:
            return False
        if len(word) == 2 and word[0].isupper():
            return False  # an initial: "J. Smith"
        if word[:-1].isdigit() and not text[line_start:word_start].strip():
            return False  # a numbered list item: "1. Take ..."
        if word.lower() in self._final_before_capital:
            k = after
            while k < len(text) and text[k] in " \t":
                k += 1
            if k == len(text):
                return True if final else None
            return text[k].isupper() or text[k] == "\n"
        return True

    def _overlong_cut(self) -> int | None:
        """Where to cut a sentence that has run past max_chars without ending: after its last soft break."""
        if len(self._buffer) <= self._max_chars:
            return None
        window = self._buffer[: self._max_chars]
        cut = max(window.rfind(b) + len(b) for b in _SOFT_BREAKS)
        if cut < self._min_cut:
            cut = window.rfind(" ") + 1
        return cut if cut >= self._min_cut else None


def split_sentences(text: str, rules: SpeechRules | None = None) -> list[str]:
    """All sentences of a finished text (the same rules as streaming)."""
    return list(SentenceStreamer(rules).sentences([text]))


# Words before which a listener hears a natural pause even without a comma.
_CLAUSE_STARTS = frozenset(
    {"and", "but", "or", "because", "which", "while", "so", "then", "if", "when", "with", "after", "before",
     "until", "unless", "although"}
)


def split_lead(spoken: str, max_words: int) -> tuple[str, str] | None:
    """Cut a long (normalised) sentence after a clause of at most `max_words`, at a comma or before "and", "if"...

    Piper makes a sentence's audio in one piece, in time proportional to its length, so the first sentence of an
    answer is spoken sooner when its first clause is synthesised alone. None when there is no natural place.
    """
    words = spoken.split()
    if len(words) <= max_words:
        return None
    cuts = [
        k for k in range(3, len(words) - 2)
        if words[k - 1][-1] in ",;:" or words[k].lower() in _CLAUSE_STARTS
    ]
    early = [k for k in cuts if k <= max_words]
    if not early:
        return None
    k = early[-1]
    return " ".join(words[:k]), " ".join(words[k:])
