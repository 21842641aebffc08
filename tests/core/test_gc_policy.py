"""The collector's policy: settle() frees garbage and hides the survivors from later full collections; release()
gives them back, so the cycles of a closed engine are still freed."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from app.core import gc_policy


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def _cycle() -> tuple[Node, weakref.ref[Node]]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return a, weakref.ref(a)


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_settle_collects_garbage_cycles_and_freezes_the_survivors() -> None:
    garbage, garbage_ref = _cycle()
    kept, kept_ref = _cycle()
    del garbage

    gc_policy.settle("a test")

    assert garbage_ref() is None  # the cycle nobody held was collected first
    assert kept_ref() is kept and gc.get_freeze_count() > 0
    later, later_ref = _cycle()  # what is made afterwards is collected as usual
    del later
    gc.collect()
    assert later_ref() is None


def test_a_frozen_cycle_let_go_is_freed_after_release() -> None:
    engine, engine_ref = _cycle()
    gc_policy.settle("engine built")
    del engine
    gc.collect()
    assert engine_ref() is not None  # frozen: the collector does not see it

    gc_policy.release()
    assert gc.get_freeze_count() == 0
    gc_policy.settle("engine closed")
    assert engine_ref() is None
