"""Composition root of the GUI: build the application and its window from the CLI's resolved context."""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.cli.context import CliContext
from app.ui.main_window import MainWindow


def apply_theme(app: QApplication, theme: str) -> None:
    """'system' follows the desktop's light/dark setting (Qt ≥ 6.5 does that by itself); otherwise force it."""
    hints = app.styleHints()
    if theme == "dark":
        hints.setColorScheme(Qt.ColorScheme.Dark)
    elif theme == "light":
        hints.setColorScheme(Qt.ColorScheme.Light)


def run_gui(ctx: CliContext) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Clinic Assistant")
    app.setOrganizationName("clinic-assistant")
    apply_theme(app, ctx.settings.ui.theme)
    window = MainWindow(ctx.models_dir)
    for warning in ctx.warnings:
        window.statusBar().showMessage(f"Settings: {warning}", 15000)
    window.show()
    return app.exec()
