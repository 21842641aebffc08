"""Settings, generated from the settings model: one tab per section, one row per field.

Each row shows the field's editor (chosen from its type and bounds), its description as help and tooltip, and the
model's own validation error right beside it. Saving validates the whole model and writes it with
`app.core.config.save_settings`; nothing is written while any field is invalid. Feature panels (the GPU probe and
plan, the model installer) are added to a section's tab by whoever opens the dialog.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import BaseModel, ValidationError
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.config import SECTIONS, Settings, save_settings
from app.core.errors import ConfigError
from app.ui.settings.field_editors import BoolEditor, FieldEditor, editor_for

log = logging.getLogger(__name__)


def section_title(section: str) -> str:
    description = Settings.model_fields[section].description or section
    return description.rstrip(".")


class SectionPage(QWidget):
    """The editors of one section (AsrSettings, GpuSettings …) and their error labels."""

    changed = Signal()

    def __init__(self, section: str, values: BaseModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.section = section
        self.model_type = type(values)
        self.editors: dict[str, FieldEditor] = {}
        self.errors: dict[str, QLabel] = {}
        outer = QVBoxLayout(self)
        self.extras = QVBoxLayout()
        outer.addLayout(self.extras)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        outer.addLayout(form)
        outer.addStretch(1)
        for name, info in self.model_type.model_fields.items():
            editor = editor_for(name, info)
            editor.set_value(getattr(values, name))
            editor.changed.connect(self.validate)
            editor.changed.connect(self.changed)
            cell = QWidget()
            column = QVBoxLayout(cell)
            column.setContentsMargins(0, 0, 0, 4)
            column.addWidget(editor)
            if not isinstance(editor, BoolEditor):  # a check box already shows its description as its text
                help_label = QLabel(info.description or "")
                help_label.setWordWrap(True)
                help_label.setEnabled(False)  # rendered in the palette's muted text colour
                column.addWidget(help_label)
            error = QLabel()
            error.setObjectName(f"error_{name}")
            error.setWordWrap(True)
            error.setStyleSheet("color: #c62828;")
            error.setTextFormat(Qt.TextFormat.PlainText)
            error.hide()
            column.addWidget(error)
            # The label is the setting's own key: the same name the TOML file, the CLI and error hints use.
            form.addRow("" if isinstance(editor, BoolEditor) else name, cell)
            self.editors[name] = editor
            self.errors[name] = error

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
            return None

    def has_errors(self) -> bool:
        return any(not label.isHidden() for label in self.errors.values())


class SettingsDialog(QDialog):
    saved = Signal(object)  # the new Settings

    def __init__(self, settings: Settings, config_file: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setAccessibleName("Settings")
        self._settings = settings
        self._config_file = config_file
        layout = QVBoxLayout(self)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Settings sections")
        layout.addWidget(self.tabs)
        self.pages: dict[str, SectionPage] = {}
        for section in SECTIONS:
            page = SectionPage(section, getattr(settings, section))
            page.setObjectName(f"section_{section}")
            page.changed.connect(self._update_buttons)
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setWidget(page)
            self.tabs.addTab(scroll, section_title(section))
            self.pages[section] = page
        self.status = QLabel()
        self.status.setObjectName("settingsStatus")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, parent=self
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.resize(760, 640)

    def add_panel(self, section: str, panel: QWidget) -> None:
        """Show `panel` (e.g. the GPU probe and plan) above the section's fields."""
        self.pages[section].extras.addWidget(panel)

    def show_section(self, section: str) -> None:
        self.tabs.setCurrentIndex(list(self.pages).index(section))

    def editor(self, section: str, name: str) -> FieldEditor:
        return self.pages[section].editors[name]

    def _update_buttons(self) -> None:
        bad = [section_title(s) for s, page in self.pages.items() if page.has_errors()]
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(not bad)
        self.status.setText(f"Fix the marked fields in: {', '.join(bad)}" if bad else "")

    def collect(self) -> Settings | None:
        sections: dict[str, BaseModel] = {}
        for name, page in self.pages.items():
            values = page.validate()
            if values is None:
                self._update_buttons()
                return None
            sections[name] = values
        return self._settings.model_copy(update=sections)

    def save(self) -> None:
        settings = self.collect()
        if settings is None:
            return
        try:
            path = save_settings(settings, self._config_file)
        except OSError as exc:
            error = ConfigError(f"The settings could not be saved to {self._config_file}", exc.strerror or "")
            self.status.setText(error.one_line())
            return
        log.info("settings saved to %s", path)
        self._settings = settings
        self.saved.emit(settings)
        self.accept()
