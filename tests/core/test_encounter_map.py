"""A new encounter's pseudonym map already knows its patient; a saved map is reused as it is."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from app.core.services.encounter_map import encounter_pseudonyms
from app.core.storage import Store


def test_new_map_is_seeded_with_the_patient_then_the_saved_map_wins(tmp_path: Path) -> None:
    with Store(tmp_path, kdf_iterations=4000) as store:
        store.create("encounter map test passphrase 71!")
        repos = store.repositories()
        patient = repos.patients.add("Tredgold", "Oswin", mrn="447291", date_of_birth=date(1958, 3, 4))
        encounter = repos.encounters.add(patient.id)
        seeded = encounter_pseudonyms(repos, encounter.id)
        surfaces = {surface for _entry, surface in seeded.known_surfaces()}
        assert {"Oswin Tredgold", "447291"} <= surfaces
        assert seeded.reference_date == encounter.started_at.date()
        seeded.entries["PATIENT_1"].surfaces.append("Ossie")
        repos.redaction_maps.save(encounter.id, seeded.to_json())
        again = encounter_pseudonyms(repos, encounter.id)
        assert "Ossie" in again.entries["PATIENT_1"].surfaces
