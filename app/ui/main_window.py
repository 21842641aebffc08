"""The main window: layout and wiring only. Behaviour lives in controllers."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QSplitter, QWidget

from app.ui.about_dialog import AboutDialog


def _pane(title: str, name: str) -> QLabel:
    label = QLabel(title)
    label.setObjectName(name)
    label.setAccessibleName(title)
    label.setMargin(12)
    return label


class MainWindow(QMainWindow):
    def __init__(self, models_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models_dir = models_dir
        self.setWindowTitle("Clinic Assistant")
        splitter = QSplitter(self)
        splitter.addWidget(_pane("Patients", "patientsPane"))
        splitter.addWidget(_pane("Encounter", "encounterPane"))
        splitter.addWidget(_pane("Chat", "chatPane"))
        splitter.setSizes([260, 620, 420])
        self.setCentralWidget(splitter)
        self.statusBar().showMessage("Ready")
        self._build_menus()
        self.resize(1300, 820)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About Clinic Assistant", self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)
        self.about_action = about

    def show_about(self) -> AboutDialog:
        dialog = AboutDialog(self.models_dir, self)
        dialog.open()
        return dialog
