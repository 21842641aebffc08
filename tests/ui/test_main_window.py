from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.ui.main_window import MainWindow


def test_about_lists_every_model_licence(qtbot: QtBot, models_dir: Path) -> None:
    window = MainWindow(models_dir)
    qtbot.addWidget(window)
    window.show()
    dialog = window.show_about()
    table = dialog.findChild(type(dialog.findChildren(object)[0]).__mro__[0], "modelLicences")  # noqa: F841
    from PySide6.QtWidgets import QTableWidget

    licences = dialog.findChild(QTableWidget, "modelLicences")
    assert licences is not None
    texts = {licences.item(r, 3).text() for r in range(licences.rowCount())}
    assert any(t.startswith("Apache-2.0") for t in texts) and "MIT" in texts
    dialog.close()
