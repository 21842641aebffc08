"""Opening an encounter and keeping its transcript saved.

Opening loads the encounter, its transcript, notes, conversation and redaction map in one store job (superseded
by the next click). Each finished dictation is stored as a transcript row holding what the recogniser heard, with
the whole edited text beside it; the doctor's typing is saved shortly after it pauses, and at once before the
encounter is left, the app locks or closes (the store lane runs jobs in order, so the save lands first).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from app.core.storage.records import Encounter, Message, Note, Patient, Transcript
from app.ui.assistant.drafts_controller import DraftsController
from app.ui.encounter.dictation_controller import DictationController
from app.ui.encounter.encounter_view import EncounterView
from app.ui.encounter.reason_dialog import ReasonDialog
from app.ui.encounter.redaction_controller import RedactionController
from app.ui.engines import EngineHub
from app.ui.errors import ErrorPresenter
from app.ui.workers import Job, JobToken

if TYPE_CHECKING:
    from app.core.asr.live import LiveResult
    from app.core.storage.store import Store

log = logging.getLogger(__name__)

SAVE_DELAY_MS = 800


@dataclass(frozen=True)
class EncounterData:
    encounter: Encounter
    patient: Patient
    transcripts: list[Transcript]
    notes: list[Note]
    messages: list[Message]
    map_json: str | None


def _load(store: Store, encounter_id: int, date_offsets: bool) -> EncounterData:
    from app.core.services.encounter_map import encounter_pseudonyms

    repos = store.repositories()
    encounter = repos.encounters.get(encounter_id)
    return EncounterData(
        encounter,
        repos.patients.get(encounter.patient_id),
        repos.transcripts.for_encounter(encounter_id),
        repos.notes.for_encounter(encounter_id),
        repos.messages.for_encounter(encounter_id),
        # The saved map, or a new one that already knows the patient's name, MRN and date of birth.
        encounter_pseudonyms(repos, encounter_id, date_offsets=date_offsets).to_json(),
    )


class EncounterController(QObject):
    opened = Signal(object)  # EncounterData
    closed = Signal()
    transcript_saved = Signal(int)  # transcript id
    reason_saved = Signal(object)  # Encounter

    def __init__(
        self,
        hub: EngineHub,
        presenter: ErrorPresenter,
        view: EncounterView,
        dictation: DictationController,
        redaction: RedactionController,
        drafts: DraftsController,
    ) -> None:
        super().__init__()
        self.hub = hub
        self.presenter = presenter
        self.view = view
        self.dictation = dictation
        self.redaction = redaction
        self.drafts = drafts
        self.data: EncounterData | None = None
        self.transcript_id: int | None = None
        self._dirty = False
        self._opening: Job | None = None
        self.reason_dialog: ReasonDialog | None = None
        self._save_timer = QTimer(self)
        self._save_timer.setObjectName("transcriptSave")
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self.save_transcript)
        view.dictation.transcript_edited.connect(self._edited)
        dictation.dictated.connect(self._dictated)
        redaction.review_requested.connect(view.show_review)
        view.action_clicked.connect(drafts.draft)
        view.reason_clicked.connect(self.edit_reason)
        drafts.generating_changed.connect(view.set_generating)

    @property
    def encounter_id(self) -> int | None:
        return self.data.encounter.id if self.data else None

    def open(self, encounter_id: int) -> Job:
        self.flush()
        offsets = self.hub.settings.redaction.date_offsets  # read here: the job runs on the store's thread
        job = self.hub.run(
            "store",
            lambda store, _t: _load(store, encounter_id, offsets),
            "opening an encounter",
            slot="encounter-open",
        )
        job.finished.connect(self._show)
        job.failed.connect(lambda exc: self.presenter.present(exc, "opening the encounter"))
        self._opening = job
        return job

    def _show(self, data: EncounterData) -> None:
        self.data = data
        latest = data.transcripts[-1] if data.transcripts else None
        self.transcript_id = latest.id if latest else None
        enc = data.encounter
        self._show_header()
        self.view.dictation.set_transcript(latest.text if latest else "")
        self.view.show_dictation()
        self.redaction.open_encounter(enc.id, enc.started_at.date(), data.map_json)
        self.drafts.open_encounter(enc.id, data.notes, data.messages)
        self.dictation.set_enabled(True)
        self._dirty = False
        log.info("encounter %d opened", enc.id)
        self.opened.emit(data)

    def _show_header(self) -> None:
        if self.data is not None:
            enc = self.data.encounter
            when = enc.started_at.astimezone().strftime("%Y-%m-%d %H:%M")
            self.view.show_header(self.data.patient.display_name, when, enc.reason)

    def transcript_text(self) -> str:
        return self.view.dictation.transcript_text()

    # -- the reason ----------------------------------------------------------------------------------------------
    def edit_reason(self) -> ReasonDialog | None:
        if self.data is None:
            return None
        if self.reason_dialog is None:
            data = self.data
            dialog = ReasonDialog(self.view.window(), data.patient.display_name, data.encounter.reason, new=False)
            dialog.submitted.connect(lambda reason: self.save_reason(data.encounter.id, reason))
            dialog.finished.connect(self._forget_reason_dialog)
            self.reason_dialog = dialog
            dialog.open()
        return self.reason_dialog

    def _forget_reason_dialog(self) -> None:
        if self.reason_dialog is not None:
            self.reason_dialog.deleteLater()
            self.reason_dialog = None

    def save_reason(self, encounter_id: int, reason: str) -> Job:
        job = self.hub.run(
            "store", lambda store, _t: store.repositories().encounters.set_reason(encounter_id, reason),
            "saving the reason for the encounter",
        )

        def saved(encounter: Encounter) -> None:
            if self.data is not None and self.data.encounter.id == encounter.id:
                self.data = replace(self.data, encounter=encounter)
                self._show_header()
            self.reason_saved.emit(encounter)

        job.finished.connect(saved)
        job.failed.connect(lambda exc: self.presenter.present(exc, "saving the reason for the encounter"))
        return job

    # -- saving --------------------------------------------------------------------------------------------------
    def _edited(self) -> None:
        if self.data is None:
            return
        self._dirty = True
        self._save_timer.start()

    def _dictated(self, result: LiveResult) -> Job | None:
        if self.data is None:
            return None
        self._save_timer.stop()
        self._dirty = False
        encounter_id, full_text = self.data.encounter.id, self.transcript_text()

        def work(store: Store, _token: JobToken) -> Transcript:
            repos = store.repositories()
            with repos.db.transaction("save the dictation"):
                row = repos.transcripts.add(
                    encounter_id, result.text, language=result.language, duration_s=result.duration_s
                )
                return repos.transcripts.set_edited(row.id, full_text)

        return self._save_job(work)

    def save_transcript(self) -> Job | None:
        """Save the edited text now (the debounce timer calls this; so do leave, lock and close)."""
        self._save_timer.stop()
        if self.data is None or not self._dirty:
            return None
        self._dirty = False
        encounter_id, transcript_id, text = self.data.encounter.id, self.transcript_id, self.transcript_text()

        def work(store: Store, _token: JobToken) -> Transcript:
            repos = store.repositories()
            with repos.db.transaction("save the transcript"):
                row_id = transcript_id
                if row_id is None:  # typed, never dictated: an empty recognition with the doctor's text
                    row_id = repos.transcripts.add(encounter_id, "").id
                return repos.transcripts.set_edited(row_id, text)

        return self._save_job(work)

    def _save_job(self, work: Callable[[Store, JobToken], Transcript]) -> Job:
        job = self.hub.run("store", work, "saving the transcript")
        opened = self.encounter_id

        def saved(row: Transcript) -> None:
            if opened is not None and self.encounter_id == opened:  # still this encounter (its reason may change)
                self.transcript_id = row.id
            self.transcript_saved.emit(row.id)

        job.finished.connect(saved)
        job.failed.connect(lambda exc: self.presenter.present(exc, "saving the transcript"))
        return job

    def flush(self) -> Job | None:
        """Save what the doctor typed and has not been saved yet: the draft's edits, then the transcript."""
        self.drafts.notes.save_edit()
        return self.save_transcript()

    # -- leaving -------------------------------------------------------------------------------------------------
    def close(self) -> None:
        """Leave the encounter (back to the patient, lock, quit): save, stop what runs, forget what is shown."""
        self.flush()
        if self._opening is not None:
            self._opening.cancel()  # an encounter still loading must not appear after leaving (or locking)
            self._opening = None
        if self.reason_dialog is not None:
            self.reason_dialog.reject()
        self.dictation.cancel()
        self.drafts.clear()
        self.redaction.clear()
        self.dictation.set_enabled(False)
        self.view.clear()
        self.data = None
        self.transcript_id = None
        self.closed.emit()
