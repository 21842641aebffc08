"""The dictation panel: Record/Stop, push-to-talk (hold F8), a level meter, the live text (confirmed words plain,
the tentative tail grey and italic, doubtful words underlined), the editable transcript, and Open audio file. In the
transcript, the sentences linked to the note sentence the doctor clicked are highlighted (and the sentence clicked,
when the note rests on it)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.ui.assistant.grounding_marks import TextMarks
from app.ui.flow_layout import FlowLayout
from app.ui.text_marks import insert_marked, low_confidence_format, tentative_format


class DictationPanel(QWidget):
    record_clicked = Signal()
    open_file_clicked = Signal()
    transcript_edited = Signal()
    transcript_replaced = Signal()  # another encounter's transcript (or none) is shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dictationPanel")
        layout = QVBoxLayout(self)
        # A flow, not a box: the state sits beside the buttons when there is room and wraps below them when not,
        # so its text never sets the width of the window.
        controls = FlowLayout()
        self.record_button = QPushButton("Record")
        self.record_button.setObjectName("recordButton")
        self.record_button.setAccessibleName("Record or stop dictation")
        self.record_button.setToolTip("Start or stop dictation (Ctrl+R); hold F8 to talk")
        self.record_button.setCheckable(True)
        self.record_button.clicked.connect(self._record_clicked)
        controls.addWidget(self.record_button)
        self.open_button = QPushButton("Open audio file…")
        self.open_button.setObjectName("openAudioButton")
        self.open_button.setAccessibleName("Transcribe an audio file")
        self.open_button.clicked.connect(self.open_file_clicked)
        controls.addWidget(self.open_button)
        self.meter = QProgressBar()
        self.meter.setObjectName("levelMeter")
        self.meter.setAccessibleName("Microphone level")
        self.meter.setRange(0, 100)
        self.meter.setTextVisible(False)
        self.meter.setToolTip("Microphone level")
        self.meter.setMaximumWidth(180)
        self.meter.hide()  # an empty bar beside the buttons reads as a text box: shown only while recording
        controls.addWidget(self.meter)
        self.state = QLabel("Ready to dictate. Hold F8 to talk, or press Record.")
        self.state.setObjectName("dictationState")
        self.state.setAccessibleName("Dictation state")
        self.state.setWordWrap(True)
        self.state.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        controls.addWidget(self.state)
        layout.addLayout(controls)

        splitter = QSplitter(Qt.Orientation.Vertical)
        self.live = QTextEdit()
        self.live.setObjectName("liveText")
        self.live.setAccessibleName("Live dictation text")
        self.live.setReadOnly(True)
        self.live.setPlaceholderText("While you dictate, the words appear here; grey italic words may still change.")
        splitter.addWidget(self.live)
        self.transcript = QTextEdit()
        self.transcript.setObjectName("transcriptEditor")
        self.transcript.setAccessibleName("Transcript")
        self.transcript.setAcceptRichText(False)
        self.transcript.setPlaceholderText("The transcript of this encounter. Edit it freely (Ctrl+Z undoes).")
        self.transcript.textChanged.connect(self.transcript_edited)
        splitter.addWidget(self.transcript)
        self.links = TextMarks(self.transcript)
        splitter.setSizes([120, 400])
        layout.addWidget(splitter, 1)
        self._recording = False
        self._shown_live: tuple[object, ...] = ()
        self._low_format = low_confidence_format()

    def _record_clicked(self) -> None:
        self.record_button.setChecked(self._recording)  # the controller decides; the button follows its state
        self.record_clicked.emit()

    # -- states --------------------------------------------------------------------------------------------------
    def set_recording(self, recording: bool, text: str = "") -> None:
        self._recording = recording
        self.record_button.setChecked(recording)
        self.record_button.setText("Stop" if recording else "Record")
        self.open_button.setEnabled(not recording)
        self.meter.setVisible(recording)
        if text:
            self.state.setText(text)
        if not recording:
            self.meter.setValue(0)

    def set_finishing(self) -> None:
        self.record_button.setEnabled(False)
        self.state.setText("Finishing the last words…")

    def set_idle(self, text: str) -> None:
        self.set_recording(False, text)
        self.record_button.setEnabled(True)

    # -- live text -----------------------------------------------------------------------------------------------
    def show_live(
        self,
        confirmed: str,
        tentative: str,
        confirmed_low: tuple[tuple[int, int], ...],
        tentative_low: tuple[tuple[int, int], ...],
        level: float,
    ) -> None:
        self.meter.setValue(int(max(0.0, min(level, 1.0)) * 100))
        key = (confirmed, tentative, confirmed_low, tentative_low)
        if key == self._shown_live:
            return  # most chunks only move the meter: keep the GUI thread's work to that
        self._shown_live = key
        self.live.setUpdatesEnabled(False)
        self.live.clear()
        cursor = self.live.textCursor()
        base = QTextCharFormat()
        insert_marked(cursor, confirmed, confirmed_low, self._low_format, base)
        if tentative:
            grey = tentative_format(self.palette().color(QPalette.ColorRole.Text))
            low = QTextCharFormat(self._low_format)
            low.merge(grey)
            insert_marked(cursor, (" " if confirmed else "") + tentative,
                          [(s + (1 if confirmed else 0), e + (1 if confirmed else 0)) for s, e in tentative_low],
                          low, grey)
        self.live.setUpdatesEnabled(True)
        self.live.moveCursor(QTextCursor.MoveOperation.End)

    def clear_live(self) -> None:
        self._shown_live = ()
        self.live.clear()

    # -- transcript ----------------------------------------------------------------------------------------------
    def append_dictation(self, text: str, low_confidence: tuple[tuple[int, int], ...]) -> None:
        """Add a finished dictation at the end of the transcript as one undoable edit."""
        if not text.strip():
            return
        cursor = self.transcript.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.beginEditBlock()
        existing = self.transcript.toPlainText()
        separator = "" if not existing or existing.endswith(("\n", " ")) else " "
        base = QTextCharFormat()
        cursor.insertText(separator, base)
        insert_marked(cursor, text, low_confidence, low_confidence_format(), base)
        cursor.endEditBlock()
        self.transcript.setTextCursor(cursor)

    def set_transcript(self, text: str) -> None:
        self.transcript.blockSignals(True)
        self.transcript.setPlainText(text)
        self.transcript.document().clearUndoRedoStacks()
        self.transcript.blockSignals(False)
        self.links.clear()
        self.transcript_replaced.emit()

    def show_links(self, text: str, spans: list[tuple[int, int]]) -> None:
        """Highlight `spans` (offsets into `text`, the transcript as checked); the first is scrolled into view."""
        self.links.set_links(text, spans, reveal=True)

    def transcript_text(self) -> str:
        return self.transcript.toPlainText()

    def clear(self) -> None:
        self.set_transcript("")
        self.live.clear()
        self.set_idle("Ready to dictate. Hold F8 to talk, or press Record.")
