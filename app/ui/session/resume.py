"""Where the doctor was when the app locked, and going back there after unlocking.

While locked only ids are kept (the patient's, the open encounter's, the note shown), never what the screen
showed. After unlocking, the patient, the encounter and the note are loaded again from the store by the
controllers' own jobs, as if the doctor had clicked them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from app.ui.assistant.drafts_controller import DraftsController
    from app.ui.encounter.encounter_controller import EncounterController, EncounterData
    from app.ui.main_window import MainWindow
    from app.ui.patients.controller import PatientsController


@dataclass(frozen=True)
class Place:
    patient_id: int | None = None
    encounter_id: int | None = None
    note_id: int | None = None


class ResumePoint(QObject):
    returned = Signal(object)  # the Place shown again, once everything in it has loaded

    def __init__(
        self,
        window: MainWindow,
        patients: PatientsController,
        encounter: EncounterController,
        drafts: DraftsController,
    ) -> None:
        super().__init__()
        self.window = window
        self.patients = patients
        self.encounter = encounter
        self.drafts = drafts
        self.place = Place()
        self._returning: Place | None = None  # being loaded again: a lock now must not forget it
        encounter.opened.connect(self._encounter_opened)

    def remember(self) -> None:
        """Called as the app locks, before the views are cleared."""
        if self._returning is not None:
            self.place, self._returning = self._returning, None
            return
        page = self.window.center.currentWidget()
        data = self.encounter.data
        if page is self.window.encounter_view and data is not None:
            current = self.drafts.current
            self.place = Place(data.patient.id, data.encounter.id, current.note_id if current is not None else None)
        elif page is self.window.patient_view and self.patients.current_patient is not None:
            self.place = Place(self.patients.current_patient)
        else:
            self.place = Place()

    def restore(self) -> None:
        """Called once unlocked: go back to the remembered place (or the welcome page), then forget it."""
        place, self.place = self.place, Place()
        if place.patient_id is None:
            self.window.show_welcome()
            return
        self._returning = place
        shown = self.patients.show_patient(place.patient_id)
        if place.encounter_id is None:
            shown.finished.connect(lambda _summary: self._patient_shown(place))
        else:
            opening = self.encounter.open(place.encounter_id)
            self.window.show_encounter_page()
            opening.failed.connect(lambda _exc: self._gone(place))
        shown.failed.connect(lambda _exc: self._gone(place))

    def _patient_shown(self, place: Place) -> None:
        if self._returning is place:
            self.window.show_patient_page()
            self._arrived(place)

    def _encounter_opened(self, data: EncounterData) -> None:
        place = self._returning
        if place is None or data.encounter.id != place.encounter_id:
            return
        current = self.drafts.current
        if place.note_id is None or (current is not None and current.note_id == place.note_id):
            self._arrived(place)
            return
        job = self.drafts.show_note(place.note_id)  # another note than the newest was the one shown
        job.finished.connect(lambda _note: self._arrived(place))
        job.failed.connect(lambda _exc: self._arrived(place))

    def _gone(self, place: Place) -> None:
        """The record is no longer there (a backup was restored meanwhile; the banner says why): show what is left
        of the place, the patient (loaded first, on the same lane) or the welcome page."""
        if self._returning is place:
            self._returning = None
            if self.patients.current_patient == place.patient_id:
                self.window.show_patient_page()
            else:
                self.window.show_welcome()

    def _arrived(self, place: Place) -> None:
        if self._returning is place:
            self._returning = None
            self.returned.emit(place)
