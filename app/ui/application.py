"""Wiring: the engines, the window and one controller per feature, connected. No behaviour of its own beyond
starting, settings and closing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox

from app.core import gc_policy
from app.core.config import Settings, save_settings
from app.core.tts.text_feed import TextFeed
from app.ui.assistant.answer_panel import AnswerState
from app.ui.assistant.drafts_controller import DraftsController
from app.ui.assistant.grounding_controller import GroundingController, record_sources
from app.ui.assistant.print_actions import NotePrinting
from app.ui.assistant.read_aloud import ReadAloudController
from app.ui.encounter.dictation_controller import DictationController
from app.ui.encounter.encounter_controller import EncounterController
from app.ui.encounter.push_to_talk import PushToTalk
from app.ui.encounter.redaction_controller import RedactionController
from app.ui.engines import EngineFactories, EngineHub
from app.ui.errors import ErrorPresenter
from app.ui.main_window import MainWindow
from app.ui.patients.briefing_controller import BriefingController
from app.ui.patients.controller import PatientsController
from app.ui.patients.summary_controller import SummaryController
from app.ui.patients.summary_source import SourceOpener
from app.ui.server_status import ServerStatusController, ServerStatusRelay
from app.ui.session.controller import SessionController
from app.ui.session.resume import ResumePoint
from app.ui.settings.gpu_panel import GpuPanel
from app.ui.settings.models_panel import ModelsPanel
from app.ui.settings.server_key import ServerKeyController
from app.ui.settings.settings_dialog import SettingsDialog
from app.ui.store_tools.controller import StoreTools
from app.ui.theme import apply_font_scale, apply_theme
from app.ui.workers import Job

log = logging.getLogger(__name__)

UNSAVED_STATES = (AnswerState.DRAFT, AnswerState.EDITED, AnswerState.STOPPED)


class ClinicApplication(QObject):
    closed = Signal()

    def __init__(
        self,
        settings: Settings,
        config_file: Path,
        data_dir: Path,
        models_dir: Path,
        factories: EngineFactories | None = None,
    ) -> None:
        super().__init__()
        self.config_file = config_file
        self.server_relay = ServerStatusRelay()  # the clinic server's events, from the LLM lane to this thread
        self.hub = hub = EngineHub(
            settings, data_dir, models_dir, self.server_relay.attach_to(factories or EngineFactories())
        )
        self.window = w = MainWindow(models_dir)
        self.presenter = presenter = ErrorPresenter(w.banner, w.statusBar())
        self.patients = PatientsController(hub, presenter, w.patients, w.patient_view)
        self.dictation = DictationController(hub, presenter, w.encounter_view.dictation)
        self.redaction = RedactionController(hub, presenter, w.encounter_view.redaction)
        self.grounding = GroundingController(
            hub, presenter, w.answer, w.encounter_view.dictation, lambda: record_sources(self.encounter.data)
        )
        self.drafts = DraftsController(
            hub, presenter, w.answer, w.chat, self.redaction, w.encounter_view.dictation.transcript_text,
            self.grounding.review_before_accept,
        )
        self.read_aloud = ReadAloudController(hub, presenter)
        self.printing = NotePrinting(hub, presenter, w.answer, self.drafts.notes)
        self.store_tools = StoreTools(hub, presenter, w, self._clear_for_restore)
        self.encounter = EncounterController(
            hub, presenter, w.encounter_view, self.dictation, self.redaction, self.drafts
        )
        self.summaries = SummaryController(hub, presenter, self.patients,
                                           model_step=settings.llm.summary_model_reading)
        self.briefing = BriefingController(hub, presenter, self.patients, self.read_aloud)
        self.sources = SourceOpener(presenter, self.encounter, self.drafts.notes, w.answer, self.open_encounter)
        self.session = SessionController(hub, presenter, w, config_file, busy=self.busy)
        self.session.before_lock.append(self.dictation.finish_before_lock)
        self.server_status = ServerStatusController(hub, self.server_relay, w.status, w.answer, self.drafts)
        self.server_key = ServerKeyController(hub, presenter, config_file, lambda new: self.apply_settings(new, False))
        self.resume = ResumePoint(w, self.patients, self.encounter, self.drafts)
        self.push_to_talk = PushToTalk(w, self.dictation, lambda: self.encounter.data is not None)
        self.settings_dialog: SettingsDialog | None = None
        self._closing = False
        self._spoken: TextFeed | None = None  # the answer being read aloud while it streams
        self._wire()
        self.apply_settings(settings, save=False)
        gc_policy.settle("building the window")  # before it shows: the modules and widgets live as long as it does

    # -- wiring --------------------------------------------------------------------------------------------------
    def _wire(self) -> None:
        w, a = self.window, self.window.actions_by_key
        s, p, d = self.session, self.patients, self.drafts
        s.unlocked.connect(self._unlocked)
        s.passphrase_asked.connect(self._prepare_engines)
        s.unlocked.connect(self._prepare_engines)  # after the first run, which has no passphrase to wait for
        s.locking.connect(self._locking)
        s.unlocked.connect(self.server_key.after_unlock)  # the clinic server's key, from the store
        s.unlocked.connect(self.server_status.start)
        s.locking.connect(lambda _reason: self.server_status.stop())
        s.locked.connect(self._locked)
        s.settings_saved.connect(lambda settings: self.apply_settings(settings, save=False))
        w.locked_page.unlock_clicked.connect(lambda: s.ask_unlock())
        w.close_requested.connect(self.request_close)
        w.patients.patient_selected.connect(lambda _id: self._show_patient())  # a click, not a refresh
        p.encounter_requested.connect(self.open_encounter)
        w.patient_view.source_opened.connect(self.sources.open)
        w.patient_view.brief_requested.connect(self.briefing.brief)
        d.accepted.connect(self.summaries.note_accepted)
        d.notes.unaccepted.connect(self.summaries.note_unaccepted)
        d.generating_changed.connect(self.summaries.llm_busy)
        w.encounter_view.back_clicked.connect(self.back_to_patient)
        self.redaction.skip_review_changed.connect(self._skip_review)
        w.answer.read_aloud_clicked.connect(lambda: self.read_aloud.toggle(w.answer.text()))
        self.read_aloud.reading_changed.connect(w.answer.set_reading)
        self.dictation.busy_changed.connect(lambda on: on and self.drafts.prepare())
        self.dictation.likely_text_changed.connect(self.drafts.preread)
        d.answer_started.connect(self._follow_answer)
        d.streamed.connect(self._speak_piece)
        d.answer_finished.connect(lambda _answer: self._answer_spoken(complete=True))
        d.answer_stopped.connect(lambda _task: self._answer_spoken(complete=False))
        d.job_failed.connect(lambda: self._answer_spoken(complete=False))
        d.model_loading.connect(self._model_loading)
        self.store_tools.restore_ended.connect(self._after_restore)
        handlers: dict[str, Callable[[], object]] = {
            "new_patient": p.open_new_patient_dialog,
            "settings": self.open_settings,
            "lock": s.lock,
            "change_passphrase": s.change_passphrase,
            "next_patient": p.next_patient,
            "previous_patient": p.previous_patient,
            "new_encounter": lambda: p.current_patient is not None and p.ask_new_encounter(p.current_patient),
            "back_to_patient": self.back_to_patient,
            "record": self.dictation.toggle,
            "push_to_talk": self.dictation.toggle,
            "open_audio": self.dictation.choose_file,
            "review": self.review,
            "draft_soap": lambda: d.draft("soap"),
            "summarise": lambda: d.draft("summary"),
            "referral": lambda: d.draft("referral"),
            "ask": lambda: w.chat.input.setFocus(),
            "stop": self.stop_all,
            "accept_draft": d.accept,
            "undo_accept": d.undo_accept,
            "read_aloud": lambda: self.read_aloud.toggle(w.answer.text()),
            "copy_draft": d.copy,
            "export_draft": d.choose_export,
            "brief_me": self.briefing.brief,
            "print_draft": self.printing.choose_printer,
            "export_pdf": self.printing.choose_pdf,
            "backup": self.store_tools.open_backup,
            "restore": self.store_tools.open_restore,
        }
        for key, handler in handlers.items():
            a[key].triggered.connect(lambda _checked=False, h=handler: h())
        for action in a.values():  # a shortcut is matched before its key press reaches the watched window
            action.triggered.connect(lambda _checked=False: s.note_activity())

    def busy(self) -> bool:
        """Work that counts as activity: no auto-lock while the doctor dictates, reads or waits for an answer."""
        return (self.dictation.busy or self.drafts.busy or self.read_aloud.busy or self.store_tools.busy
                or self.briefing.busy)

    # -- starting ------------------------------------------------------------------------------------------------
    def start(self) -> Job:
        self.window.show()
        return self.session.start()

    def _unlocked(self) -> None:
        self.window.show_locked(False)
        self.resume.restore()  # where the doctor was before locking (or the welcome page), loaded again
        self.patients.search(self.window.patients.search.text())
        self.window.patients.search.setFocus()

    def _locked(self, reason: str) -> None:
        """The store is locked (at start too, where the page said "Starting…"): the page behind the dialog says so."""
        if not self.session.is_unlocked:
            self.window.show_locked(True, reason)

    def _prepare_engines(self) -> None:
        if self.hub.settings.ui.prepare_engines_early:
            self.hub.preload()

    def _locking(self, reason: str) -> None:
        """Hide every piece of patient data now; the store locks right after (its queued saves run first)."""
        self.resume.remember()  # ids only: the place to return to after unlocking
        self.read_aloud.stop()
        self.grounding.close()
        self.encounter.close()
        self.briefing.clear()
        self.summaries.clear()
        self.patients.clear()
        if self.settings_dialog is not None:
            self.settings_dialog.reject()
        self.store_tools.close()
        self.presenter.clear()
        self.window.show_welcome()
        self.window.show_locked(True, reason)

    # -- navigation ----------------------------------------------------------------------------------------------
    def _leave_encounter(self, then: Callable[[], None]) -> None:
        """Leave only after a running dictation has finished its last words (nothing the doctor said is lost)."""
        if self.encounter.data is None:
            then()
            return
        job = self.dictation.finish_before_lock()
        if job is None or job.done:
            self.encounter.close()
            then()
        else:
            job.ended.connect(lambda: self._close_encounter_then(then))

    def _close_encounter_then(self, then: Callable[[], None]) -> None:
        self.encounter.close()
        then()

    def _show_patient(self) -> None:
        self._leave_encounter(self.window.show_patient_page)

    def open_encounter(self, encounter_id: int) -> None:
        def go() -> None:
            self.encounter.open(encounter_id)
            self.window.show_encounter_page()

        if self.encounter.data is not None and self.encounter.encounter_id != encounter_id:
            self._leave_encounter(go)
        else:
            go()

    def back_to_patient(self) -> None:
        def go() -> None:
            self.window.show_patient_page()
            self.patients.refresh_current()

        self._leave_encounter(go)

    def _clear_for_restore(self, then: Callable[[], None]) -> None:
        """Before a restore replaces the records: stop what runs, save and close the encounter, empty the views."""
        self.stop_all()

        def cleared() -> None:
            self.grounding.close()
            self.briefing.clear()
            self.summaries.clear()  # no facts saved against a note version of the records being replaced
            self.patients.clear()
            self.presenter.clear()
            self.window.show_welcome()
            then()

        self._leave_encounter(cleared)

    def _after_restore(self, unlocked: bool) -> None:
        """The restore is over: list the store's patients (the backup's, or the same ones if nothing changed)."""
        if not self.session.is_unlocked:
            return
        if not unlocked:  # a failure half-way left the store locked: its passphrase is asked again
            self.session.lock("The store was locked while the backup was restored. Enter the passphrase to continue.")
            return
        self.patients.search(self.window.patients.search.text())

    def review(self) -> None:
        if self.encounter.data is not None:
            self.redaction.review(self.encounter.transcript_text())
            self.window.encounter_view.show_review()

    def stop_all(self) -> None:
        self.dictation.stop()
        self.drafts.stop()
        self.read_aloud.stop()

    def _model_loading(self, job: Job) -> None:
        progress = self.window.status.progress
        progress.track(job, "Loading the language model…")
        job.yielded.connect(lambda step: progress.set_fraction(step.fraction, step.message))
        job.finished.connect(lambda where: self.window.status.show_loaded(*where) if where else None)
        job.ended.connect(self._track_answer)

    def _track_answer(self) -> None:
        """After loading, the status bar follows the answer being written, with Cancel (= Stop)."""
        if self.drafts.job is not None:
            self.window.status.progress.track(self.drafts.job, "Writing the answer…")

    # -- settings ------------------------------------------------------------------------------------------------
    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.hub.settings, self.config_file, self.window)
        dialog.add_panel("storage", ModelsPanel(self.hub, self.presenter))
        dialog.add_panel("gpu", GpuPanel(self.hub, self.presenter, dialog.collect))
        dialog.saved.connect(lambda settings: self.apply_settings(settings, save=False))
        dialog.server_key_changed.connect(self.server_key.store)  # to the store, never the settings file
        dialog.finished.connect(self._settings_closed)
        self.settings_dialog = dialog
        dialog.open()
        return dialog

    def _settings_closed(self) -> None:
        if self.settings_dialog is not None:
            self.settings_dialog.deleteLater()
            self.settings_dialog = None

    def apply_settings(self, settings: Settings, save: bool = True) -> None:
        if save:
            try:
                save_settings(settings, self.config_file)
            except OSError as exc:
                log.warning("settings could not be saved: %s", type(exc).__name__)
        rebuilt = self.hub.apply_settings(settings)
        if rebuilt:
            log.info("engines to rebuild after a settings change: %s", ", ".join(rebuilt))
        self.session.apply_settings(settings)
        self.window.status.show_settings(settings)
        self.server_status.settings_changed(settings)
        self.summaries.model_step = settings.llm.summary_model_reading
        apply_theme(settings.ui.theme)
        apply_font_scale(settings.ui.font_scale)

    # -- answers read aloud as they stream (tts.read_answers_aloud) ---------------------------------------------
    def _follow_answer(self, _task: str) -> None:
        self._spoken = self.read_aloud.read_stream() if self.hub.settings.tts.read_answers_aloud else None

    def _speak_piece(self, text: str) -> None:
        if self._spoken is not None:
            self._spoken.push(text)

    def _answer_spoken(self, complete: bool) -> None:
        """The answer is complete (the voice finishes it), or stopped or failed (the voice stops too)."""
        spoken, self._spoken = self._spoken, None
        if spoken is None:
            return
        if complete:
            spoken.close()
        elif self.read_aloud.feed is spoken:
            self.read_aloud.stop()

    def _skip_review(self, skip: bool) -> None:
        redaction = self.hub.settings.redaction.model_copy(update={"review_before_sending": not skip})
        self.apply_settings(self.hub.settings.model_copy(update={"redaction": redaction}))

    # -- closing -------------------------------------------------------------------------------------------------
    def request_close(self) -> None:
        """Ask before closing with an unaccepted draft (if the settings say so), then shut down."""
        unsaved = self.window.answer.state in UNSAVED_STATES and self.session.is_unlocked
        if unsaved and self.hub.settings.ui.confirm_on_close_with_draft:
            box = QMessageBox(
                QMessageBox.Icon.Question, "Unaccepted draft",
                "The draft shown has not been accepted. Close anyway? (It stays saved as a draft.)",
                QMessageBox.StandardButton.Close | QMessageBox.StandardButton.Cancel, self.window,
            )
            box.setObjectName("confirmClose")
            box.finished.connect(box.deleteLater)
            box.button(QMessageBox.StandardButton.Close).clicked.connect(self.shutdown)
            box.open()
            return
        self.shutdown()

    def shutdown(self) -> None:
        """Save, stop every job, close every engine on its own thread, then close the window."""
        if self._closing:
            return
        self._closing = True
        self.encounter.flush()
        self.dictation.cancel()
        self.drafts.stop()
        self.grounding.shutdown()
        self.read_aloud.stop()
        self.session.shutdown()
        self.push_to_talk.shutdown()
        self.server_status.shutdown()
        if self.settings_dialog is not None:
            self.settings_dialog.reject()
        self.store_tools.close()
        self.window.status.progress.cancel()
        self.hub.shutdown()
        self.window.close_now()
        log.info("application closed")
        self.closed.emit()
