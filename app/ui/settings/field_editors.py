"""One editor widget per settings field, chosen from the field's type and bounds in app.core.config and from how
app/ui/settings/field_text.py says to show it.

bool → check box labelled in plain words; int/float with bounds → spin box with its unit (and a word such as
"Never" for the lowest value when it means that); Literal → list of choices in plain words; `int | Literal` (GPU
layers: automatic, all, or a number) → a list and a spin box; list[str] → one item per line; list[float] →
comma-separated; str → line edit, a password field, a folder with "Choose…", or a list of installed models.
Every editor shows the field's technical description as tooltip and its plain explanation as accessible
description. Values are read back as Python values and validated by the settings model itself (never by the widget),
so the dialog and the TOML file can never disagree about what is allowed.
"""

from __future__ import annotations

import math
import types
import typing
from typing import Any, Literal, Union

from annotated_types import Ge, Gt, Le, Lt
from pydantic.fields import FieldInfo
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from app.core.model_catalog import display_name
from app.ui.settings.field_text import Shown

INT_LIMIT = 2**31 - 1
NUMBER_WIDTH = 190  # spin boxes and short lists: wide enough for "Random each time", not the whole row
# What `set_value` receives: the field's current value, of whatever type the field has (bool, int, a list …).
# Each editor was chosen from that type and converts it; the settings model, not the editor, validates it.
FieldValue = Any


class FieldEditor(QWidget):
    """A widget that edits one field. `changed` fires on every edit."""

    changed = Signal()

    def __init__(self, name: str, info: FieldInfo, shown: Shown | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.info = info
        self.shown = shown or Shown(name.replace("_", " ").capitalize(), info.description or "")
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    def _adopt(self, widget: QWidget, compact: bool = False) -> None:
        widget.setObjectName(f"field_{self.name}")
        widget.setAccessibleName(self.shown.label)
        widget.setToolTip(self.info.description or "")
        widget.setAccessibleDescription(self.shown.help)
        if compact:
            widget.setMinimumWidth(NUMBER_WIDTH)
        self._layout.addWidget(widget)
        if compact:
            self._layout.addStretch(1)
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
    def __init__(self, name: str, info: FieldInfo, shown: Shown | None = None, parent: QWidget | None = None) -> None:
        super().__init__(name, info, shown, parent)
        box = QCheckBox(self.shown.label)
        box.toggled.connect(self.changed)
        self._adopt(box)
        self._box = box

    def value(self) -> bool:
        return self._box.isChecked()

    def set_value(self, value: FieldValue) -> None:
        self._box.setChecked(bool(value))


class IntEditor(FieldEditor):
    def __init__(self, name: str, info: FieldInfo, shown: Shown | None = None, parent: QWidget | None = None) -> None:
        super().__init__(name, info, shown, parent)
        low, high, exclusive = _bounds(info)
        spin = QSpinBox()
        spin.setRange(
            int(low + (1 if exclusive else 0)) if low is not None else -INT_LIMIT,
            int(min(high, INT_LIMIT)) if high is not None else INT_LIMIT,
        )
        spin.setGroupSeparatorShown(spin.maximum() >= 10_000)  # 2,048 tokens, 256,000 rounds
        _dress(spin, self.shown)
        spin.valueChanged.connect(self.changed)
        self._adopt(spin, compact=True)
        self._spin = spin

    def value(self) -> int:
        return self._spin.value()

    def set_value(self, value: FieldValue) -> None:
        self._spin.setValue(int(value))


class _Decimal(QDoubleSpinBox):
    """Shows 0.6, not 0.600: the trailing zeros of the precision kept are noise to a reader."""

    def textFromValue(self, value: float) -> str:
        text = self.locale().toString(value, "f", self.decimals())
        point = self.locale().decimalPoint()
        return text.rstrip("0").rstrip(point) if point in text else text


class FloatEditor(FieldEditor):
    def __init__(self, name: str, info: FieldInfo, shown: Shown | None = None, parent: QWidget | None = None) -> None:
        super().__init__(name, info, shown, parent)
        low, high, exclusive = _bounds(info)
        spin = _Decimal()
        spin.setDecimals(3 if high is not None and high <= 10 else 1)
        step = 10 ** -spin.decimals()
        spin.setRange(
            (low + step if exclusive else low) if low is not None else -1e9,
            high if high is not None else 1e9,
        )
        span = (high - low) if high is not None and low is not None else 10.0
        spin.setSingleStep(0.05 if span <= 2 else 0.5 if span <= 20 else 10 ** max(0, math.floor(math.log10(span)) - 2))
        _dress(spin, self.shown)
        spin.valueChanged.connect(self.changed)
        self._adopt(spin, compact=True)
        self._spin = spin

    def value(self) -> float:
        return round(self._spin.value(), self._spin.decimals())

    def set_value(self, value: FieldValue) -> None:
        self._spin.setValue(float(value))


def _dress(spin: QSpinBox | QDoubleSpinBox, shown: Shown) -> None:
    if shown.unit:
        spin.setSuffix(shown.unit if shown.unit == "×" else f" {shown.unit}")  # 1.5×, 20 s
    if shown.special:
        spin.setSpecialValueText(shown.special)  # shown instead of the lowest value


class ChoiceEditor(FieldEditor):
    """A Literal: pick one of the allowed values, shown in plain words where field_text gives them."""

    def __init__(
        self, name: str, info: FieldInfo, choices: tuple[str, ...], shown: Shown | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(name, info, shown, parent)
        combo = QComboBox()
        for choice in choices:
            combo.addItem(self.shown.choices.get(choice, choice), choice)
        combo.currentIndexChanged.connect(self.changed)
        self._adopt(combo, compact=True)
        self._combo = combo

    def value(self) -> str:
        return str(self._combo.currentData())

    def set_value(self, value: FieldValue) -> None:
        index = self._combo.findData(str(value))
        if index >= 0:
            self._combo.setCurrentIndex(index)


class NumberOrChoiceEditor(FieldEditor):
    """`int | Literal[...]`, e.g. GPU layers: automatic, all, or a number of layers."""

    NUMBER = "number"

    def __init__(
        self, name: str, info: FieldInfo, choices: tuple[str, ...], shown: Shown | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(name, info, shown, parent)
        combo = QComboBox()
        for choice in choices:
            combo.addItem(self.shown.choices.get(choice, choice.capitalize()), choice)
        combo.addItem("This many:", self.NUMBER)
        spin = QSpinBox()
        spin.setRange(0, 999)
        _dress(spin, self.shown)
        spin.setMinimumWidth(NUMBER_WIDTH // 2)
        spin.setAccessibleName(f"{self.shown.label}: number")
        combo.currentIndexChanged.connect(self._choice_changed)
        spin.valueChanged.connect(self.changed)
        self._combo, self._spin = combo, spin
        self._adopt(combo, compact=False)
        self._layout.addWidget(spin)
        self._layout.addStretch(1)
        self._choice_changed()

    def _choice_changed(self) -> None:
        self._spin.setEnabled(self._combo.currentData() == self.NUMBER)
        self.changed.emit()

    def value(self) -> int | str:
        choice = str(self._combo.currentData())
        return self._spin.value() if choice == self.NUMBER else choice

    def set_value(self, value: FieldValue) -> None:
        index = self._combo.findData(str(value))
        if index < 0:  # a number (the settings model has validated it)
            self._spin.setValue(int(value))
            index = self._combo.findData(self.NUMBER)
        self._combo.setCurrentIndex(index)


class TextEditor(FieldEditor):
    def __init__(self, name: str, info: FieldInfo, shown: Shown | None = None, parent: QWidget | None = None) -> None:
        super().__init__(name, info, shown, parent)
        line = QLineEdit()
        if self.shown.control == "password":
            line.setEchoMode(QLineEdit.EchoMode.Password)
        line.textChanged.connect(self.changed)
        self._adopt(line)
        self._line = line
        if self.shown.control == "folder":
            line.setPlaceholderText("The default folder")
            choose = QPushButton("Choose…")
            choose.setAccessibleName(f"Choose the {self.shown.label.lower()}")
            choose.clicked.connect(self._choose_folder)
            self._layout.addWidget(choose)

    def _choose_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, self.shown.label, self._line.text())
        if chosen:
            self._line.setText(chosen)

    def value(self) -> str:
        return self._line.text()

    def set_value(self, value: FieldValue) -> None:
        self._line.setText(str(value))


class ModelChoiceEditor(FieldEditor):
    """A model setting: one of the installed models of one kind, each shown by its display name. The list arrives
    from a worker (`set_models`); until then, and for a value that is not installed, the current value is listed."""

    def __init__(self, name: str, info: FieldInfo, role: str, shown: Shown | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(name, info, shown, parent)
        self.role = role
        combo = QComboBox()
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(24)
        combo.currentIndexChanged.connect(self.changed)
        self._adopt(combo)
        self._combo = combo

    def set_models(self, models: list[tuple[str, str]]) -> None:
        """(settings value, display name) of each installed model; the current choice is kept."""
        current = self.value()
        self._combo.blockSignals(True)
        self._combo.clear()
        for value, text in models:
            self._combo.addItem(text, value)
            self._combo.setItemData(self._combo.count() - 1, value, Qt.ItemDataRole.ToolTipRole)  # the file's name
        self._combo.blockSignals(False)
        self.set_value(current)

    def models(self) -> list[str]:
        return [str(self._combo.itemData(i)) for i in range(self._combo.count())]

    def value(self) -> str:
        data = self._combo.currentData()
        return "" if data is None else str(data)

    def set_value(self, value: FieldValue) -> None:
        text = str(value)
        index = self._combo.findData(text)
        if index < 0 and text:
            self._combo.addItem(f"{display_name(text, role=self.role)} (not in the models folder)", text)
            index = self._combo.count() - 1
        self._combo.setCurrentIndex(index)


class LinesEditor(FieldEditor):
    """list[str]: one entry per line (terms may contain commas and spaces)."""

    def __init__(self, name: str, info: FieldInfo, shown: Shown | None = None, parent: QWidget | None = None) -> None:
        super().__init__(name, info, shown, parent)
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

    def __init__(self, name: str, info: FieldInfo, shown: Shown | None = None, parent: QWidget | None = None) -> None:
        super().__init__(name, info, shown, parent)
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


_MODEL_ROLES = {"chat_model": "llm", "speech_model": "asr", "voice": "tts"}


def editor_for(name: str, info: FieldInfo, shown: Shown | None = None) -> FieldEditor:
    annotation = info.annotation
    origin = typing.get_origin(annotation)
    choices = _literal_choices(annotation)
    if choices is not None:
        return ChoiceEditor(name, info, choices, shown)
    if origin in (Union, types.UnionType):
        args = typing.get_args(annotation)
        literal = next((_literal_choices(a) for a in args if _literal_choices(a)), None)
        if int in args and literal:
            return NumberOrChoiceEditor(name, info, literal, shown)
        raise TypeError(f"no editor for the settings field {name} ({annotation})")
    if annotation is bool:
        return BoolEditor(name, info, shown)
    if annotation is int:
        return IntEditor(name, info, shown)
    if annotation is float:
        return FloatEditor(name, info, shown)
    if annotation is str:
        if shown is not None and shown.control in _MODEL_ROLES:
            return ModelChoiceEditor(name, info, _MODEL_ROLES[shown.control], shown)
        return TextEditor(name, info, shown)
    if origin is list:
        (item,) = typing.get_args(annotation)
        return NumbersEditor(name, info, shown) if item in (float, int) else LinesEditor(name, info, shown)
    raise TypeError(f"no editor for the settings field {name} ({annotation})")
