"""Patients: search, show one patient, add a patient or an encounter. All store work runs on the store lane.

Showing a patient is superseded by the next click (slot "patient-view"), so clicking quickly through a long list
shows the last patient clicked, never a late answer for an earlier one. `shown` reports how long each took, from
the click to the view being filled (the issue asks for <= 100 ms with 10,000 patients). The view is filled by one
store job: the audited overview (demographics, encounters) and the summary of the accepted notes (one query and a
pure merge, no model). `refresh_summary` reads the summary alone again, after a note's facts changed.
"""

from __future__ import annotations

import logging
import time
from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from app.core.services.summaries import patient_summary
from app.core.storage.records import Encounter, Patient, PatientOverview
from app.core.summary.items import PatientSummary
from app.ui.encounter.reason_dialog import ReasonDialog
from app.ui.engines import EngineHub
from app.ui.errors import ErrorPresenter
from app.ui.patients.new_patient_dialog import NewPatient, NewPatientDialog
from app.ui.patients.patient_list import PatientListPanel
from app.ui.patients.patient_view import PatientView
from app.ui.workers import Job, JobToken

if TYPE_CHECKING:
    from app.core.storage.store import Store

log = logging.getLogger(__name__)

SEARCH_LIMIT = 200


class PatientsController(QObject):
    searched = Signal(int)  # number of patients listed
    shown = Signal(int, float)  # patient id, milliseconds from the request to the view being filled
    patient_added = Signal(object)  # Patient
    encounter_requested = Signal(int)  # open this encounter
    summary_shown = Signal(object)  # PatientSummary: the summary of the patient shown, just put on screen

    def __init__(
        self, hub: EngineHub, presenter: ErrorPresenter, panel: PatientListPanel, view: PatientView
    ) -> None:
        super().__init__()
        self.hub = hub
        self.presenter = presenter
        self.panel = panel
        self.view = view
        self.current_patient: int | None = None
        self.dialog: NewPatientDialog | None = None
        self.reason_dialog: ReasonDialog | None = None
        self._showing: list[Job] = []  # jobs whose results fill the screen: cancelled when the app locks
        panel.search_changed.connect(self.search)
        panel.patient_selected.connect(self.show_patient)
        panel.new_patient_requested.connect(self.open_new_patient_dialog)
        view.encounter_opened.connect(self.encounter_requested)
        view.new_encounter_requested.connect(self.ask_new_encounter)

    # -- search --------------------------------------------------------------------------------------------------
    def search(self, text: str) -> Job:
        query = text.strip()

        def work(store: Store, _token: JobToken) -> list[Patient]:
            patients = store.repositories().patients
            if not query:
                return list(patients.search("", limit=SEARCH_LIMIT))
            return list(patients.search(query, limit=SEARCH_LIMIT))

        job = self._track(self.hub.run("store", work, "searching patients", slot="patient-search"))
        job.finished.connect(self._show_results)
        job.failed.connect(lambda exc: self.presenter.present(exc, "searching for patients"))
        return job

    def _show_results(self, patients: list[Patient]) -> None:
        if patients:
            note = ""
        elif self.panel.search.text().strip():
            note = "No patient matches. Check the spelling, or add one with New patient."
        else:  # an empty search lists everyone: there is no one yet
            note = "No patients yet. Add one with New patient (Ctrl+N)."
        self.panel.show_patients(patients, note)
        if self.current_patient is not None:
            selection = self.panel.view.selectionModel()
            selection.blockSignals(True)  # re-marking the patient shown is not a new click
            self.panel.select_patient(self.current_patient)
            selection.blockSignals(False)
        self.searched.emit(len(patients))

    # -- one patient ---------------------------------------------------------------------------------------------
    def show_patient(self, patient_id: int) -> Job:
        started = time.perf_counter()
        today = date.today()

        def work(store: Store, _token: JobToken) -> tuple[PatientOverview, PatientSummary]:
            repos = store.repositories()
            return repos.patients.overview(patient_id), patient_summary(repos, patient_id, today)

        job = self._track(self.hub.run("store", work, "opening a patient", slot="patient-view"))

        def fill(result: tuple[PatientOverview, PatientSummary]) -> None:
            overview, summary = result
            self.current_patient = overview.patient.id
            self.view.show_overview(overview, today)
            self._show_summary(summary, today)
            elapsed_ms = (time.perf_counter() - started) * 1000.0
            log.debug("patient %d shown in %.1f ms", patient_id, elapsed_ms)
            self.shown.emit(patient_id, elapsed_ms)

        job.finished.connect(fill)
        job.failed.connect(lambda exc: self.presenter.present(exc, "opening the patient"))
        return job

    def refresh_current(self) -> None:
        if self.current_patient is not None:
            self.show_patient(self.current_patient)

    def refresh_summary(self, patient_id: int | None = None) -> Job | None:
        """Read the summary of the patient shown again (only if it is `patient_id`, when given)."""
        shown = self.current_patient
        if shown is None or (patient_id is not None and patient_id != shown):
            return None
        today = date.today()
        job = self._track(self.hub.run(
            "store", lambda store, _t: patient_summary(store.repositories(), shown, today), "updating the summary",
            slot="patient-summary",
        ))
        job.finished.connect(lambda summary: self._show_summary(summary, today))
        job.failed.connect(lambda exc: self.presenter.present(exc, "updating the patient summary"))
        return job

    def _show_summary(self, summary: PatientSummary, today: date) -> None:
        if summary.patient_id != self.current_patient:
            return  # another patient was opened meanwhile
        self.view.show_summary(summary, today)
        self.summary_shown.emit(summary)

    def next_patient(self) -> None:
        self.panel.move_selection(1)

    def previous_patient(self) -> None:
        self.panel.move_selection(-1)

    # -- adding --------------------------------------------------------------------------------------------------
    def open_new_patient_dialog(self) -> NewPatientDialog:
        dialog = NewPatientDialog(self.panel.window())
        dialog.submitted.connect(lambda data: self.add_patient(data, dialog))
        dialog.finished.connect(self._forget_dialog)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _forget_dialog(self) -> None:
        if self.dialog is not None:
            self.dialog.deleteLater()
            self.dialog = None

    def add_patient(self, data: NewPatient, dialog: NewPatientDialog | None = None) -> Job:
        def work(store: Store, _token: JobToken) -> Patient:
            return store.repositories().patients.add(
                data.family_name, data.given_names, date_of_birth=data.date_of_birth, mrn=data.mrn, sex=data.sex
            )

        job = self.hub.run("store", work, "adding a patient")

        def added(patient: Patient) -> None:
            if dialog is not None:
                dialog.accept()
            self.patient_added.emit(patient)
            self.panel.show_patients([patient, *[p for p in self._listed() if p.id != patient.id]])
            self.panel.select_patient(patient.id)

        def failed(exc: object) -> None:
            problem = self.presenter.present(exc, "adding the patient")
            if dialog is not None and problem is not None:
                dialog.show_problem(f"{problem.message} {problem.hint}".strip())

        job.finished.connect(added)
        job.failed.connect(failed)
        return job

    def _listed(self) -> list[Patient]:
        model = self.panel.model
        return [p for row in range(model.rowCount()) if (p := model.patient_at(row)) is not None]

    def ask_new_encounter(self, patient_id: int) -> ReasonDialog:
        """New encounter: ask its reason first (optional), then start it."""
        if self.reason_dialog is not None:
            return self.reason_dialog
        dialog = ReasonDialog(self.panel.window(), self.view.title.text(), new=True)
        dialog.submitted.connect(lambda reason: self.new_encounter(patient_id, reason))
        dialog.finished.connect(self._forget_reason_dialog)
        self.reason_dialog = dialog
        dialog.open()
        return dialog

    def _forget_reason_dialog(self) -> None:
        if self.reason_dialog is not None:
            self.reason_dialog.deleteLater()
            self.reason_dialog = None

    def new_encounter(self, patient_id: int, reason: str = "") -> Job:
        job = self.hub.run(
            "store", lambda store, _t: store.repositories().encounters.add(patient_id, reason=reason),
            "starting an encounter",
        )

        def started(encounter: Encounter) -> None:
            self.refresh_current()
            self.encounter_requested.emit(encounter.id)

        job.finished.connect(started)
        job.failed.connect(lambda exc: self.presenter.present(exc, "starting the encounter"))
        return job

    # -- locking -------------------------------------------------------------------------------------------------
    def _track(self, job: Job) -> Job:
        self._showing.append(job)
        job.ended.connect(lambda: self._showing.remove(job) if job in self._showing else None)
        return job

    def clear(self) -> None:
        """Forget everything shown (the app is locking): answers still on their way are dropped too."""
        for job in list(self._showing):
            job.cancel()
        self.current_patient = None
        for dialog in (self.dialog, self.reason_dialog):
            if dialog is not None:
                dialog.reject()
        self.panel.clear()
        self.view.clear()
