"""`clinic-assistant bench gui`: how long the window freezes while a consultation runs in it.

The real window and the real engines from the settings (the shipped defaults: whisper-base, Qwen2.5 1.5B, the
Piper voice) run consultations on the shipped sample dictation of a fictitious patient, in a throwaway encrypted
store: the sample is replayed as the microphone in real time, the note is drafted with the identifiers redacted,
and it is read aloud while it streams. `StallProbe` measures the GUI thread's longest stall from the moment
dictation starts until the last sentence has been played. The first consultation after start-up is reported apart
from the later ones: it also pays for loading the models and importing the engines' libraries.

Nothing of the clinic's own store or settings is touched. Audio goes to a silent device that consumes samples at
the pace of a sound card, so the bench needs neither a microphone nor speakers.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEventLoop, QMessageLogContext, QTimer, QtMsgType, SignalInstance, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from app.core.bench.common import BenchRequest
from app.core.config import Settings
from app.core.errors import AppError
from app.core.paths import resource
from app.core.tts.silent_device import silent_opener
from app.ui.application import ClinicApplication
from app.ui.engines import EngineFactories
from app.ui.patients.new_patient_dialog import NewPatient
from app.ui.responsiveness import TARGET_MAX_STALL_MS, StallProbe, StallReport

if TYPE_CHECKING:
    from app.core.audio.base import AudioSource

MessageHandler = Callable[[QtMsgType, QMessageLogContext, str], object]

CONSULTATIONS = 3
QUICK_CONSULTATIONS = 1
WAIT_S = 600.0
TYPING_S = 3.0  # how long the unlock dialog is open while a passphrase is typed
RECORD_AFTER_S = 1.0  # the doctor sees the new encounter, then presses Record (the page is laid out meanwhile)


def _replayed_dictation(path: Path) -> Callable[[Settings], AudioSource]:
    def microphone(_settings: Settings) -> AudioSource:
        from app.core.audio.replay import FileReplaySource

        return FileReplaySource(path, realtime=True)

    return microphone


def _wait(signals: list[SignalInstance], what: str, start: Callable[[], object] | None = None,
          timeout_s: float = WAIT_S, failures: tuple[SignalInstance, ...] = ()) -> list[object]:
    """Run the event loop until every signal has fired once (after calling `start`); their first arguments.
    One of `failures` firing ends the wait at once with an error."""
    loop = QEventLoop()
    got: dict[int, object] = {}
    failed: list[bool] = []

    def fail(*_args: object) -> None:
        failed.append(True)
        loop.quit()

    def fired(index: int, args: tuple[object, ...]) -> None:
        got.setdefault(index, args[0] if args else None)
        if len(got) == len(signals):
            loop.quit()

    slots = [lambda *args, i=index: fired(i, args) for index in range(len(signals))]
    for signal, slot in zip(signals, slots, strict=True):
        signal.connect(slot)
    for failure in failures:
        failure.connect(fail)
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    timer.start(int(timeout_s * 1000))
    try:
        if start is not None:
            start()
        if len(got) < len(signals) and not failed:
            loop.exec()
    finally:
        timer.stop()
        for signal, slot in zip(signals, slots, strict=True):
            signal.disconnect(slot)
        for failure in failures:
            failure.disconnect(fail)
    if failed:
        raise AppError(f"The GUI benchmark's consultation failed while waiting for {what}",
                       "The window's message and the log say why; check the models with `clinic-assistant self-check`")
    if len(got) < len(signals):
        missing = ", ".join(str(i + 1) for i in range(len(signals)) if i not in got)
        raise AppError(f"The GUI benchmark waited {timeout_s:.0f} s for {what} in vain (missing: {missing})",
                       "Run it on a quiet machine")
    return [got[index] for index in range(len(signals))]


def _pause(seconds: float) -> None:
    """Let the window run on its own for a while (the event loop keeps going: nothing is blocked)."""
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def _bench_settings(settings: Settings) -> Settings:
    # The note's length is the settings' own: a structured note cut short is an error, not a shorter note.
    return settings.model_copy(update={
        "llm": settings.llm.model_copy(update={"temperature": 0.0, "seed": 1}),
        "redaction": settings.redaction.model_copy(update={"review_before_sending": False}),
        "tts": settings.tts.model_copy(update={"read_answers_aloud": True}),
        "storage": settings.storage.model_copy(update={"auto_lock_minutes": 0}),
    })


def _start_encounter(clinic: ClinicApplication) -> None:
    """New encounter, through the button and the dialog that asks its reason."""
    clinic.window.patient_view.new_encounter.click()
    dialog = clinic.patients.reason_dialog
    if dialog is not None:
        dialog.reason.setText("Benchmark consultation")
        dialog.submit()


def _consultation(clinic: ClinicApplication, number: int, task: str, quick: bool) -> StallReport:
    patient = NewPatient("Benchmark", f"Patient {number}", None, None, "")
    _wait([clinic.patients.shown], "the new patient", lambda: clinic.patients.add_patient(patient))
    _wait([clinic.encounter.opened], "the new encounter", lambda: _start_encounter(clinic))
    _pause(RECORD_AFTER_S * (0.1 if quick else 1.0))
    probe = StallProbe(watch_stacks=True)
    probe.start()
    try:
        failures = (clinic.presenter.presented,)
        _wait([clinic.dictation.dictated], "the dictation", clinic.dictation.start, failures=failures)
        _wait([clinic.drafts.answer_finished, clinic.read_aloud.finished], "the note and its reading",
              lambda: clinic.drafts.draft(task), failures=failures)
    finally:
        report = probe.stop()
    return report


def _summary(report: StallReport) -> dict[str, object]:
    worst = report.site_stats[:3]
    return {
        "max_stall_ms": round(report.max_ms, 1),
        "p99_stall_ms": round(report.p99_ms, 1),
        "ticks": report.ticks,
        "ticks_over_target": report.over_target,
        "duration_s": round(report.duration_s, 1),
        "worst_sites": [f"{s.site} ({s.stalls}, worst {s.worst_ms:.0f} ms)" for s in worst],
        "longest": [case.as_dict() for case in report.longest[:2]],  # each thread's CPU time and where it was
    }


def run(
    request: BenchRequest, dictation: Path | None = None, playback_speed: float = 1.0, task: str = "soap"
) -> dict[str, object]:
    """`dictation` replaces the shipped sample, `task` the SOAP note; `playback_speed` > 1 plays the voice faster
    than a sound card would. The figures are measured with the defaults; the others are the plumbing test's."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication.instance() or QApplication(["clinic-assistant-bench"])
    assert isinstance(app, QApplication)
    restore_messages = _without_offscreen_chatter()
    try:
        return _measure(request, dictation, playback_speed, task)
    finally:
        restore_messages()


def _without_offscreen_chatter() -> Callable[[], object]:
    """The headless platform warns that it cannot size windows each time one is shown; a bench run's output would be
    little else. Every other Qt message still goes where it went."""
    previous: MessageHandler | None = None

    def handler(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
        if "propagateSizeHints" in message:
            return
        if previous is not None:
            previous(mode, context, message)
        else:
            sys.stderr.write(message + "\n")

    previous = qInstallMessageHandler(handler)
    return lambda: qInstallMessageHandler(previous)


def _measure(request: BenchRequest, dictation: Path | None, playback_speed: float, task: str) -> dict[str, object]:
    settings = _bench_settings(request.settings)
    factories = EngineFactories(microphone=_replayed_dictation(dictation or resource("sample", "dictation.wav")),
                                output_stream=lambda: silent_opener(playback_speed))
    reports: list[StallReport] = []
    with tempfile.TemporaryDirectory(prefix="clinic-bench-gui-") as scratch:
        root = Path(scratch)
        passphrase = secrets.token_urlsafe(16)
        _create_store(settings, root / "data", passphrase)
        clinic = ClinicApplication(settings, root / "settings.toml", root / "data", request.models_dir, factories)
        clinic.window.resize(1366, 768)
        try:
            unlocking = _unlock(clinic, passphrase, typing_s=TYPING_S * (0.1 if request.quick else 1.0))
            for number in range(QUICK_CONSULTATIONS if request.quick else CONSULTATIONS):
                request.progress(f"GUI consultation {number + 1}")
                reports.append(_consultation(clinic, number + 1, task, request.quick))
        finally:
            _wait([clinic.closed], "the window to close", clinic.shutdown)
    first, later = reports[0], reports[1:]
    figures: dict[str, object] = {
        "target_ms": TARGET_MAX_STALL_MS,
        "unlock_max_stall_ms": round(unlocking.max_ms, 1),
        "first_consultation_max_stall_ms": round(first.max_ms, 1),
        "first_consultation_p99_stall_ms": round(first.p99_ms, 1),
        "unlock": _summary(unlocking),
        "runs": [_summary(report) for report in reports],
    }
    if later:
        figures["later_consultations_max_stall_ms"] = round(max(r.max_ms for r in later), 1)
        figures["later_consultations_p99_stall_ms"] = round(max(r.p99_ms for r in later), 1)
    return figures


def _create_store(settings: Settings, data_dir: Path, passphrase: str) -> None:
    from app.core.services.engines import load_store

    store = load_store(settings, data_dir)
    store.create(passphrase)
    store.close()


def _unlock(clinic: ClinicApplication, passphrase: str, typing_s: float) -> StallReport:
    """Start the window on the store and unlock it as a doctor does: the dialog stays open while the passphrase is
    typed (the engines get ready meanwhile); the stalls of that time are measured too (each delays a key's echo)."""
    probe = StallProbe(watch_stacks=True)
    probe.start()
    try:
        _wait([clinic.session.passphrase_asked], "the unlock dialog", clinic.start)
        typed = QTimer()
        typed.setSingleShot(True)

        def submit() -> None:
            dialog = clinic.session.unlock_dialog
            assert dialog is not None
            dialog.passphrase.setText(passphrase)
            dialog.unlock_button.click()

        typed.timeout.connect(submit)
        _wait([clinic.session.unlocked], "the store to unlock", lambda: typed.start(int(typing_s * 1000)))
    finally:
        report = probe.stop()
    return report
