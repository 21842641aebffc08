"""Patients and their encounters: the only SQL that touches these tables."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from app.core.errors import InputError, StorageError
from app.core.storage.audit import AuditAction, AuditLog
from app.core.storage.connection import Database
from app.core.storage.records import Encounter, EncounterOverview, EncounterStatus, Patient, PatientOverview
from app.core.storage.schema import (
    from_db_date,
    from_db_time,
    identifier_key,
    search_key,
    to_db_date,
    to_db_time,
    utc_now,
)

_PATIENT_COLUMNS = "id, family_name, given_names, date_of_birth, mrn, sex, created_at, updated_at"
_ENCOUNTER_COLUMNS = "id, patient_id, started_at, reason, status, created_at, updated_at"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class RecordNotFound(StorageError):
    def __init__(self, record_type: str, record_id: int) -> None:
        super().__init__(f"{record_type.capitalize()} {record_id} is not in the store", "Check the number")


def _mrn_key(mrn: str | None) -> str | None:
    return identifier_key(_as_text(mrn)) if mrn else None


def _as_text(value: str) -> str:
    """For lookups only (nothing stored): a lone surrogate becomes U+FFFD, which matches nothing, instead of failing."""
    return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in value)


def _check_text(fields: dict[str, str | None], identifiers: dict[str, str] | None = None) -> None:
    """Lone surrogates (bytes that were not UTF-8, carried through a file name or a paste) cannot be stored: say which
    field, never its content. Everything else (accents, right-to-left text, combining marks, NUL) is stored as is."""
    pairs: list[tuple[str, str | None]] = [*fields.items()]
    for kind, identifier in (identifiers or {}).items():
        pairs += [("identifier kind", kind), ("identifier", identifier)]
    for what, value in pairs:
        if value and any("\ud800" <= c <= "\udfff" for c in value):
            raise InputError(
                f"The {what} holds characters that are not valid text (bytes that were not UTF-8)",
                "Retype it rather than pasting it from that source",
            )


def _like_escape(token: str) -> str:
    return token.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class PatientRepository:
    def __init__(self, db: Database, audit: AuditLog, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._audit = audit
        self._clock = clock

    def add(
        self,
        family_name: str,
        given_names: str = "",
        *,
        date_of_birth: date | None = None,
        mrn: str | None = None,
        sex: str = "",
        identifiers: dict[str, str] | None = None,
    ) -> Patient:
        if not family_name.strip():
            raise InputError("A patient needs a family name", "Enter the family name")
        _check_text({"family name": family_name, "given names": given_names, "MRN": mrn, "sex": sex}, identifiers)
        mrn = mrn.strip() if mrn and mrn.strip() else None
        now = to_db_time(self._clock())
        with self._db.transaction("add the patient"):
            self._ensure_mrn_free(mrn, None)
            cursor = self._db.execute(
                "INSERT INTO patients(family_name, given_names, date_of_birth, mrn, sex, search_name, search_mrn, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (family_name.strip(), given_names.strip(), to_db_date(date_of_birth), mrn, sex,
                 search_key(f"{family_name} {given_names}"), _mrn_key(mrn), now, now),
                "add the patient",
            )
            patient_id = int(cursor.lastrowid)
            self._write_identifiers(patient_id, identifiers or {})
            self._audit.record(AuditAction.CREATE, "patient", patient_id)
        return self.get(patient_id)

    def update(self, patient: Patient) -> Patient:
        """Save edited demographics (make the edited copy with `dataclasses.replace`)."""
        if not patient.family_name.strip():
            raise InputError("A patient needs a family name", "Enter the family name")
        _check_text(
            {"family name": patient.family_name, "given names": patient.given_names, "MRN": patient.mrn,
             "sex": patient.sex},
            patient.identifiers,
        )
        mrn = patient.mrn.strip() if patient.mrn and patient.mrn.strip() else None
        with self._db.transaction("save the patient"):
            self.get(patient.id)
            self._ensure_mrn_free(mrn, patient.id)
            self._db.execute(
                "UPDATE patients SET family_name = ?, given_names = ?, date_of_birth = ?, mrn = ?, sex = ?, "
                "search_name = ?, search_mrn = ?, updated_at = ? WHERE id = ?",
                (patient.family_name.strip(), patient.given_names.strip(), to_db_date(patient.date_of_birth), mrn,
                 patient.sex, search_key(f"{patient.family_name} {patient.given_names}"), _mrn_key(mrn),
                 to_db_time(self._clock()), patient.id),
                "save the patient",
            )
            self._db.execute("DELETE FROM patient_identifiers WHERE patient_id = ?", (patient.id,))
            self._write_identifiers(patient.id, patient.identifiers)
            self._audit.record(AuditAction.UPDATE, "patient", patient.id)
        return self.get(patient.id)

    def get(self, patient_id: int) -> Patient:
        row = self._db.one(f"SELECT {_PATIENT_COLUMNS} FROM patients WHERE id = ?", (patient_id,))
        if row is None:
            raise RecordNotFound("patient", patient_id)
        return self._with_identifiers([row])[0]

    def find_by_mrn(self, mrn: str) -> Patient | None:
        row = self._db.one(f"SELECT {_PATIENT_COLUMNS} FROM patients WHERE search_mrn = ?", (_mrn_key(mrn),))
        return self._with_identifiers([row])[0] if row else None

    def count(self) -> int:
        return int(self._db.scalar("SELECT count(*) FROM patients"))

    def names(self) -> list[str]:
        """Every patient's given and family names, one string each: the words a new passphrase must not lean on."""
        return [f"{given} {family}" for family, given in self._db.all("SELECT family_name, given_names FROM patients")]

    def search(self, text: str = "", *, date_of_birth: date | None = None, limit: int = 50) -> list[Patient]:
        """Find patients by name words (any order, word starts, accents and case ignored), by MRN or another
        identifier, or by date of birth (ISO `YYYY-MM-DD` typed as the text, or the keyword)."""
        # a search is not stored: a character that is not text just matches nothing, rather than failing
        text = _as_text(text).strip()
        if date_of_birth is None and _ISO_DATE.match(text):
            try:
                date_of_birth = date.fromisoformat(text)
            except ValueError:
                raise InputError("That date of birth is not a real date", "Use YYYY-MM-DD") from None
            text = ""
        clauses: list[str] = []
        params: list[Any] = []
        if date_of_birth is not None:
            clauses.append("date_of_birth = ?")
            params.append(to_db_date(date_of_birth))
        if text:
            tokens = search_key(text).split()
            name_match = " AND ".join("search_name LIKE ? ESCAPE '\\'" for _ in tokens) or "0"
            params.extend(f"% {_like_escape(t)}%" for t in tokens)
            clauses.append(
                f"(({name_match}) OR search_mrn = ? OR id IN "
                "(SELECT patient_id FROM patient_identifiers WHERE search_value = ?))"
            )
            params.extend([identifier_key(text), identifier_key(text)])
        # No criteria: the first patients by name, so the list is never empty when patients exist.
        where = " AND ".join(clauses) or "1"
        sql = (
            f"SELECT {_PATIENT_COLUMNS} FROM patients WHERE {where} "
            "ORDER BY family_name COLLATE NOCASE, given_names COLLATE NOCASE, id LIMIT ?"
        )
        params.append(int(limit))
        return self._with_identifiers(self._db.all(sql, params))

    def overview(self, patient_id: int) -> PatientOverview:
        """The patient view: demographics and encounters (newest first) with what each holds. Audited as a view."""
        patient = self.get(patient_id)
        rows = self._db.all(
            f"SELECT {', '.join('e.' + c.strip() for c in _ENCOUNTER_COLUMNS.split(','))}, "
            "(SELECT count(*) FROM transcripts t WHERE t.encounter_id = e.id), "
            "(SELECT count(*) FROM messages m WHERE m.encounter_id = e.id), "
            "(SELECT count(*) FROM notes n WHERE n.encounter_id = e.id), "
            "(SELECT count(*) FROM notes n JOIN note_versions v ON v.note_id = n.id "
            " WHERE n.encounter_id = e.id AND v.status = 'accepted') "
            "FROM encounters e WHERE e.patient_id = ? ORDER BY e.started_at DESC, e.id DESC",
            (patient_id,),
        )
        overviews = [
            EncounterOverview(encounter_from_row(r[:7]), r[7], r[8], r[9], r[10]) for r in rows
        ]
        self._audit.record(AuditAction.VIEW, "patient", patient_id)
        return PatientOverview(patient=patient, encounters=overviews)

    def _ensure_mrn_free(self, mrn: str | None, own_id: int | None) -> None:
        if mrn is None:
            return
        other = self._db.scalar("SELECT id FROM patients WHERE search_mrn = ?", (_mrn_key(mrn),))
        if other is not None and other != own_id:
            raise StorageError("Another patient already has this MRN", "Search by MRN to open that patient")

    def _write_identifiers(self, patient_id: int, identifiers: dict[str, str]) -> None:
        rows = [
            (patient_id, kind.strip().casefold(), value.strip(), identifier_key(value))
            for kind, value in identifiers.items()
            if kind.strip() and value.strip()
        ]
        if rows:
            self._db.executemany(
                "INSERT INTO patient_identifiers(patient_id, kind, value, search_value) VALUES (?, ?, ?, ?)", rows
            )

    def _with_identifiers(self, rows: list[tuple[Any, ...]]) -> list[Patient]:
        if not rows:
            return []
        ids = [r[0] for r in rows]
        found: dict[int, dict[str, str]] = {pid: {} for pid in ids}
        marks = ",".join("?" * len(ids))
        for pid, kind, value in self._db.all(
            f"SELECT patient_id, kind, value FROM patient_identifiers WHERE patient_id IN ({marks})", ids
        ):
            found[pid][kind] = value
        return [
            Patient(
                id=r[0], family_name=r[1], given_names=r[2], date_of_birth=from_db_date(r[3]), mrn=r[4], sex=r[5],
                identifiers=found[r[0]], created_at=from_db_time(r[6]), updated_at=from_db_time(r[7]),
            )
            for r in rows
        ]


def encounter_from_row(r: tuple[Any, ...]) -> Encounter:
    return Encounter(
        id=r[0], patient_id=r[1], started_at=from_db_time(r[2]), reason=r[3], status=EncounterStatus(r[4]),
        created_at=from_db_time(r[5]), updated_at=from_db_time(r[6]),
    )


class EncounterRepository:
    def __init__(self, db: Database, audit: AuditLog, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._audit = audit
        self._clock = clock

    def add(self, patient_id: int, started_at: datetime | None = None, reason: str = "") -> Encounter:
        now = self._clock()
        with self._db.transaction("start the encounter"):
            if self._db.scalar("SELECT 1 FROM patients WHERE id = ?", (patient_id,)) is None:
                raise RecordNotFound("patient", patient_id)
            cursor = self._db.execute(
                "INSERT INTO encounters(patient_id, started_at, reason, status, created_at, updated_at) "
                "VALUES (?, ?, ?, 'open', ?, ?)",
                (patient_id, to_db_time(started_at or now), reason, to_db_time(now), to_db_time(now)),
                "start the encounter",
            )
            encounter_id = int(cursor.lastrowid)
            self._audit.record(AuditAction.CREATE, "encounter", encounter_id)
        return self.get(encounter_id)

    def get(self, encounter_id: int) -> Encounter:
        row = self._db.one(f"SELECT {_ENCOUNTER_COLUMNS} FROM encounters WHERE id = ?", (encounter_id,))
        if row is None:
            raise RecordNotFound("encounter", encounter_id)
        return encounter_from_row(row)

    def for_patient(self, patient_id: int, *, newest_first: bool = False) -> list[Encounter]:
        order = "DESC" if newest_first else "ASC"
        rows = self._db.all(
            f"SELECT {_ENCOUNTER_COLUMNS} FROM encounters WHERE patient_id = ? "
            f"ORDER BY started_at {order}, id {order}",
            (patient_id,),
        )
        return [encounter_from_row(r) for r in rows]

    def set_reason(self, encounter_id: int, reason: str) -> Encounter:
        """The reason for the encounter, as the doctor wrote it ("" when none was given)."""
        _check_text({"reason": reason})
        with self._db.transaction("save the encounter"):
            self.get(encounter_id)
            self._db.execute(
                "UPDATE encounters SET reason = ?, updated_at = ? WHERE id = ?",
                (reason.strip(), to_db_time(self._clock()), encounter_id),
            )
            self._audit.record(AuditAction.UPDATE, "encounter", encounter_id)
        return self.get(encounter_id)

    def set_status(self, encounter_id: int, status: EncounterStatus) -> Encounter:
        with self._db.transaction("save the encounter"):
            self.get(encounter_id)
            self._db.execute(
                "UPDATE encounters SET status = ?, updated_at = ? WHERE id = ?",
                (status.value, to_db_time(self._clock()), encounter_id),
            )
            self._audit.record(AuditAction.UPDATE, "encounter", encounter_id)
        return self.get(encounter_id)
