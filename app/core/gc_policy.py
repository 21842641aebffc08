"""Keep Python's cyclic garbage collector from freezing the window.

With the engines loaded the process holds about 120,000 objects the collector tracks (spaCy's pipeline, Whisper's
tokenizer, Piper, Qt wrappers, every imported module). A full collection walks all of them: 56 ms on a quiet core,
73-96 ms with the engines busy, and it holds the GIL the whole time on whichever thread happened to allocate, so
the window stalls (the GUI benchmark caught it inside a voice-command match on the ASR lane). Almost all of those
objects live as long as the process, so once an engine is built, what is garbage is collected and the survivors
are moved out of the collector's sight (`gc.freeze`): later full collections only walk what was made since, and
take well under a millisecond. Objects stay freed by reference counting as usual; only reference cycles among
frozen objects wait for `release`, which an engine's closing calls so its cycles are collected at the next settle.
"""

from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger(__name__)


def settle(reason: str) -> None:
    """Collect what is garbage now, then freeze every survivor (call when long-lived objects were just made)."""
    started = time.perf_counter()
    collected = gc.collect()
    gc.freeze()
    if log.isEnabledFor(logging.DEBUG):  # counting the frozen objects walks all of them
        log.debug("gc settled after %s: %d collected, %d frozen, %.1f ms", reason, collected, gc.get_freeze_count(),
                  (time.perf_counter() - started) * 1000)


def release() -> None:
    """Hand every frozen object back to the collector: something long-lived (an engine) was let go, and its
    reference cycles must still be freed. The next `settle` collects them and freezes the rest again."""
    gc.unfreeze()
