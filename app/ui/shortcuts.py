"""Every action of the window with its shortcut, in one table: the menus, the toolbar and Help → Keyboard
shortcuts are all built from it, so the list the doctor reads is always the one that works."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget


@dataclass(frozen=True)
class ActionSpec:
    key: str  # how code refers to it: window.actions["draft_soap"]
    text: str  # menu text with its & mnemonic
    shortcut: str  # portable text ("Ctrl+Shift+S"); "" for none
    menu: str
    help: str


# Push-to-talk is a key held down (F8), not a QAction: see DictationPanel. It is listed here so Help shows it.
PUSH_TO_TALK_KEY = Qt.Key.Key_F8

ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("new_patient", "&New patient…", "Ctrl+N", "&File", "Add a patient"),
    ActionSpec("find_patient", "&Find patient", "Ctrl+F", "&File", "Search by name, MRN or date of birth"),
    ActionSpec("backup", "&Back up the store…", "", "&File", "Save an encrypted copy of every record"),
    ActionSpec("restore", "&Restore from a backup…", "", "&File", "Replace the records with a backup's"),
    ActionSpec("change_passphrase", "Change &passphrase…", "", "&File", "Choose a new passphrase for the store"),
    ActionSpec("settings", "&Settings…", "Ctrl+,", "&File", "Models, speech, redaction, GPU, voice, locking"),
    ActionSpec("lock", "&Lock now", "Ctrl+L", "&File", "Hide patient data and ask for the passphrase"),
    ActionSpec("quit", "&Quit", "Ctrl+Q", "&File", "Close Clinic Assistant"),
    ActionSpec("next_patient", "&Next patient", "Ctrl+PgDown", "&Patient", "Show the next patient in the list"),
    ActionSpec("previous_patient", "&Previous patient", "Ctrl+PgUp", "&Patient", "Show the previous patient"),
    ActionSpec("brief_me", "&Brief me", "Ctrl+B", "&Patient", "Hear a short summary before the patient comes in"),
    ActionSpec("new_encounter", "New &encounter", "Ctrl+Shift+N", "&Patient", "Start an encounter for this patient"),
    ActionSpec("back_to_patient", "&Back to patient", "Alt+Left", "&Patient", "Leave the encounter for the patient"),
    ActionSpec("record", "&Record / stop", "Ctrl+R", "&Encounter", "Start or stop dictation"),
    ActionSpec("push_to_talk", "&Push to talk (hold F8)", "", "&Encounter", "Record while F8 is held down"),
    ActionSpec("open_audio", "&Open audio file…", "Ctrl+O", "&Encounter", "Transcribe a recorded file"),
    ActionSpec("review", "Re&view identifiers", "Ctrl+Shift+V", "&Encounter", "Check what will be hidden"),
    ActionSpec("draft_soap", "Draft &SOAP note", "Ctrl+Shift+S", "&Encounter", "Draft a SOAP note"),
    ActionSpec("summarise", "Su&mmarise", "Ctrl+Shift+M", "&Encounter", "Draft a summary"),
    ActionSpec("referral", "Referral &letter", "Ctrl+Shift+L", "&Encounter", "Draft a referral letter"),
    ActionSpec("ask", "As&k about this encounter", "Ctrl+J", "&Encounter", "Put the cursor in the chat box"),
    ActionSpec("stop", "S&top", "Ctrl+.", "&Encounter", "Stop dictation, the answer being written, or speech"),
    ActionSpec("accept_draft", "&Accept draft", "Ctrl+Return", "&Draft", "Accept the draft as the doctor's note"),
    ActionSpec("undo_accept", "&Undo acceptance", "Ctrl+Alt+Z", "&Draft", "Make the accepted note a draft again"),
    ActionSpec("read_aloud", "&Read aloud", "Ctrl+Shift+R", "&Draft", "Read the draft aloud"),
    ActionSpec("copy_draft", "&Copy draft", "Ctrl+Shift+C", "&Draft", "Copy the draft's text"),
    ActionSpec("export_draft", "&Export draft…", "Ctrl+E", "&Draft", "Save the draft as a text file"),
    ActionSpec("print_draft", "&Print…", "Ctrl+P", "&Draft", "Print the note or letter"),
    ActionSpec("export_pdf", "Export as P&DF…", "Ctrl+Shift+E", "&Draft", "Save the note or letter as a PDF"),
    ActionSpec("shortcuts", "&Keyboard shortcuts", "F1", "&Help", "This list"),
    ActionSpec("about", "&About Clinic Assistant", "", "&Help", "Version, licences, models"),
)


def make_actions(parent: QWidget) -> dict[str, QAction]:
    actions: dict[str, QAction] = {}
    for spec in ACTIONS:
        action = QAction(spec.text, parent)
        action.setObjectName(f"action_{spec.key}")
        if spec.shortcut:
            action.setShortcut(QKeySequence(spec.shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(f"{spec.help} ({spec.shortcut})" if spec.shortcut else spec.help)
        action.setStatusTip(spec.help)
        actions[spec.key] = action
    return actions


def shortcut_rows() -> list[tuple[str, str, str]]:
    """(action, keys, what it does) in the order of the menus, in the platform's own notation."""
    rows = []
    for spec in ACTIONS:
        keys = QKeySequence(spec.shortcut).toString(QKeySequence.SequenceFormat.NativeText) if spec.shortcut else ""
        if spec.key == "push_to_talk":
            keys = "F8 (hold)"
        rows.append((spec.text.replace("&", "").rstrip("…"), keys, spec.help))
    return rows


class ShortcutsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.setAccessibleName("Keyboard shortcuts")
        layout = QVBoxLayout(self)
        rows = shortcut_rows()
        table = QTableWidget(len(rows), 3, self)
        table.setObjectName("shortcutTable")
        table.setAccessibleName("Keyboard shortcuts")
        table.setHorizontalHeaderLabels(["Action", "Keys", "What it does"])
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                table.setItem(r, c, QTableWidgetItem(text))
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.resizeColumnsToContents()
        table.verticalHeader().hide()
        layout.addWidget(table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, parent=self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(640, 620)
