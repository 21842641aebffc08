"""Composition root of the GUI: build the application and its window from the CLI's resolved context.

`run_gui(ctx)` is what `clinic-assistant` (no command) runs. Engines come from `EngineFactories` (the real ones by
default); tests build `ClinicApplication` with small real engines or fakes instead.

`CLINIC_GUI_SMOKE_QUIT_MS=<ms>`: quit cleanly (exit 0) that many milliseconds after the window appears; the
packaging smoke test uses it to prove the frozen bundle starts its GUI.
"""

from __future__ import annotations

import logging
import os
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.cli.context import CliContext
from app.ui.application import ClinicApplication
from app.ui.engines import EngineFactories

log = logging.getLogger(__name__)

SMOKE_QUIT_ENV = "CLINIC_GUI_SMOKE_QUIT_MS"


def smoke_quit_ms() -> int | None:
    raw = os.environ.get(SMOKE_QUIT_ENV, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        log.warning("%s=%r is not a whole number of milliseconds: ignored", SMOKE_QUIT_ENV, raw)
        return None
    return max(0, value)


def build_application(ctx: CliContext, factories: EngineFactories | None = None) -> ClinicApplication:
    clinic = ClinicApplication(ctx.settings, ctx.config_file, ctx.data_dir, ctx.models_dir, factories)
    for warning in ctx.warnings:
        clinic.window.statusBar().showMessage(f"Settings: {warning}", 15000)
    return clinic


def run_gui(ctx: CliContext, factories: EngineFactories | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Clinic Assistant")
    app.setOrganizationName("clinic-assistant")
    app.setQuitOnLastWindowClosed(False)  # the application decides when to quit (after saving)
    clinic = build_application(ctx, factories)
    clinic.closed.connect(app.quit)
    clinic.start()
    quit_after = smoke_quit_ms()
    if quit_after is not None:
        log.info("smoke test: quitting after %d ms", quit_after)
        QTimer.singleShot(quit_after, clinic.shutdown)
    code = app.exec()
    clinic.shutdown()  # idempotent: covers a quit from elsewhere (the session ending)
    return int(code)
