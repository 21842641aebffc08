"""One editor widget per settings field, chosen from the field's type and bounds in app.core.config.

bool → check box; int/float with bounds → spin box; Literal → combo box; int-or-Literal ("auto"/"all" or a
number) → editable combo box; list[str] → one item per line; list[float] → comma-separated; str → line edit.
Every editor shows the field's description as tooltip and accessible description. Values are read back as
Python values and validated by the settings model itself (never by the widget), so the dialog and the TOML file
can never disagree about what is allowed.
"""

from __future__ import annotations

import math
import types
import typing
from typing import Any, Literal, Union

from annotated_types import Ge, Gt, Le, Lt
from pydantic.fields import FieldInfo
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

INT_LIMIT = 2**31 - 1
# What `set_value` receives: the field's current value, of whatever type the field has (bool, int, a list …).
# Each editor was chosen from that type and converts it; the settings model, not the editor, validates it.
FieldValue = Any


class FieldEditor(QWidget):
    """A widget that edits one field. `changed` fires on every edit."""

    changed = Signal()

    def __init__(self, name: str, info: FieldInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.info = info
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    def _adopt(self, widget: QWidget) -> None:
        label = self.name.replace("_", " ")
        widget.setObjectName(f"field_{self.name}")
        widget.setAccessibleName(label)
        widget.setToolTip(self.info.description or "")
        widget.setAccessibleDescription(self.info.description or "")
        self._layout.addWidget(widget)
        self.setFocusProxy(widget)
        self.editor = widget

    def value(self) -> object:
        raise NotImplementedError

    def set_value(self, value: FieldValue) -> None:
        raise NotImplementedError


def _bounds(info: FieldInfo) -> tuple[float | None, float | None, bool]:
    """(low, high, low_is_exclusive) from the field's annotated-types metadata."""
    low: float | None = None
    high: float | None = None
    exclusive = False
    for item in info.metadata:
        if isinstance(item, Ge):
            low = float(item.ge)  # type: ignore[arg-type]
        elif isinstance(item, Gt):
            low, exclusive = float(item.gt), True  # type: ignore[arg-type]
        elif isinstance(item, Le):
            high = float(item.le)  # type: ignore[arg-type]
        elif isinstance(item, Lt):
            high = float(item.lt)  # type: ignore[arg-type]
    return low, high, exclusive


class BoolEditor(FieldEditor):
    def __init__(self, name: str, info: FieldInfo, parent: QWidget | None = None) -> None:
        super().__init__(name, info, parent)
        box = QCheckBox(info.description or name)
        box.toggled.connect(self.changed)
        self._adopt(box)
        self._box = box

    def value(self) -> bool:
        return self._box.isChecked()

    def set_value(self, value: FieldValue) -> None:
        self._box.setChecked(bool(value))


class IntEditor(FieldEditor):
    def __init__(self, name: str, info: FieldInfo, parent: QWidget | None = None) -> None:
        super().__init__(name, info, parent)
        low, high, exclusive = _bounds(info)
        spin = QSpinBox()
        spin.setRange(
            int(low + (1 if exclusive else 0)) if low is not None else -INT_LIMIT,
            int(min(high, INT_LIMIT)) if high is not None else INT_LIMIT,
        )
        spin.valueChanged.connect(self.changed)
        self._adopt(spin)
        self._spin = spin

    def value(self) -> int:
        return self._spin.value()

    def set_value(self, value: FieldValue) -> None:
        self._spin.setValue(int(value))


class FloatEditor(FieldEditor):
    def __init__(self, name: str, info: FieldInfo, parent: QWidget | None = None) -> None:
        super().__init__(name, info, parent)
        low, high, exclusive = _bounds(info)
        spin = QDoubleSpinBox()
        spin.setDecimals(3 if high is not None and high <= 10 else 1)
        step = 10 ** -spin.decimals()
        spin.setRange(
            (low + step if exclusive else low) if low is not None else -1e9,
            high if high is not None else 1e9,
        )
        span = (high - low) if high is not None and low is not None else 10.0
        spin.setSingleStep(0.05 if span <= 2 else 0.5 if span <= 20 else 10 ** max(0, math.floor(math.log10(span)) - 2))
        spin.valueChanged.connect(self.changed)
        self._adopt(spin)
        self._spin = spin

    def value(self) -> float:
        return round(self._spin.value(), self._spin.decimals())

    def set_value(self, value: FieldValue) -> None:
        self._spin.setValue(float(value))


class ChoiceEditor(FieldEditor):
    """A Literal: pick one of the allowed strings."""

    def __init__(self, name: str, info: FieldInfo, choices: tuple[str, ...], parent: QWidget | None = None) -> None:
        super().__init__(name, info, parent)
        combo = QComboBox()
        combo.addItems(list(choices))
        combo.currentIndexChanged.connect(self.changed)
        self._adopt(combo)
        self._combo = combo

    def value(self) -> str:
        return self._combo.currentText()

    def set_value(self, value: FieldValue) -> None:
        self._combo.setCurrentText(str(value))


class NumberOrChoiceEditor(FieldEditor):
    """`int | Literal[...]`, e.g. GPU layers: 'auto', 'all', or a number typed in."""

    def __init__(self, name: str, info: FieldInfo, choices: tuple[str, ...], parent: QWidget | None = None) -> None:
        super().__init__(name, info, parent)
        combo = QComboBox()
        combo.setEditable(True)
        combo.addItems(list(choices))
        combo.editTextChanged.connect(self.changed)
        self._adopt(combo)
        self._combo = combo

    def value(self) -> int | str:
        text = self._combo.currentText().strip()
        try:
            return int(text)
        except ValueError:
            return text  # the model reports anything that is neither a number nor a choice

    def set_value(self, value: FieldValue) -> None:
        self._combo.setEditText(str(value))


class TextEditor(FieldEditor):
    def __init__(self, name: str, info: FieldInfo, parent: QWidget | None = None) -> None:
        super().__init__(name, info, parent)
        line = QLineEdit()
        if "key" in name:
            line.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)
        line.textChanged.connect(self.changed)
        self._adopt(line)
        self._line = line

    def value(self) -> str:
        return self._line.text()

    def set_value(self, value: FieldValue) -> None:
        self._line.setText(str(value))


class LinesEditor(FieldEditor):
    """list[str]: one entry per line (terms may contain commas and spaces)."""

    def __init__(self, name: str, info: FieldInfo, parent: QWidget | None = None) -> None:
        super().__init__(name, info, parent)
        edit = QPlainTextEdit()
        edit.setPlaceholderText("One entry per line")
        edit.setMaximumHeight(90)
        edit.textChanged.connect(self.changed)
        self._adopt(edit)
        self._edit = edit

    def value(self) -> list[str]:
        return [line.strip() for line in self._edit.toPlainText().splitlines() if line.strip()]

    def set_value(self, value: FieldValue) -> None:
        self._edit.setPlainText("\n".join(str(v) for v in value))


class NumbersEditor(FieldEditor):
    """list[float]: comma-separated numbers, e.g. a tensor split '1, 1'."""

    def __init__(self, name: str, info: FieldInfo, parent: QWidget | None = None) -> None:
        super().__init__(name, info, parent)
        line = QLineEdit()
        line.setPlaceholderText("e.g. 1, 1 (empty = automatic)")
        line.textChanged.connect(self.changed)
        self._adopt(line)
        self._line = line

    def value(self) -> list[float] | str:
        parts = [p.strip() for p in self._line.text().split(",") if p.strip()]
        try:
            return [float(p) for p in parts]
        except ValueError:
            return self._line.text()  # not numbers: let the model's validation say so next to the field

    def set_value(self, value: FieldValue) -> None:
        self._line.setText(", ".join(f"{v:g}" for v in value))


def _literal_choices(annotation: object) -> tuple[str, ...] | None:
    if typing.get_origin(annotation) is Literal:
        return tuple(str(a) for a in typing.get_args(annotation))
    return None


def editor_for(name: str, info: FieldInfo) -> FieldEditor:
    annotation = info.annotation
    origin = typing.get_origin(annotation)
    choices = _literal_choices(annotation)
    if choices is not None:
        return ChoiceEditor(name, info, choices)
    if origin in (Union, types.UnionType):
        args = typing.get_args(annotation)
        literal = next((_literal_choices(a) for a in args if _literal_choices(a)), None)
        if int in args and literal:
            return NumberOrChoiceEditor(name, info, literal)
        raise TypeError(f"no editor for the settings field {name} ({annotation})")
    if annotation is bool:
        return BoolEditor(name, info)
    if annotation is int:
        return IntEditor(name, info)
    if annotation is float:
        return FloatEditor(name, info)
    if annotation is str:
        return TextEditor(name, info)
    if origin is list:
        (item,) = typing.get_args(annotation)
        return NumbersEditor(name, info) if item in (float, int) else LinesEditor(name, info)
    raise TypeError(f"no editor for the settings field {name} ({annotation})")
