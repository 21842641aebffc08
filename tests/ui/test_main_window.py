"""The shell: About lists every model's licence, every action has a shortcut and the Help list shows it, controls
have accessible names, the settings dialog is driven by the settings model, and the smoke-quit switch works."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtWidgets import QAbstractButton, QComboBox, QLineEdit, QSpinBox, QTableWidget, QTextEdit
from pytestqt.qtbot import QtBot

from app.core.config import GpuSettings, load_settings
from app.ui.main_window import MainWindow
from app.ui.settings.settings_dialog import SettingsDialog
from app.ui.shortcuts import ACTIONS, shortcut_rows
from tests.ui.support import factories, make_app, ui_settings

REPO = Path(__file__).resolve().parents[2]


def test_about_lists_every_model_licence(qtbot: QtBot, models_dir: Path) -> None:
    window = MainWindow(models_dir)
    qtbot.addWidget(window)
    window.show()
    dialog = window.show_about()
    licences = dialog.findChild(QTableWidget, "modelLicences")
    assert licences is not None
    texts = {licences.item(r, 3).text() for r in range(licences.rowCount())}  # type: ignore[union-attr]
    assert any(t.startswith("Apache-2.0") for t in texts) and "MIT" in texts
    dialog.close()


def test_every_action_has_a_shortcut_listed_in_help(qtbot: QtBot, models_dir: Path) -> None:
    window = MainWindow(models_dir)
    qtbot.addWidget(window)
    window.show()
    without = {spec.key for spec in ACTIONS if not spec.shortcut}
    # Push-to-talk is the held F8 key; the store's rare, weighty tools are reached through the File menu only.
    assert without <= {"push_to_talk", "about", "backup", "restore", "change_passphrase"}
    keys = [spec.shortcut for spec in ACTIONS if spec.shortcut]
    assert len(keys) == len(set(keys)), "two actions share a shortcut"
    dialog = window.show_shortcuts()
    table = dialog.findChild(QTableWidget, "shortcutTable")
    assert table is not None and table.rowCount() == len(ACTIONS)
    listed = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}  # type: ignore[union-attr]
    assert listed["Push to talk (hold F8)"] == "F8 (hold)"
    assert listed["Accept draft"] and listed["Stop"] and listed["Next patient"] and listed["Previous patient"]
    assert len(shortcut_rows()) == len(ACTIONS)
    dialog.close()
    # The README's list (docs/ui.md) is the same list.
    documented = (REPO / "docs" / "ui.md").read_text(encoding="utf-8")
    for action, shortcut, _what in shortcut_rows():
        if shortcut and action != "Push to talk (hold F8)":
            assert f"| {action} | {shortcut} |" in documented, action


def test_controls_have_accessible_names(qtbot: QtBot, models_dir: Path) -> None:
    window = MainWindow(models_dir)
    qtbot.addWidget(window)
    # Everything we built carries an object name; Qt's internals (scroll bars, tab buttons) do not.
    ours = [
        widget
        for kind in (QAbstractButton, QLineEdit, QTextEdit)
        for widget in window.findChildren(kind)
        if widget.objectName() and not widget.objectName().startswith("qt_")
    ]
    unnamed = [
        w.objectName() for w in ours
        if not (w.accessibleName() or (isinstance(w, QAbstractButton) and w.text()))
    ]
    assert len(ours) >= 25 and unnamed == []


def test_settings_dialog_is_generated_and_validated_by_the_model(
    qtbot: QtBot, tmp_path: Path, models_dir: Path, tiny_model: Path
) -> None:
    config = tmp_path / "settings.toml"
    clinic = make_app(qtbot, ui_settings("tiny"), tmp_path / "data", models_dir, config, factories())
    dialog = clinic.open_settings()
    assert isinstance(dialog, SettingsDialog)
    # Every field of every section has an editor with its description as tooltip.
    gpu_page = dialog.pages["gpu"]
    assert set(gpu_page.editors) == set(GpuSettings.model_fields)
    ctx = dialog.editor("gpu", "n_ctx")
    assert ctx.editor.toolTip() == GpuSettings.model_fields["n_ctx"].description
    assert isinstance(ctx.editor, QSpinBox) and (ctx.editor.minimum(), ctx.editor.maximum()) == (512, 262144)
    split = dialog.editor("gpu", "split_mode").editor
    assert isinstance(split, QComboBox)
    assert [split.itemText(i) for i in range(split.count())] == ["none", "layer", "row"]
    # An invalid value is reported next to its field and blocks saving.
    dialog.editor("gpu", "hsa_override_gfx_version").set_value("eleven")
    error = gpu_page.errors["hsa_override_gfx_version"]
    assert not error.isHidden() and "pattern" in error.text().lower()
    save = dialog.buttons.button(dialog.buttons.StandardButton.Save)
    assert not save.isEnabled()
    dialog.editor("gpu", "hsa_override_gfx_version").set_value("11.0.0")
    assert error.isHidden() and save.isEnabled()
    # The GPU tools run off the GUI thread and report in the panel.
    from app.ui.settings.gpu_panel import GpuPanel

    panel = dialog.findChild(GpuPanel)
    assert panel is not None
    with qtbot.waitSignal(panel.reported, timeout=60000) as report:
        panel.probe_button.click()
    assert "llama.cpp build" in report.args[0]
    dialog.editor("llm", "model").set_value(str(tiny_model))  # plan and benchmark the edited (unsaved) choice
    with qtbot.waitSignal(panel.reported, timeout=60000) as report:
        panel.plan_button.click()
    assert report.args[0].startswith("Plan:") and "Layers on the GPU" in report.args[0]
    with qtbot.waitSignal(panel.reported, timeout=120000) as report:
        panel.bench_button.click()
    assert "| tg128 |" in report.args[0]
    # Saving writes the file through save_settings and the app adopts the new values.
    dialog.editor("storage", "auto_lock_minutes").set_value(7)
    dialog.editor("llm", "backend").set_value("server")
    save.click()
    assert not dialog.isVisible()
    assert load_settings(config).settings.storage.auto_lock_minutes == 7
    assert clinic.hub.settings.gpu.hsa_override_gfx_version == "11.0.0"
    assert "clinic server" in clinic.window.status.compute.text()
    clinic.shutdown()


def test_run_gui_quits_cleanly_after_the_smoke_delay(tmp_path: Path) -> None:
    env = dict(os.environ, CLINIC_GUI_SMOKE_QUIT_MS="300", QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(tmp_path / "data")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
