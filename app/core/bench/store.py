"""Benchmark of the encrypted store, and of the same work on plain SQLite for the ratio.

Measured (seconds unless named otherwise):
- unlock: our `Store.unlock` (key derivation with the configured iterations, quick check, audit entry) against
  SQLCipher opened directly with `PRAGMA key` and one query, and the key derivation alone;
- inserting messages one committed transaction each (as the chat does), through the repositories, on SQLCipher and
  on stdlib sqlite3 with the same code and pragmas, plus a bare-SQL baseline on sqlite3;
- listing one patient's encounters (500), searching among 10,000 patients (name, MRN, date of birth), and loading one
  patient's view (demographics + encounters) from that store: the GUI's target is 100 ms;
- the patient view with its summary when every patient has 5 accepted notes with extracted facts (the summary is
  one query and a merge: no model call), same target.
All data is synthetic and lives in a temporary folder deleted afterwards.
"""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from app.core.bench.common import BenchRequest, PeakMemory, Stopwatch
from app.core.storage.audit import AuditLog
from app.core.storage.cipher import CipherParams, derive_key, passphrase_bytes, read_salt
from app.core.storage.clinical import MessageRepository
from app.core.storage.connection import Database, configure_for_writing, load_sqlcipher
from app.core.storage.patients import EncounterRepository, PatientRepository
from app.core.storage.records import MessageRole
from app.core.storage.schema import migrate
from app.core.storage.store import Store

PASSPHRASE = "bench passphrase: synthetic data only"
PATIENT_VIEW_TARGET_S = 0.100
_SYLLABLES = ("an", "bel", "cor", "dra", "el", "fin", "gar", "hal", "is", "jor", "kal", "lin", "mor", "nes", "ol",
              "per", "quin", "ros", "sten", "tor", "ul", "vik", "wen", "yar", "zel")


class _Repos:
    """The repositories that the benchmark drives, over any connection (SQLCipher or plain sqlite3)."""

    def __init__(self, db: Database) -> None:
        audit = AuditLog(db, "bench")
        self.db = db
        self.patients = PatientRepository(db, audit)
        self.encounters = EncounterRepository(db, audit)
        self.messages = MessageRepository(db, audit)


def _plain_repos(path: Path) -> tuple[_Repos, sqlite3.Connection]:
    conn = sqlite3.connect(path, isolation_level=None)
    db = Database()
    db.attach(conn, sqlite3.Error)
    configure_for_writing(conn)
    migrate(db)
    return _Repos(db), conn


def _name(i: int) -> tuple[str, str]:
    n = len(_SYLLABLES)
    family = (_SYLLABLES[i % n] + _SYLLABLES[(i // n) % n] + _SYLLABLES[(i // n // n) % n]).capitalize()
    return family, _SYLLABLES[(i * 7) % n].capitalize() + _SYLLABLES[(i * 3) % n]


def _median(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        watch = Stopwatch()
        fn()
        times.append(watch.elapsed())
    return statistics.median(times)


def _fill(repos: _Repos, patients: int, encounters: int) -> tuple[int, int]:
    """`patients` patients (one with `encounters` encounters, one with 20); returns (big, typical) patient ids."""
    start = datetime(2020, 1, 1, 8, 0, tzinfo=UTC)
    with repos.db.transaction():
        for i in range(patients):
            family, given = _name(i)
            born = date(1930 + i % 80, 1 + i % 12, 1 + i % 28)
            repos.patients.add(family, given, date_of_birth=born, mrn=f"B{i:06d}")
        big, typical = 1, 2
        for k in range(encounters):
            repos.encounters.add(big, start + timedelta(days=k), reason="follow-up")
        for k in range(20):
            repos.encounters.add(typical, start + timedelta(days=k), reason="follow-up")
    return big, typical


def _insert_messages(repos: _Repos, encounter_id: int, count: int) -> float:
    watch = Stopwatch()
    for i in range(count):
        repos.messages.add(encounter_id, MessageRole.USER, f"[NAME_1] question {i} " + "x" * 200, f"question {i}")
    return watch.elapsed()


def _insert_bare_sqlite(path: Path, count: int) -> float:
    """The floor: the same rows through sqlite3 directly, one commit each, no repository, no audit."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE m(id INTEGER PRIMARY KEY, encounter_id INT, role TEXT, a TEXT, b TEXT, at TEXT)")
    watch = Stopwatch()
    for i in range(count):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO m(encounter_id, role, a, b, at) VALUES (1, 'user', ?, ?, ?)",
            (f"[NAME_1] question {i} " + "x" * 200, f"question {i}", datetime.now(UTC).isoformat()),
        )
        conn.execute("COMMIT")
    elapsed = watch.elapsed()
    conn.close()
    return elapsed


def _searcher(repos: _Repos, query: str) -> Callable[[], object]:
    return lambda: repos.patients.search(query)


def _queries(repos: _Repos, big: int, typical: int, repeats: int) -> dict[str, float]:
    searches = ("gar", "kalmor", "B004321", "1955-03-14")
    return {
        "list_encounters_s": _median(lambda: repos.encounters.for_patient(big), repeats),
        "search_s": statistics.median(_median(_searcher(repos, q), repeats) for q in searches),
        "patient_view_s": _median(lambda: repos.patients.overview(typical), repeats),
        "patient_view_big_s": _median(lambda: repos.patients.overview(big), repeats),
    }


def _summary_figures(store: Store, patients: int, repeats: int) -> dict[str, Any]:
    from app.core.bench.summary import fill_summaries
    from app.core.services.summaries import patient_summary

    repos = store.repositories()
    fill_summaries(store.db, range(3, patients + 1))  # patients 1 and 2 keep their many encounters
    typical = patients // 2

    def view() -> None:
        repos.patients.overview(typical)
        patient_summary(repos, typical)

    view_s = _median(view, repeats)
    return {
        "summary_notes_per_patient": 5,
        "patient_view_with_summary_s": round(view_s, 5),
        "summary_only_s": round(_median(lambda: patient_summary(repos, typical), repeats), 5),
        "patient_view_with_summary_within_target": view_s <= PATIENT_VIEW_TARGET_S,
    }


def _unlock_figures(folder: Path, kdf_iterations: int, repeats: int) -> dict[str, float]:
    store = Store(folder / "unlock", kdf_iterations=kdf_iterations)
    store.create(PASSPHRASE)
    store.close()
    def unlock_and_lock() -> None:
        store.unlock(PASSPHRASE)
        store.close()

    unlock_s = _median(unlock_and_lock, repeats)
    salt = read_salt(store.path) or b""
    params = CipherParams(kdf_iter=kdf_iterations)
    kdf_s = _median(lambda: derive_key(passphrase_bytes(PASSPHRASE), salt, params), repeats)
    dbapi2 = load_sqlcipher()

    def direct() -> None:
        conn = dbapi2.connect(str(store.path))
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute("PRAGMA key = '" + PASSPHRASE.replace("'", "''") + "'")
        conn.execute(f"PRAGMA kdf_iter = {kdf_iterations}")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.close()

    direct_s = _median(direct, repeats)
    return {
        "unlock_s": round(unlock_s, 4),
        "kdf_only_s": round(kdf_s, 4),
        "sqlcipher_direct_open_s": round(direct_s, 4),
        "unlock_ratio_vs_sqlcipher_direct": round(unlock_s / direct_s, 2),
    }


def run(request: BenchRequest) -> dict[str, Any]:
    quick = request.quick
    kdf_iterations = request.settings.storage.kdf_iterations
    patients = 300 if quick else 10_000
    messages = 100 if quick else 10_000
    encounters = 50 if quick else 500
    repeats = 3 if quick else 15
    results: dict[str, Any] = {
        "kdf_iterations": kdf_iterations, "patients": patients, "messages": messages, "encounters": encounters,
    }
    with tempfile.TemporaryDirectory(prefix="clinic-bench-store-") as tmp, PeakMemory() as memory:
        folder = Path(tmp)
        request.progress("store: unlock (key derivation)…")
        results.update(_unlock_figures(folder, kdf_iterations, 1 if quick else 5))

        request.progress("store: filling the encrypted store…")
        store = Store(folder / "encrypted", kdf_iterations=kdf_iterations)
        store.create(PASSPHRASE)
        encrypted = _Repos(store.db)
        big, typical = _fill(encrypted, patients, encounters)
        request.progress("store: filling plain SQLite…")
        plain, plain_conn = _plain_repos(folder / "plain.db")
        _fill(plain, patients, encounters)

        request.progress(f"store: {messages} messages, one commit each…")
        enc_insert = _insert_messages(encrypted, typical, messages)
        plain_insert = _insert_messages(plain, typical, messages)
        bare_insert = _insert_bare_sqlite(folder / "bare.db", messages)
        results.update({
            "insert_messages_s": round(enc_insert, 3),
            "insert_messages_plain_sqlite_s": round(plain_insert, 3),
            "insert_messages_bare_sqlite_s": round(bare_insert, 3),
            "insert_ratio_vs_plain_sqlite": round(enc_insert / plain_insert, 2),
            "insert_ratio_vs_bare_sqlite": round(enc_insert / bare_insert, 2),
            "insert_per_message_ms": round(1000 * enc_insert / messages, 3),
        })

        request.progress("store: queries…")
        enc_q = _queries(encrypted, big, typical, repeats)
        plain_q = _queries(plain, big, typical, repeats)
        for key, value in enc_q.items():
            results[key] = round(value, 5)
            results[key.replace("_s", "_plain_sqlite_s")] = round(plain_q[key], 5)
            results[key.replace("_s", "_ratio_vs_plain_sqlite")] = round(value / plain_q[key], 2)
        results["patient_view_target_s"] = PATIENT_VIEW_TARGET_S
        results["patient_view_within_target"] = enc_q["patient_view_big_s"] <= PATIENT_VIEW_TARGET_S
        request.progress("store: the patient view with its summary…")
        results.update(_summary_figures(store, patients, repeats))
        store.close()
        plain_conn.close()
        results["encrypted_file_mib"] = round(store.path.stat().st_size / 2**20, 2)
        results["plain_file_mib"] = round((folder / "plain.db").stat().st_size / 2**20, 2)
    results["peak_rss_mib"] = memory.peak_mib
    return results
