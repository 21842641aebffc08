"""The settings a clinician reads: plain labels and explanations (never a field's code name), the right control for
each field, a list of the installed chat models, only what applies to this computer, and pages that fit a
1280 x 720 screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit, QScrollArea, QSpinBox
from pytestqt.qtbot import QtBot

from app.core.config import SECTIONS, Settings
from app.core.gpu.devices import GpuDevice
from app.core.gpu.p2p import P2PStatus
from app.core.gpu.probe import GpuProbe
from app.core.model_catalog import display_name
from app.ui.application import ClinicApplication
from app.ui.settings.field_editors import ModelChoiceEditor
from app.ui.settings.field_text import FIELDS
from app.ui.settings.settings_dialog import PREFERRED_SIZE, SettingsDialog
from tests.ui.support import factories, make_app, ui_settings

GPU_ONLY = {"n_gpu_layers", "offload_kqv", "hip_visible_devices", "hsa_override_gfx_version", "vram_margin_mib"}
MULTI_GPU = {"split_mode", "main_gpu", "tensor_split", "row_split_check"}


def _machine(build: str, gpus: int) -> GpuProbe:
    devices = [GpuDevice(i, f"Radeon {i}", "gfx1100", None, 46064, 40000, False) for i in range(gpus)]
    return GpuProbe(build=build, gpu_offload=build != "CPU", devices=devices, p2p=P2PStatus("unknown", "not read"))


@pytest.fixture
def clinic(qtbot: QtBot, tmp_path: Path, models_dir: Path) -> ClinicApplication:
    settings = ui_settings("qwen2.5-1.5b-instruct")
    return make_app(qtbot, settings, tmp_path / "data", models_dir, tmp_path / "settings.toml", factories())


def _open(qtbot: QtBot, clinic: ClinicApplication) -> SettingsDialog:
    """The dialog as the window opens it, once the models folder and the GPU probe (both on workers) answered."""
    dialog = clinic.open_settings()
    with qtbot.waitSignals([dialog.models_shown, dialog.machine_shown], timeout=30000):
        pass
    return dialog


def test_every_field_has_a_plain_label_and_an_explanation(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = SettingsDialog(Settings(), tmp_path / "settings.toml")
    qtbot.addWidget(dialog)
    for section in SECTIONS:
        page = dialog.pages[section]
        for name, info in type(getattr(Settings(), section)).model_fields.items():
            assert f"{section}.{name}" in FIELDS, f"{section}.{name} has no plain label in field_text.py"
            label = page.label_text(name)
            assert label and label.lower() not in {name, name.replace("_", " ")} and "_" not in label, label
            explanation = page.cells[name].findChild(QLabel, f"help_{name}")
            assert explanation is not None and explanation.text().strip(), f"{section}.{name}"
            assert page.editors[name].editor.accessibleName() == label
            assert page.editors[name].editor.toolTip() == info.description  # the technical words stay in reach
    # The right control for each kind of field.
    key = dialog.editor("llm", "server_api_key").editor
    assert isinstance(key, QLineEdit) and key.echoMode() == QLineEdit.EchoMode.Password
    context = dialog.editor("gpu", "n_ctx").editor
    assert isinstance(context, QSpinBox) and context.suffix() == " tokens"
    lock = dialog.editor("storage", "auto_lock_minutes")
    lock.set_value(0)
    assert isinstance(lock.editor, QSpinBox) and lock.editor.text() == "Never"
    assert isinstance(dialog.editor("tts", "read_answers_aloud").editor, QCheckBox)
    backend = dialog.editor("llm", "backend").editor
    assert isinstance(backend, QComboBox) and backend.currentText() == "On this computer"
    assert isinstance(dialog.editor("llm", "model"), ModelChoiceEditor)
    # Advanced fields wait behind their page's toggle; the plain ones are shown.
    asr = dialog.pages["asr"]
    assert asr.shows("vocabulary") and not asr.shows("log_prob_threshold")
    asr.advanced_toggle.click()
    assert asr.shows("log_prob_threshold")


def test_chat_model_lists_the_installed_models(qtbot: QtBot, clinic: ClinicApplication) -> None:
    dialog = _open(qtbot, clinic)
    editor = dialog.editor("llm", "model")
    assert isinstance(editor, ModelChoiceEditor)
    assert editor.models() == ["qwen2.5-1.5b-instruct", "smollm2-135m-instruct"]  # chat models only, installed
    combo = editor.editor
    assert isinstance(combo, QComboBox)
    texts = [combo.itemText(i) for i in range(combo.count())]
    assert texts[1] == display_name("smollm2-135m-instruct")
    assert texts[1] == "SmolLM2 135M — chat model, 98 MB, runs on this computer"
    assert combo.currentText() == display_name("qwen2.5-1.5b-instruct")
    combo.setCurrentIndex(1)
    settings = dialog.collect()
    assert settings is not None and settings.llm.model == "smollm2-135m-instruct"  # the file keeps the name
    speech = dialog.editor("asr", "model")
    assert isinstance(speech, ModelChoiceEditor) and speech.models() == ["whisper-base", "whisper-tiny.en"]
    dialog.reject()
    clinic.shutdown()


def test_only_what_applies_to_this_computer(qtbot: QtBot, clinic: ClinicApplication) -> None:
    dialog = _open(qtbot, clinic)
    gpu = dialog.pages["gpu"]
    gpu.set_advanced(True)
    # This computer, as the probe (run on a worker) found it.
    if not dialog.machine.gpu_offload:
        assert not any(gpu.shows(name) or gpu.cells[name].isVisibleTo(gpu) for name in GPU_ONLY | MULTI_GPU)
        assert gpu.shows("n_ctx") and gpu.shows("n_threads")  # what a CPU build uses is still there
    # A CPU build (with or without GPUs beside it), one GPU, two GPUs.
    dialog.show_machine(_machine("CPU", 2))
    assert not any(gpu.cells[name].isVisibleTo(gpu) for name in GPU_ONLY | MULTI_GPU)
    dialog.show_machine(_machine("HIP", 1))
    assert all(gpu.cells[name].isVisibleTo(gpu) for name in GPU_ONLY)
    assert not any(gpu.cells[name].isVisibleTo(gpu) for name in MULTI_GPU)  # no "split: layer" beside "none"
    dialog.show_machine(_machine("HIP", 2))
    assert all(gpu.cells[name].isVisibleTo(gpu) for name in GPU_ONLY | MULTI_GPU)
    # Server fields follow the backend as edited.
    llm = dialog.pages["llm"]
    assert not llm.cells["server_url"].isVisibleTo(llm) and llm.cells["model"].isVisibleTo(llm)
    dialog.editor("llm", "backend").set_value("server")
    assert llm.cells["server_url"].isVisibleTo(llm) and not llm.cells["model"].isVisibleTo(llm)
    dialog.reject()
    clinic.shutdown()


def test_sections_and_labels_fit_1280x720(qtbot: QtBot, clinic: ClinicApplication) -> None:
    dialog = _open(qtbot, clinic)
    dialog.show_machine(_machine("HIP", 2))  # every field that can ever be shown
    dialog.set_advanced(True)
    size = (min(PREFERRED_SIZE[0], 1280 - 60), min(PREFERRED_SIZE[1], 720 - 60))
    dialog.resize(*size)
    qtbot.waitExposed(dialog)
    assert dialog.width() <= 1280 and dialog.height() <= 720
    minimum = dialog.minimumSizeHint()
    assert minimum.width() <= 1280 and minimum.height() <= 720
    sections = dialog.sections
    assert sections.count() == len(SECTIONS)
    assert sections.sizeHintForColumn(0) <= sections.viewport().width()  # no section name cut off
    assert sections.sizeHintForRow(0) * sections.count() <= sections.viewport().height()  # all in view
    for index, section in enumerate(SECTIONS):
        dialog.show_section(section)
        scroll = dialog.stack.currentWidget()
        assert isinstance(scroll, QScrollArea) and dialog.stack.currentIndex() == index
        page = dialog.pages[section]
        qtbot.waitUntil(page.isVisible)
        assert page.minimumSizeHint().width() <= scroll.viewport().width(), f"{section} would scroll sideways"
        for name, label in page.labels.items():
            if page.cells[name].isVisibleTo(page):
                assert label.width() >= label.sizeHint().width(), f"{section}.{name}: label cut off"
                editor = page.editors[name].editor
                if isinstance(editor, QCheckBox):
                    assert editor.width() >= editor.sizeHint().width(), f"{section}.{name}: check box cut off"
    dialog.reject()
    clinic.shutdown()
