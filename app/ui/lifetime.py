"""Callbacks that die with their widget.

Qt disconnects a signal from a slot when the slot's object is deleted, but only for methods of a QObject: a closure
or a lambda connected to a job's signals is still called after the dialog that made it has closed, and touching its
deleted widgets raises. A job can end long after (an install, a GPU probe), so such callbacks are wrapped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject
from shiboken6 import isValid


def while_alive(widget: QObject, callback: Callable[..., Any]) -> Callable[..., None]:
    """`callback`, called only while `widget` still exists."""

    def call(*args: Any) -> None:
        if isValid(widget):
            callback(*args)

    return call
