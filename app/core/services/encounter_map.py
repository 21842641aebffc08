"""An encounter's pseudonym map: the saved one, or a new one that already knows the patient.

A new map is seeded with the patient's own record (name, MRN, date of birth), so those are redacted wherever they
appear, even misheard ("treadgol" for "Tredgold"), before the doctor or the model sees a single placeholder. The
pipeline and the window both start from here, so both redact the same way.
"""

from __future__ import annotations

from datetime import date

from app.core.redact.known import seed_patient
from app.core.redact.pseudonyms import PseudonymMap
from app.core.storage import Patient, Repositories


def encounter_pseudonyms(repos: Repositories, encounter_id: int, *, date_offsets: bool = True) -> PseudonymMap:
    """Run on the store's thread (it reads the encounter, its saved map and its patient)."""
    saved = repos.redaction_maps.get(encounter_id)
    if saved is not None:
        return PseudonymMap.from_json(saved.map_json)
    encounter = repos.encounters.get(encounter_id)
    return patient_pseudonyms(repos.patients.get(encounter.patient_id), encounter.started_at.date(),
                              date_offsets=date_offsets)


def patient_pseudonyms(patient: Patient, reference: date, *, date_offsets: bool = True) -> PseudonymMap:
    """A new map that knows the patient (name, MRN, date of birth), with dates said relative to `reference`."""
    pseudonyms = PseudonymMap(reference, date_offsets)
    seed_patient(
        pseudonyms,
        family_name=patient.family_name,
        given_names=patient.given_names,
        mrn=patient.mrn,
        date_of_birth=patient.date_of_birth,
    )
    return pseudonyms
