"""One page of the settings dialog: the fields of one section (AsrSettings, GpuSettings …), one row each.

A row is the field's plain label, its editor, its one-line explanation and the settings model's own validation
error. Advanced fields sit behind an "Advanced settings" toggle; a field that does not apply to this computer (GPU
fields on a CPU-only llama.cpp build, multi-GPU fields with one GPU, server fields for a local model) is hidden but
keeps its value, so saving never changes what the doctor cannot see.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ValidationError
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from app.ui.settings.field_editors import BoolEditor, FieldEditor, editor_for
from app.ui.settings.field_text import SECTION_TITLES, Needs, shown


@dataclass(frozen=True)
class Machine:
    """What decides which fields apply: the llama.cpp build and GPUs (from the probe, read on a worker) and the
    language model's backend (as currently edited)."""

    gpu_offload: bool | None = None  # None until the probe has answered: GPU fields stay hidden meanwhile
    gpus: int = 0
    backend: str = "local"


def applies(needs: Needs | None, machine: Machine) -> bool:
    if needs is None:
        return True
    if needs == "gpu":
        return bool(machine.gpu_offload)
    if needs == "multi_gpu":
        return bool(machine.gpu_offload) and machine.gpus >= 2
    return machine.backend == needs


class SectionPage(QWidget):
    """The editors of one section and their error labels."""

    changed = Signal()

    def __init__(self, section: str, values: BaseModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.section = section
        self.model_type = type(values)
        self.editors: dict[str, FieldEditor] = {}
        self.errors: dict[str, QLabel] = {}
        self.labels: dict[str, QLabel] = {}
        self.cells: dict[str, QWidget] = {}
        self.machine = Machine()
        outer = QVBoxLayout(self)
        heading = QLabel(SECTION_TITLES.get(section, section))
        heading.setObjectName("sectionHeading")
        font = heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        heading.setFont(font)
        outer.addWidget(heading)
        self.extras = QVBoxLayout()
        outer.addLayout(self.extras)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        outer.addLayout(self.form)
        outer.addStretch(1)
        fields = self.model_type.model_fields
        plain = {name: shown(section, name, info) for name, info in fields.items()}
        for name in [n for n in fields if not plain[n].advanced]:
            self._add_row(name, values)
        self.advanced_toggle = QToolButton()
        self.advanced_toggle.setObjectName(f"advanced_{section}")
        self.advanced_toggle.setText("Advanced settings")
        self.advanced_toggle.setAccessibleName("Show the advanced settings")
        self.advanced_toggle.setCheckable(True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.setAutoRaise(True)
        self.advanced_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_toggle.toggled.connect(self._advanced_toggled)
        self.form.addRow(self.advanced_toggle)
        for name in [n for n in fields if plain[n].advanced]:
            self._add_row(name, values)
        self.update_rows()

    def _add_row(self, name: str, values: BaseModel) -> None:
        info = self.model_type.model_fields[name]
        editor = editor_for(name, info, shown(self.section, name, info))
        editor.set_value(getattr(values, name))
        editor.changed.connect(self.validate)
        editor.changed.connect(self.changed)
        cell = QWidget()
        column = QVBoxLayout(cell)
        column.setContentsMargins(0, 0, 0, 6)
        column.setSpacing(2)
        column.addWidget(editor)
        explanation = QLabel(editor.shown.help)
        explanation.setObjectName(f"help_{name}")
        explanation.setWordWrap(True)
        explanation.setTextFormat(Qt.TextFormat.PlainText)
        explanation.setEnabled(False)  # rendered in the palette's muted text colour
        column.addWidget(explanation)
        error = QLabel()
        error.setObjectName(f"error_{name}")
        error.setWordWrap(True)
        error.setStyleSheet("color: #c62828;")
        error.setTextFormat(Qt.TextFormat.PlainText)
        error.hide()
        column.addWidget(error)
        # A check box says what it is itself; other editors get the plain label in the form's left column.
        label = QLabel("" if isinstance(editor, BoolEditor) else editor.shown.label)
        label.setObjectName(f"label_{name}")
        label.setBuddy(editor.editor)
        self.form.addRow(label, cell)
        self.editors[name] = editor
        self.errors[name] = error
        self.labels[name] = label
        self.cells[name] = cell

    def label_text(self, name: str) -> str:
        """The words the doctor sees for a field: its row label, or its check box's text."""
        editor = self.editors[name]
        return editor.shown.label if isinstance(editor, BoolEditor) else self.labels[name].text()

    def _advanced_toggled(self, on: bool) -> None:
        self.advanced_toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.update_rows()

    def set_advanced(self, on: bool) -> None:
        self.advanced_toggle.setChecked(on)

    def update_rows(self, machine: Machine | None = None) -> None:
        """Show the rows that apply to this machine; advanced ones only while the toggle is open."""
        if machine is not None:
            self.machine = machine
        open_ = self.advanced_toggle.isChecked()
        any_advanced = False
        for name, cell in self.cells.items():
            plain = self.editors[name].shown
            fits = applies(plain.needs, self.machine)
            any_advanced |= fits and plain.advanced
            self.form.setRowVisible(cell, fits and (open_ or not plain.advanced))
        self.form.setRowVisible(self.advanced_toggle, any_advanced)

    def shows(self, name: str) -> bool:
        """Whether the field's row is on the page (it applies, and it is not behind a closed Advanced toggle)."""
        plain = self.editors[name].shown
        return applies(plain.needs, self.machine) and (self.advanced_toggle.isChecked() or not plain.advanced)

    def raw_values(self) -> dict[str, object]:
        return {name: editor.value() for name, editor in self.editors.items()}

    def validate(self) -> BaseModel | None:
        """Validate through the model; show each error next to its field. Returns the section, or None."""
        for label in self.errors.values():
            label.hide()
        try:
            return self.model_type.model_validate(self.raw_values())
        except ValidationError as exc:
            for err in exc.errors():
                name = str(err["loc"][0]) if err["loc"] else ""
                target = self.errors.get(name)
                if target is not None:
                    target.setText(err["msg"])
                    target.show()
                    if self.editors[name].shown.advanced:
                        self.set_advanced(True)  # never an error the doctor cannot see
            return None

    def has_errors(self) -> bool:
        return any(not label.isHidden() for label in self.errors.values())
