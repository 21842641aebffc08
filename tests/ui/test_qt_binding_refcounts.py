"""The pinned Qt binding must not leak or steal references when Python emits signals.

PySide6 6.12.0 dropped one reference to ``True`` on every ``Signal.emit`` from Python. On Python 3.11 ``True`` is
not immortal, so a long clinic session (tens of thousands of streamed tokens and level-meter updates) ended in
``Fatal Python error: bool_dealloc`` and the window vanished. The project pins 6.11.3; this test fails on any
binding that brings the bug back.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal

EMITS = 2_000


class _Emitter(QObject):
    bare = Signal()
    number = Signal(int)
    text = Signal(str)
    anything = Signal(object)


def test_emitting_signals_keeps_the_reference_counts_of_the_singletons() -> None:
    emitter = _Emitter()
    received: list[object] = []
    emitter.bare.connect(lambda: received.append(None))
    emitter.number.connect(received.append)
    emitter.text.connect(received.append)
    emitter.anything.connect(received.append)
    singletons = (True, False, None)
    before = [sys.getrefcount(value) for value in singletons]

    for index in range(EMITS):
        emitter.bare.emit()
        emitter.number.emit(index)
        emitter.text.emit("token")
        emitter.anything.emit(index % 2 == 0)
    received.clear()

    after = [sys.getrefcount(value) for value in singletons]
    # A few references may come and go with the interpreter's own bookkeeping; a leak or theft scales with EMITS.
    drift = [abs(a - b) for a, b in zip(after, before, strict=True)]
    assert max(drift) < 50, f"reference counts of (True, False, None) drifted by {drift} over {EMITS} emits"
