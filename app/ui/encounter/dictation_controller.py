"""Dictation: a recording (microphone, or an audio file replayed as one) transcribed live on the ASR lane, by the
consultation pipeline's transcribe stage.

The audio source is created on the ASR lane (opening a device or decoding a file never blocks the window) and
handed to a `StopHandle`, through which the GUI stops it. Stop is not cancel: the source yields what it already
captured, the transcriber finishes the last utterance, and the final text is appended to the transcript. Cancel
(closing the app) drops the recording.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog

from app.ui.encounter.dictation_panel import DictationPanel
from app.ui.engines import EngineHub
from app.ui.errors import ErrorPresenter
from app.ui.workers import Job, JobToken, StopHandle

if TYPE_CHECKING:
    from app.core.asr.base import Transcriber
    from app.core.asr.live import LiveResult, LiveTranscriber, LiveUpdate
    from app.core.audio.base import AudioSource
    from app.core.config import Settings
    from app.core.services.events import Event

log = logging.getLogger(__name__)

AUDIO_FILTER = "Audio (*.wav *.mp3 *.m4a *.flac *.ogg *.opus *.webm);;All files (*)"
# Each update is the whole live state, so only the latest one needs showing. The recogniser sends one per 100 ms
# chunk, and a burst of them when it catches up after a decode: the panel (meter, live text re-rendered) shows
# the latest at most this often, which also bounds how often the GUI thread must take the GIL for it.
SHOW_EVERY_MS = 40


def _duration(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole} s" if whole < 60 else f"{whole // 60} min {whole % 60:02d} s"


@dataclass(frozen=True)
class FileLength:
    """Yielded before an audio file's transcription starts: how long the file is, for the progress shown."""

    seconds: float


def file_progress(name: str, done_s: float, total_s: float) -> str:
    """ "Transcribing visit.wav: 2 min 30 s of 10 min 00 s (25 %)": how far a long file is."""
    done_s = min(done_s, total_s)
    percent = round(100 * done_s / total_s) if total_s > 0 else 100
    return f"Transcribing {name}: {_duration(done_s)} of {_duration(total_s)} ({percent} %). Stop keeps what is done."


def finished_note(result: LiveResult) -> str:
    """What the doctor needs to know when a dictation ends: what was added, and any audio that was lost.

    Passages the hallucination guards left out are not mentioned: the recogniser heard them as silence, noise or
    its own invention (mostly the quiet before and after the words, and each preview of a passage counts again), so
    a count of them says nothing the doctor can act on; the log keeps it. Lost audio is different: words may be
    missing, and the doctor should read the end of the transcript."""
    if result.text.strip():
        note = f"Added {_duration(result.duration_s)} of dictation."
    else:
        note = "No words were recognised; nothing was added."
    if result.dropped_audio_s > 0:
        note += (f" {result.dropped_audio_s:.1f} s of audio could not be kept (the computer was too busy): check"
                 " that nothing is missing.")
    return note


def _file_source(path: Path, token: JobToken) -> AudioSource:
    from app.core.audio.replay import FileReplaySource

    return FileReplaySource(path, cancel=token)


def _live_transcriber(transcriber: Transcriber, settings: Settings) -> LiveTranscriber:
    from app.core.asr.live import LiveTranscriber
    from app.core.asr.vocabulary import load_vocabulary

    return LiveTranscriber.from_settings(transcriber, settings.asr, load_vocabulary(settings.asr))


class DictationController(QObject):
    dictated = Signal(object)  # LiveResult, after its text was appended to the transcript
    busy_changed = Signal(bool)
    updated = Signal(object)  # LiveUpdate (tests and the responsiveness probe count them)
    # The words of this recording as they will most likely be confirmed (LiveUpdate.provisional, else the confirmed
    # words): "" when it starts (the transcript typed so far can be read ahead), then each time they change.
    likely_text_changed = Signal(str)

    def __init__(self, hub: EngineHub, presenter: ErrorPresenter, panel: DictationPanel) -> None:
        super().__init__()
        self.hub = hub
        self.presenter = presenter
        self.panel = panel
        self.job: Job | None = None
        self.handle: StopHandle | None = None
        self.enabled = False
        self._latest: LiveUpdate | None = None  # the newest update not shown yet
        self._likely = ""
        self._file_name, self._file_length = "", 0.0  # the audio file being transcribed, and its length
        self._show_timer = QTimer(self)
        self._show_timer.setObjectName("dictationShow")
        self._show_timer.setSingleShot(True)
        self._show_timer.setInterval(SHOW_EVERY_MS)
        self._show_timer.timeout.connect(self._show_latest)
        panel.record_clicked.connect(self.toggle)
        panel.open_file_clicked.connect(self.choose_file)

    @property
    def busy(self) -> bool:
        return self.job is not None

    def set_enabled(self, enabled: bool) -> None:
        """Dictation needs an open encounter."""
        self.enabled = enabled
        self.panel.record_button.setEnabled(enabled and self.job is None)
        self.panel.open_button.setEnabled(enabled and self.job is None)

    # -- starting ------------------------------------------------------------------------------------------------
    def toggle(self) -> None:
        if self.job is None:
            self.start()
        else:
            self.stop()

    def start(self) -> Job | None:
        """Record from the microphone (the injected one in tests) until `stop()`."""
        if self.job is not None or not self.enabled:
            return None
        factory = self.hub.factories.microphone
        settings = self.hub.settings
        return self._run(lambda _token: factory(settings), "Recording… press Stop (or release F8) to finish.")

    def transcribe_file(self, path: Path) -> Job | None:
        if self.job is not None or not self.enabled:
            return None
        return self._run(lambda token: _file_source(path, token), f"Transcribing {path.name}…", file_name=path.name)

    def choose_file(self) -> QFileDialog:
        dialog = QFileDialog(self.panel.window(), "Open an audio file", "", AUDIO_FILTER)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(lambda name: self.transcribe_file(Path(name)))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _run(self, make_source: Callable[[JobToken], AudioSource], text: str, file_name: str = "") -> Job:
        handle = StopHandle()
        settings = self.hub.settings

        def work(transcriber: Transcriber, token: JobToken) -> Generator[Event, None, LiveResult]:
            from app.core.services.consultation import ConsultationPipeline

            # The pipeline's transcribe stage, on the lane that owns Whisper. No encounter here: the encounter
            # controller saves the recognised text together with the doctor's edits, in one transaction.
            pipeline = ConsultationPipeline(settings, live=lambda: _live_transcriber(transcriber, settings))
            source = make_source(token)
            handle.attach(source)
            length = getattr(source, "duration_s", None)
            if file_name and isinstance(length, float):
                yield FileLength(length)  # type: ignore[misc]  # a UI event beside the pipeline's
            return (yield from pipeline.transcribe(source, None, token))

        job = self.hub.run("asr", work, "dictation", slot="dictation")
        self.job, self.handle = job, handle
        job.yielded.connect(self._update_arrived)
        job.finished.connect(self._finished)
        job.failed.connect(lambda exc: self.presenter.present(exc, "dictating"))
        job.ended.connect(lambda: self._ended(job))
        self._likely = ""
        self._file_name, self._file_length = file_name, 0.0
        self.panel.set_recording(True, text)
        self.panel.clear_live()
        self.likely_text_changed.emit("")
        self.busy_changed.emit(True)
        return job

    # -- stopping ------------------------------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop recording; the words captured so far are still transcribed and kept."""
        if self.handle is not None and not self.handle.stopped:
            self.handle.stop()
            self.panel.set_finishing()

    def cancel(self) -> None:
        """Drop the recording (the app is closing)."""
        if self.job is not None:
            self.job.cancel()
        if self.handle is not None:
            self.handle.stop()

    def finish_before_lock(self) -> Job | None:
        """Locking waits for this job: the dictation so far is transcribed and saved first."""
        job = self.job
        self.stop()
        return job

    # -- results -------------------------------------------------------------------------------------------------
    def _update_arrived(self, event: object) -> None:
        from app.core.services.events import TranscriptUpdate

        if isinstance(event, FileLength):
            self._file_length = event.seconds
            return
        if not isinstance(event, TranscriptUpdate):
            return  # stage marks and the final transcript (which arrives as the job's result)
        self._latest = event.update
        if not self._show_timer.isActive():
            self._show_timer.start()
        self.updated.emit(event.update)
        likely = event.update.provisional or event.update.confirmed
        if likely != self._likely:
            self._likely = likely
            self.likely_text_changed.emit(likely)

    def _show_latest(self) -> None:
        update, self._latest = self._latest, None
        if update is None:
            return
        self.panel.show_live(
            update.confirmed, update.tentative, update.confirmed_low_confidence, update.tentative_low_confidence,
            update.level,
        )
        if update.dropped_audio_s > 0:
            self.panel.state.setText(f"Warning: {update.dropped_audio_s:.1f} s of audio could not be kept.")
        elif self._file_length > 0 and self.handle is not None and not self.handle.stopped:
            self.panel.state.setText(file_progress(self._file_name, update.audio_s, self._file_length))

    def _drop_pending(self) -> None:
        self._show_timer.stop()
        self._latest = None

    def _finished(self, result: LiveResult | None) -> None:
        self._drop_pending()  # the final text replaces the live view
        if result is None:
            return
        self.panel.append_dictation(result.text, result.low_confidence)
        self.panel.clear_live()
        self.panel.set_idle(finished_note(result))
        log.info("dictation appended: %.1f s, %d passage(s) left out by the guards", result.duration_s,
                 result.dropped_segments)
        self.dictated.emit(result)

    def _ended(self, job: Job) -> None:
        if self.job is not job:
            return
        self._drop_pending()
        self.job = None
        self.handle = None
        if self.panel.record_button.text() != "Record":
            self.panel.set_idle("Stopped.")
        self.set_enabled(self.enabled)
        self.busy_changed.emit(False)
