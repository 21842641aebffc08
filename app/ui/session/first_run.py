"""First run: create the passphrase, install or verify the models, pick the microphone, check the GPU.

Finishing saves the chosen settings and asks the session controller to create the encrypted store (on the store's
own thread). The wizard stays open, busy, until the store exists; a problem returns to the passphrase page."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from app.core.config import GpuSettings, Settings
from app.core.services.passphrases import words_to_avoid
from app.ui.engines import EngineHub
from app.ui.errors import ErrorPresenter
from app.ui.session.dialog_parts import wrapped_label
from app.ui.session.new_passphrase import NewPassphraseFields
from app.ui.settings import field_text
from app.ui.settings.field_editors import FieldEditor, editor_for
from app.ui.settings.gpu_panel import GpuPanel
from app.ui.settings.models_panel import ModelsPanel

SYSTEM_DEFAULT = "System default"
GPU_FIELDS = ("n_gpu_layers", "split_mode", "flash_attn", "n_ctx")


class PassphrasePage(QWizardPage):
    def __init__(self, avoid: Iterable[str] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle("Protect the patient records")
        self.setSubTitle(
            "Choose a passphrase. Everything is stored encrypted with it; without it nobody, not even support, can "
            "open the records. A few unrelated words make a strong, memorable passphrase."
        )
        layout = QVBoxLayout(self)
        self.fields = NewPassphraseFields(avoid)
        self.fields.changed.connect(self.completeChanged)
        layout.addWidget(self.fields)
        layout.addStretch(1)
        self.first = self.fields.first
        self.second = self.fields.second
        self.feedback = self.fields.feedback

    def isComplete(self) -> bool:
        return self.fields.is_ready()

    def show_problem(self, text: str) -> None:
        self.fields.show_problem(text)

    def clear(self) -> None:
        self.fields.clear()


class MicrophonePage(QWizardPage):
    def __init__(self, hub: EngineHub, presenter: ErrorPresenter, current: str) -> None:
        super().__init__()
        self.setTitle("Microphone")
        self.setSubTitle("Which microphone to dictate with. You can change it later in the settings.")
        layout = QVBoxLayout(self)
        self.devices = QComboBox()
        self.devices.setObjectName("microphoneChoice")
        self.devices.setAccessibleName("Microphone")
        self.devices.addItem(SYSTEM_DEFAULT)
        layout.addWidget(self.devices)
        self.note = wrapped_label("microphoneNote")
        layout.addWidget(self.note)
        self._current = current
        job = hub.run_on("tools", self._list_devices, "listing microphones")
        job.finished.connect(self._show)
        job.failed.connect(lambda exc: self._failed(presenter, exc))

    def _failed(self, presenter: ErrorPresenter, exc: object) -> None:
        problem = presenter.present(exc, "listing the microphones")
        if problem is not None:
            self.note.setText(f"{problem.message} You can still transcribe recorded audio files.")

    @staticmethod
    def _list_devices(_token: Any) -> list[str]:
        from app.core.audio.capture import list_input_devices

        return [d.name for d in list_input_devices()]

    def _show(self, names: list[str]) -> None:
        self.devices.addItems(names)
        if self._current in names:
            self.devices.setCurrentText(self._current)
        self.note.setText(
            f"{len(names)} microphone(s) found." if names
            else "No microphone found. You can still transcribe recorded audio files (Encounter → Open audio file)."
        )

    def chosen(self) -> str:
        text = self.devices.currentText()
        return "" if text == SYSTEM_DEFAULT else text


class GpuPage(QWizardPage):
    def __init__(self, hub: EngineHub, presenter: ErrorPresenter, settings: Settings) -> None:
        super().__init__()
        self.setTitle("GPU")
        self.setSubTitle(
            "Probe shows the GPUs llama.cpp can use; the fit plan shows how the language model will be placed."
        )
        self._settings = settings
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.editors: dict[str, FieldEditor] = {}
        for name in GPU_FIELDS:
            info = GpuSettings.model_fields[name]
            words = field_text.shown("gpu", name, info)
            editor = editor_for(name, info, words)
            editor.set_value(getattr(settings.gpu, name))
            editor.setToolTip(words.help or (info.description or ""))
            self.editors[name] = editor
            form.addRow(words.label, editor)
        layout.addLayout(form)
        self.panel = GpuPanel(hub, presenter, self.settings)
        layout.addWidget(self.panel)

    def settings(self) -> Settings | None:
        try:
            gpu = self._settings.gpu.model_copy(update={n: e.value() for n, e in self.editors.items()})
            return self._settings.model_copy(update={"gpu": GpuSettings.model_validate(gpu.model_dump())})
        except ValueError:
            return None


class FirstRunWizard(QWizard):
    completed = Signal(str, object)  # passphrase, Settings

    def __init__(self, hub: EngineHub, presenter: ErrorPresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome to Clinic Assistant")
        self.setAccessibleName("First-run setup")
        self.setObjectName("firstRunWizard")
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, False)
        self._settings = hub.settings
        self.passphrase_page = PassphrasePage(words_to_avoid(self._settings))  # no store yet: no patients
        self.models_page = QWizardPage()
        self.models_page.setTitle("Models")
        self.models_page.setSubTitle("Speech, identifier, language and voice models run on this computer only.")
        models_layout = QVBoxLayout(self.models_page)
        self.models = ModelsPanel(hub, presenter)
        models_layout.addWidget(self.models)
        self.microphone_page = MicrophonePage(hub, presenter, self._settings.asr.input_device)
        self.gpu_page = GpuPage(hub, presenter, self._settings)
        for page in (self.passphrase_page, self.models_page, self.microphone_page, self.gpu_page):
            self.addPage(page)
        self.resize(760, 560)

    def chosen_settings(self) -> Settings:
        settings = self.gpu_page.settings() or self._settings
        asr = settings.asr.model_copy(update={"input_device": self.microphone_page.chosen()})
        return settings.model_copy(update={"asr": asr})

    def accept(self) -> None:
        """Finish: hand over to the controller; the wizard closes when the store exists (see `finished_ok`)."""
        self.button(QWizard.WizardButton.FinishButton).setEnabled(False)
        self.completed.emit(self.passphrase_page.first.text(), self.chosen_settings())

    def finished_ok(self) -> None:
        self.passphrase_page.clear()
        super().accept()

    def failed(self, text: str) -> None:
        self.button(QWizard.WizardButton.FinishButton).setEnabled(True)
        while self.currentPage() is not self.passphrase_page:
            self.back()
        self.passphrase_page.show_problem(text)

    def done(self, result: int) -> None:
        self.passphrase_page.clear()
        super().done(result)
