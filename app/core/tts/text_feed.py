"""Text that arrives on one thread (an answer streaming into the window) read as a token stream on another (the
voice's worker), so reading aloud can start at the answer's first sentence instead of its end.

`push` and `close` never block. Iteration waits for text; it ends at `close` (the answer is complete) or, without
waiting for more, at `cancel` (Stop): a voice thread is never left waiting for text that will not come."""

from __future__ import annotations

import queue
from collections.abc import Iterator

_END = object()


class TextFeed:
    def __init__(self) -> None:
        self._items: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._cancelled = False

    def push(self, text: str) -> None:
        if text:
            self._items.put(text)

    def close(self) -> None:
        self._items.put(_END)

    def cancel(self) -> None:
        self._cancelled = True
        self._items.put(_END)

    def __iter__(self) -> Iterator[str]:
        while not self._cancelled:
            item = self._items.get()
            if item is _END:
                return
            assert isinstance(item, str)
            yield item
