"""The main window: layout and wiring only. Behaviour lives in the controllers (see application.py).

Left: patients. Centre: the patient or the open encounter. Right: the answer being written and the chat. Above
them, the error banner. When locked, everything is replaced by the locked page: no patient data stays visible.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.ui.about_dialog import AboutDialog
from app.ui.assistant.answer_panel import AnswerPanel
from app.ui.assistant.chat_panel import ChatPanel
from app.ui.encounter.encounter_view import EncounterView
from app.ui.errors import ErrorBanner
from app.ui.patients.patient_list import PatientListPanel
from app.ui.patients.patient_view import PatientView
from app.ui.shortcuts import ACTIONS, ShortcutsDialog, make_actions
from app.ui.status import StatusFacts


class LockedPage(QWidget):
    unlock_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lockedPage")
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        self.message = QLabel("Clinic Assistant is locked.")
        self.message.setObjectName("lockedMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.unlock_button = QPushButton("Unlock…")
        self.unlock_button.setObjectName("unlockAgain")
        self.unlock_button.setAccessibleName("Unlock")
        self.unlock_button.clicked.connect(self.unlock_clicked)
        layout.addWidget(self.unlock_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)


class MainWindow(QMainWindow):
    close_requested = Signal()  # the application decides (unsaved drafts) and calls `close_now`

    def __init__(self, models_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models_dir = models_dir
        self.setWindowTitle("Clinic Assistant")
        self.setObjectName("mainWindow")
        self._may_close = False

        self.banner = ErrorBanner()
        self.patients = PatientListPanel()
        self.patient_view = PatientView()
        self.encounter_view = EncounterView()
        self.welcome = QLabel("Find a patient on the left, or add one with New patient (Ctrl+N).")
        self.welcome.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.welcome.setWordWrap(True)
        self.center = QStackedWidget()
        self.center.setObjectName("centerStack")
        for page in (self.welcome, self.patient_view, self.encounter_view):
            self.center.addWidget(page)
        self.answer = AnswerPanel()
        self.chat = ChatPanel()
        right = QSplitter(Qt.Orientation.Vertical)
        right.setObjectName("assistantPane")
        right.addWidget(self.answer)
        right.addWidget(self.chat)
        right.setSizes([520, 300])
        self.workspace = QSplitter()
        self.workspace.setObjectName("workspace")
        self.workspace.addWidget(self.patients)
        self.workspace.addWidget(self.center)
        self.workspace.addWidget(right)
        self.patients.setMinimumWidth(230)
        self.workspace.setStretchFactor(0, 0)
        self.workspace.setStretchFactor(1, 3)
        self.workspace.setStretchFactor(2, 2)
        self.workspace.setSizes([270, 620, 430])
        self.locked_page = LockedPage()
        self.pages = QStackedWidget()
        self.pages.addWidget(self.workspace)
        self.pages.addWidget(self.locked_page)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(4, 4, 4, 0)
        column.addWidget(self.banner)
        column.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        self.actions_by_key: dict[str, QAction] = make_actions(self)
        self._build_menus()
        self.status = StatusFacts(self.statusBar())
        self.actions_by_key["about"].triggered.connect(self.show_about)
        self.actions_by_key["shortcuts"].triggered.connect(self.show_shortcuts)
        self.actions_by_key["quit"].triggered.connect(self.close)
        self.actions_by_key["find_patient"].triggered.connect(self.focus_search)
        self.about_action = self.actions_by_key["about"]
        self.show_locked(True, "Starting…")
        self.resize(self._initial_size())

    def _initial_size(self) -> QSize:
        """Roomy where the screen allows; on a laptop (1,366 x 768) no larger than the screen, so no edge starts
        off-screen. The panes wrap their button rows, so the window's minimum stays well below 1,280 px."""
        wanted = QSize(1320, 840)
        screen = self.screen()
        return wanted if screen is None else wanted.boundedTo(screen.availableGeometry().size())

    def _build_menus(self) -> None:
        menus: dict[str, object] = {}
        for spec in ACTIONS:
            menu = menus.get(spec.menu)
            if menu is None:
                menu = self.menuBar().addMenu(spec.menu)
                menus[spec.menu] = menu
            menu.addAction(self.actions_by_key[spec.key])  # type: ignore[attr-defined]

    # -- pages ---------------------------------------------------------------------------------------------------
    def show_locked(self, locked: bool, message: str = "") -> None:
        self.pages.setCurrentWidget(self.locked_page if locked else self.workspace)
        if message:
            self.locked_page.message.setText(message)
        for key, action in self.actions_by_key.items():
            if key not in ("quit", "about", "shortcuts", "lock", "settings"):
                action.setEnabled(not locked)
        self.actions_by_key["lock"].setEnabled(not locked)
        self.status.set_locked(locked)

    def show_welcome(self) -> None:
        self.center.setCurrentWidget(self.welcome)

    def show_patient_page(self) -> None:
        self.center.setCurrentWidget(self.patient_view)

    def show_encounter_page(self) -> None:
        self.center.setCurrentWidget(self.encounter_view)

    def focus_search(self) -> None:
        self.patients.search.setFocus()
        self.patients.search.selectAll()

    # -- dialogs -------------------------------------------------------------------------------------------------
    def show_about(self) -> AboutDialog:
        dialog = AboutDialog(self.models_dir, self)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def show_shortcuts(self) -> ShortcutsDialog:
        dialog = ShortcutsDialog(self)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    # -- closing -------------------------------------------------------------------------------------------------
    def close_now(self) -> None:
        self._may_close = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._may_close:
            event.accept()
            return
        event.ignore()  # the application saves, asks about unaccepted drafts, shuts down, then calls close_now
        self.close_requested.emit()
