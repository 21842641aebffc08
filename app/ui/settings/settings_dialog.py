"""Settings, generated from the settings model: a list of sections on the left, the chosen section's page on the
right (app/ui/settings/section_page.py), one row per field in plain words.

Saving validates the whole model and writes it with `app.core.config.save_settings`; nothing is written while any
field is invalid. The clinic server's API key is never written to the file: a changed key is handed over with
`server_key_changed`, and the window saves it in the encrypted store on the store lane (settings/server_key.py).
Feature panels are added to a section's page by whoever opens the dialog: the model installer
(its list of installed models fills the model choices) and the GPU tools (their probe, run on a worker, decides
which GPU fields apply to this computer).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.config import SECTIONS, Settings, save_settings
from app.core.errors import ConfigError
from app.core.model_catalog import display_name
from app.ui.settings.field_editors import FieldEditor, ModelChoiceEditor
from app.ui.settings.field_text import SECTION_TITLES
from app.ui.settings.gpu_panel import GpuPanel
from app.ui.settings.models_panel import ModelsPanel
from app.ui.settings.section_page import Machine, SectionPage

if TYPE_CHECKING:
    from app.core.gpu.probe import GpuProbe
    from app.core.installed_models import ModelEntry

log = logging.getLogger(__name__)

PREFERRED_SIZE = (980, 680)  # fits a 1280 x 720 screen with room for the window frame


def section_title(section: str) -> str:
    return SECTION_TITLES.get(section, section)


def _setting_value(entry: ModelEntry) -> str:
    """What the settings file says for a model: its catalog name, a user's .gguf by its file name, a voice by the
    name of its file (`en_US-joe-medium`, as Piper names it)."""
    if entry.role == "tts":
        return entry.path.stem
    return entry.path.name if entry.user_supplied else entry.name


class SettingsDialog(QDialog):
    saved = Signal(object)  # the new Settings
    server_key_changed = Signal(str)  # the key as typed ("" = none): for the encrypted store, never the file
    machine_shown = Signal()  # the GPU probe's answer has decided which fields apply
    models_shown = Signal()  # the model choices list the installed models

    def __init__(self, settings: Settings, config_file: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setAccessibleName("Settings")
        self._settings = settings
        self._config_file = config_file
        self.machine = Machine(backend=settings.llm.backend)
        layout = QVBoxLayout(self)
        body = QHBoxLayout()
        layout.addLayout(body, 1)
        self.sections = QListWidget()
        self.sections.setObjectName("settingsSections")
        self.sections.setAccessibleName("Settings sections")
        self.sections.setSpacing(3)
        self.stack = QStackedWidget()
        self.pages: dict[str, SectionPage] = {}
        for section in SECTIONS:
            page = SectionPage(section, getattr(settings, section))
            page.setObjectName(f"section_{section}")
            page.changed.connect(self._update_buttons)
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            scroll.setWidget(page)
            self.stack.addWidget(scroll)
            self.sections.addItem(section_title(section))
            self.pages[section] = page
        self.sections.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.sections.setCurrentRow(0)
        self.sections.setFixedWidth(self.sections.sizeHintForColumn(0) + 2 * self.sections.frameWidth() + 24)
        body.addWidget(self.sections)
        body.addWidget(self.stack, 1)
        self.editor("llm", "backend").changed.connect(self._backend_changed)
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
        self._update_rows()
        screen = (parent or self).screen().availableGeometry()
        self.resize(min(PREFERRED_SIZE[0], screen.width() - 60), min(PREFERRED_SIZE[1], screen.height() - 60))

    def add_panel(self, section: str, panel: QWidget) -> None:
        """Show `panel` above the section's fields. The models panel's list fills the model choices; the GPU panel
        is asked what this computer's llama.cpp build and GPUs are (on a worker), which decides the GPU fields."""
        self.pages[section].extras.addWidget(panel)
        if isinstance(panel, ModelsPanel):
            panel.listed.connect(self.show_installed_models)
            if panel.entries:
                self.show_installed_models(panel.entries)
        elif isinstance(panel, GpuPanel):
            panel.machine_known.connect(self.show_machine)
            panel.check_machine()

    def show_machine(self, probe: GpuProbe) -> None:
        self.machine = replace(self.machine, gpu_offload=probe.gpu_offload, gpus=len(probe.devices))
        self._update_rows()
        self.machine_shown.emit()

    def show_installed_models(self, entries: list[ModelEntry]) -> None:
        for page in self.pages.values():
            for editor in page.editors.values():
                if isinstance(editor, ModelChoiceEditor):
                    editor.set_models([
                        (_setting_value(e), display_name(e.name, role=e.role, size=e.size))
                        for e in entries
                        if e.role == editor.role and e.status == "installed"
                    ])
        self.models_shown.emit()

    def _backend_changed(self) -> None:
        self.machine = replace(self.machine, backend=str(self.editor("llm", "backend").value()))
        self._update_rows()

    def _update_rows(self) -> None:
        for page in self.pages.values():
            page.update_rows(self.machine)

    def set_advanced(self, on: bool) -> None:
        """Open (or close) the advanced settings of every page."""
        for page in self.pages.values():
            page.set_advanced(on)

    def show_section(self, section: str) -> None:
        self.sections.setCurrentRow(list(self.pages).index(section))

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
        if settings.llm.server_api_key != self._settings.llm.server_api_key:
            self.server_key_changed.emit(settings.llm.server_api_key)
        self._settings = settings
        self.saved.emit(settings)
        self.accept()
