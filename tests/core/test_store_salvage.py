"""A damaged store is not all-or-nothing: one damaged page costs only the records on it, `check` says which, and
`salvage` writes a new store with every other record. Also: files that are not backups are named for what they are,
and partial copies are owner-only and cleaned up after a kill. Real SQLCipher throughout, low KDF iterations."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from app.core.errors import InputError, StorageError, WrongPassphrase
from app.core.storage import CheckReport, MessageRole, NoteKind, SalvageReport, Store, StoreDamaged
from app.core.storage.salvage import PLACEHOLDER_TEXT
from app.core.storage.schema import LATEST_VERSION

PASSPHRASE = "correct horse battery staple"
NEW_PASSPHRASE = "seven purple otters juggle 42"
KDF = 4000
PAGE = 4096
REPO = Path(__file__).resolve().parents[2]
# Every table the app writes; audit_log gains the salvage's own entry, schema_version may be written again.
DATA_TABLES = (
    "patients", "patient_identifiers", "encounters", "transcripts", "messages", "notes", "note_versions",
    "redaction_maps", "store_settings",
)

Rows = dict[str, dict[int, tuple[object, ...]]]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fill_store(data_dir: Path, *, patients: int = 60, kdf: int = KDF, passphrase: str = PASSPHRASE) -> None:
    """Several patients, each with encounters, transcripts, messages, notes (some long, on overflow pages) and a
    redaction map, written through the repositories. The names look like patient data on purpose."""
    store = Store(data_dir, kdf_iterations=kdf)
    if store.exists():
        store.unlock(passphrase)
    else:
        store.create(passphrase)
    with store:
        r = store.repositories()
        for i in range(patients):
            with r.db.transaction():
                pid = r.patients.add(
                    f"Vandersloot{i}", f"Imke{i}", date_of_birth=date(1950 + i % 50, 1 + i % 12, 1 + i % 28),
                    mrn=f"MRN-{i:05d}", identifiers={"nhs": f"{9_000_000_000 + i}"},
                ).id
                for e in range(2):
                    eid = r.encounters.add(pid, reason=f"knee pain {i}.{e}").id
                    r.transcripts.add(eid, f"patient {i} says " + "words " * (40 + 37 * ((i + e) % 9)), language="en")
                    for m in range(3):
                        role = MessageRole.USER if m % 2 == 0 else MessageRole.ASSISTANT
                        r.messages.add(eid, role, f"[PERSON_1] {i} {m} " + "q" * (30 + (i * 7 + m) % 300),
                                       f"Imke{i} {m} " + "d" * (30 + (i * 5 + m) % 300))
                    note = r.notes.create(eid, NoteKind.SOAP, f"S: Imke{i} " + "s" * (200 + (i * 97) % 2500))
                    if e == 0:
                        r.notes.add_version(note.id, f"S: edited {i} " + "e" * (100 + (i * 131) % 6000))
                        r.notes.accept(note.id)
                    r.redaction_maps.save(eid, json.dumps({"PERSON_1": f"Imke{i} Vandersloot{i}"}))


def read_rows(data_dir: Path, tables: tuple[str, ...] = DATA_TABLES, *, passphrase: str = PASSPHRASE) -> Rows:
    with Store.open(data_dir, passphrase, kdf_iterations=KDF) as store:
        db = store.repositories().db
        return {t: {int(r[0]): tuple(r[1:]) for r in db.all(f"SELECT rowid, * FROM {t}")} for t in tables}


def flip_page(db: Path, page: int, offset: int = 1000, length: int = 16) -> None:
    """Flip `length` bytes inside page `page` (1-based), as a failing disk sector would."""
    data = bytearray(db.read_bytes())
    start = (page - 1) * PAGE + offset
    data[start : start + length] = bytes(b ^ 0xFF for b in data[start : start + length])
    db.write_bytes(bytes(data))


def pages(db: Path) -> int:
    return db.stat().st_size // PAGE


def damage_a_page_with_records(data: Path, scratch: Path) -> int:
    """Flip 16 bytes in the page nearest the middle of the file whose damage costs several records of one table
    (found by trying copies: an index page costs none). Returns the page number."""
    middle = pages(data / "clinic.db") // 2
    for page in [middle + step for k in range(40) for step in ((k, -k) if k else (0,))]:
        trial = scratch / f"trial-{page}"
        trial.mkdir(parents=True)
        for name in ("clinic.db", "clinic.db.cipher.json"):
            (trial / name).write_bytes((data / name).read_bytes())
        flip_page(trial / "clinic.db", page)
        report = Store(trial, kdf_iterations=KDF).inspect_damage(PASSPHRASE)
        assert report.damage is not None
        lost = [t for t in report.damage.tables if t.rows_lost]
        if len(lost) == 1 and lost[0].lost_exact and (lost[0].rows_lost or 0) > 1 and lost[0].table in DATA_TABLES:
            flip_page(data / "clinic.db", page)
            return page
    raise AssertionError("no page near the middle holds several records")


def as_store(out: Path, where: Path) -> Path:
    """Put a salvaged file (and its cipher settings) where a store is expected, to open it as one."""
    where.mkdir(parents=True)
    (where / "clinic.db").write_bytes(out.read_bytes())
    (where / "clinic.db.cipher.json").write_bytes(Path(f"{out}.cipher.json").read_bytes())
    return where


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Rows]:
    """One filled store for the module (copied per test), and every row it holds."""
    data = tmp_path_factory.mktemp("pristine") / "data"
    fill_store(data)
    return data, read_rows(data)


@pytest.fixture
def copy(pristine: tuple[Path, Rows], tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    for name in ("clinic.db", "clinic.db.cipher.json"):
        (data / name).write_bytes((pristine[0] / name).read_bytes())
    return data


@dataclass
class Outcome:
    missing: dict[str, list[int]]  # row ids written but not salvaged (or salvaged changed), per table
    salvaged: Rows


def compare(truth: Rows, salvaged: Rows, lost_ids: dict[str, set[int]]) -> Outcome:
    """Every salvaged row is exactly what was written (stand-ins only at lost ids); what is missing, per table."""
    missing: dict[str, list[int]] = {}
    for table, rows in truth.items():
        got = salvaged[table]
        for rowid, row in got.items():
            if rowid in rows and row != rows[rowid]:
                assert rowid in lost_ids.get(table, set()), f"{table} row {rowid} came back changed"
                assert PLACEHOLDER_TEXT in row or "other" in row, f"{table} row {rowid} is not the original"
            elif rowid not in rows:
                assert PLACEHOLDER_TEXT in row or "other" in row, f"{table} row {rowid} is new"
        gone = sorted(i for i in rows if got.get(i) != rows[i])
        if gone:
            missing[table] = gone
    return Outcome(missing, salvaged)


def contiguous(ids: list[int], all_ids: list[int]) -> bool:
    """`ids` are a run of neighbours in the table's row-id order: what one b-tree page (or the subtree under it)
    holds."""
    ordered = sorted(all_ids)
    first = ordered.index(ids[0])
    return ordered[first : first + len(ids)] == ids


def salvage_and_compare(
    data: Path, truth: Rows, tmp_path: Path, damaged: int
) -> tuple[Outcome, CheckReport, SalvageReport]:
    db = data / "clinic.db"
    before = sha256(db)
    store = Store(data, kdf_iterations=KDF, sleep=lambda _s: pytest.fail("no wrong passphrase here"))
    with pytest.raises(StoreDamaged) as info:
        store.unlock(PASSPHRASE)
    assert not isinstance(info.value, WrongPassphrase)
    assert "store salvage" in info.value.hint and info.value.damaged_pages == 1

    report = store.inspect_damage(PASSPHRASE)
    assert not report.ok and report.damage is not None
    assert report.damage.damaged_pages == [damaged]
    assert report.cipher_errors == [f"HMAC verification failed for page {damaged}"]

    tmp_path.mkdir(exist_ok=True)
    out = tmp_path / "salvaged.db"
    result = store.salvage(out, PASSPHRASE)
    assert sha256(db) == before, "the damaged store must only be read"
    assert sorted(p.name for p in data.iterdir()) == ["clinic.db", "clinic.db.cipher.json"]
    assert out.stat().st_mode & 0o777 == 0o600 and not list(tmp_path.glob("*.partial*"))

    restored = as_store(out, tmp_path / "restored")
    lost_ids = {
        t.table: {i for lo, hi in t.lost_ids for i in range(lo, min(hi, lo + 10_000) + 1)}
        for t in report.damage.tables
    }
    outcome = compare(truth, read_rows(restored), lost_ids)
    # The salvaged store opens with the passphrase and passes the full check (structure, HMACs, foreign keys).
    with Store.open(restored, PASSPHRASE, kdf_iterations=KDF) as again:
        check = again.check()
        assert check.ok, check
    return outcome, report, result


def test_one_damaged_page_in_the_middle_costs_only_its_records(
    pristine: tuple[Path, Rows], tmp_path: Path
) -> None:
    """Damage pages from the middle of the file outwards until one holds records (an index page costs none), then:
    check names the table and the rows, salvage brings back every other row, and the counts agree."""
    source, truth = pristine
    data = tmp_path / "data"
    data.mkdir()
    for name in ("clinic.db", "clinic.db.cipher.json"):
        (data / name).write_bytes((source / name).read_bytes())
    page = damage_a_page_with_records(data, tmp_path / "scratch")
    first = Store(data, kdf_iterations=KDF).inspect_damage(PASSPHRASE)
    assert first.damage is not None
    (table,) = [t for t in first.damage.tables if t.rows_lost]

    outcome, report, result = salvage_and_compare(data, truth, tmp_path / "out", page)
    assert report == first  # checking twice reads the same, and changes nothing
    assert report.damage is not None and [t.table for t in report.damage.tables] == [table.table]
    assert list(outcome.missing) == [table.table]
    gone = outcome.missing[table.table]
    # What check reported is exactly what salvage could not bring back, and it is one page's run of rows.
    assert table.rows_lost == len(gone) == result.lost[table.table]
    assert [[gone[0], gone[-1]]] == table.lost_ids and contiguous(gone, list(truth[table.table]))
    assert result.lost_exact and result.damaged_pages == 1
    assert sum(v or 0 for v in result.lost.values()) == len(gone)
    for other in DATA_TABLES:
        if other != table.table:
            assert len(outcome.salvaged[other]) >= len(truth[other]), other


@pytest.mark.parametrize("fraction", [0.2, 0.4, 0.6, 0.8, 1.0])
def test_any_single_damaged_page_loses_nothing_else(
    pristine: tuple[Path, Rows], copy: Path, tmp_path: Path, fraction: float
) -> None:
    """Whatever the page holds (table rows, an index, the end of a long note), salvage never copies a damaged
    byte, loses rows of at most one table, as one run, and reports exactly what it lost."""
    truth = pristine[1]
    page = max(3, min(pages(copy / "clinic.db"), round(pages(copy / "clinic.db") * fraction)))
    flip_page(copy / "clinic.db", page, offset=123 + int(fraction * 3000))
    outcome, _report, result = salvage_and_compare(copy, truth, tmp_path / "out", page)
    assert len(outcome.missing) <= 1
    for table, gone in outcome.missing.items():
        assert contiguous(gone, list(truth[table])), table
        assert result.lost[table] == len(gone)
    for table, count in result.lost.items():
        if count:
            assert table in outcome.missing or table not in DATA_TABLES


def test_damaged_end_of_a_long_note_is_not_copied_as_zeros(tmp_path: Path) -> None:
    """SQLCipher hands a page that fails its check to SQLite as zeros; for the last overflow page of a long text
    that gives no error at all. The salvage must notice and drop that one row, not copy zeros into a note."""
    data = tmp_path / "data"
    with Store(data, kdf_iterations=KDF) as store:
        store.create(PASSPHRASE)
        r = store.repositories()
        pid = r.patients.add("Okonkwo", "Adaeze").id
        eid = r.encounters.add(pid).id
        short = r.notes.create(eid, NoteKind.SOAP, "S: short").id
        long_note = r.notes.create(eid, NoteKind.LETTER, "Dear colleague, " + "x" * 40_000).id
    truth = read_rows(data)
    db = data / "clinic.db"
    flip_page(db, pages(db), offset=3000)  # the file's last page: the end of the long letter
    result = Store(data, kdf_iterations=KDF).salvage(tmp_path / "s.db", PASSPHRASE)
    assert result.lost["note_versions"] == 1 and result.lost_exact
    salvaged = read_rows(as_store(tmp_path / "s.db", tmp_path / "restored"))
    versions = salvaged["note_versions"]  # (id, note_id, version, status, text, ...)
    assert {row[1] for row in versions.values()} == {short}  # the long letter's version is gone...
    assert long_note in {row[0] for row in salvaged["notes"].values()}  # ...its note (another page) is kept
    texts = [v for rows in salvaged.values() for row in rows.values() for v in row if isinstance(v, str)]
    assert not any("\x00" in text for text in texts)
    assert versions == {k: v for k, v in truth["note_versions"].items() if v[1] == short}


def test_lost_parents_get_stand_ins_so_kept_records_still_point_somewhere(tmp_path: Path) -> None:
    """A damaged page of patients: their encounters are kept, under stand-in patients named 'Unreadable record'
    with the lost ids, so the salvaged store passes its foreign-key check and the doctor can find them."""
    source = tmp_path / "source"
    with Store(source, kdf_iterations=KDF) as store:
        store.create(PASSPHRASE)
        r = store.repositories()
        with r.db.transaction():  # the patients first, so that their pages come early in the file
            ids = [r.patients.add(f"Vandersloot{i}", f"Imke{i}", mrn=f"MRN-{i}").id for i in range(150)]
        with r.db.transaction():
            for pid in ids:
                r.encounters.add(pid, reason="follow-up")
    truth = read_rows(source)
    for page in range(3, pages(source / "clinic.db")):
        trial = tmp_path / f"t{page}"
        trial.mkdir()
        for name in ("clinic.db", "clinic.db.cipher.json"):
            (trial / name).write_bytes((source / name).read_bytes())
        flip_page(trial / "clinic.db", page)
        report = Store(trial, kdf_iterations=KDF).inspect_damage(PASSPHRASE)
        assert report.damage is not None
        if [t.table for t in report.damage.tables if t.rows_lost] == ["patients"]:
            break
    else:
        pytest.fail("no page holds patients only")
    outcome, _report, result = salvage_and_compare(trial, truth, tmp_path / "out", page)
    gone = outcome.missing["patients"]
    assert result.placeholders == {"patients": len(gone)}
    assert all(outcome.salvaged["patients"][i][1] == PLACEHOLDER_TEXT for i in gone)  # (id, family_name, ...)
    assert outcome.salvaged["encounters"] == truth["encounters"]  # every encounter kept, pointing where it did


def test_damaged_layout_versions_are_written_again(copy: Path, tmp_path: Path) -> None:
    """Page 2 holds the list of applied migrations: without it a salvaged store would not open as a store."""
    flip_page(copy / "clinic.db", 2)
    result = Store(copy, kdf_iterations=KDF).salvage(tmp_path / "s.db", PASSPHRASE)
    assert result.schema_version == LATEST_VERSION
    with Store.open(as_store(tmp_path / "s.db", tmp_path / "restored"), PASSPHRASE, kdf_iterations=KDF) as again:
        assert again.check().ok


def test_salvage_of_a_sound_store_copies_everything_and_can_take_a_new_passphrase(
    pristine: tuple[Path, Rows], copy: Path, tmp_path: Path
) -> None:
    store = Store(copy, kdf_iterations=KDF)
    with pytest.raises(InputError, match="too weak"):
        store.salvage(tmp_path / "s.db", PASSPHRASE, new_passphrase="weak")
    result = store.salvage(tmp_path / "s.db", PASSPHRASE, new_passphrase=NEW_PASSPHRASE)
    assert set(result.lost.values()) == {0} and result.placeholders == {} and result.damaged_pages == 0
    restored = as_store(tmp_path / "s.db", tmp_path / "restored")
    with pytest.raises(WrongPassphrase):
        Store(restored, kdf_iterations=KDF, sleep=lambda _s: None).unlock(PASSPHRASE)
    assert read_rows(restored, passphrase=NEW_PASSPHRASE) == pristine[1]
    with pytest.raises(StorageError, match="already exists"):
        store.salvage(tmp_path / "s.db", PASSPHRASE)
    with pytest.raises(InputError, match="own files"):
        store.salvage(copy / "clinic.db.salvaged", PASSPHRASE)
    with pytest.raises(WrongPassphrase):
        Store(copy, kdf_iterations=KDF, sleep=lambda _s: None).salvage(tmp_path / "t.db", "not the passphrase!!")
    assert not (tmp_path / "t.db").exists()


# --- restoring something that is not a backup --------------------------------------------------------------------


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Store]:
    data = tmp_path / "live"
    with Store(data, kdf_iterations=KDF) as store:
        store.create(PASSPHRASE)
    store = Store(data, kdf_iterations=KDF, sleep=lambda _s: pytest.fail("a non-backup file is no wrong try"))
    yield store
    store.close()


def _plain_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE patients(name)")
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("name", "make", "said"),
    [
        ("plain.db", _plain_sqlite, "unencrypted SQLite database"),
        ("random.db", lambda p: p.write_bytes(os.urandom(10_000)), "not a database file"),
        ("empty.db", lambda p: p.write_bytes(b""), "is empty"),
        ("notes.txt", lambda p: p.write_text("Patient notes, not a backup\n" * 50), "a text file"),
        ("backup.db.cipher.json", lambda p: p.write_text('{"format": 1}'), "a text file"),
        ("archive.zip", lambda p: p.write_bytes(b"PK\x03\x04" + os.urandom(5000)), "ZIP archive"),
    ],
)
def test_restoring_a_file_that_is_not_a_backup_says_what_it_is(
    live: Store, tmp_path: Path, name: str, make: object, said: str
) -> None:
    path = tmp_path / name
    make(path)  # type: ignore[operator]
    before = sha256(live.path)
    for _ in range(4):  # past the free tries: none of them may count
        with pytest.raises(StorageError) as info:
            live.restore(path, PASSPHRASE, replace_existing=True)
        assert said in info.value.message and "Nothing was changed" in info.value.message
        assert not isinstance(info.value, WrongPassphrase) and "passphrase" not in info.value.one_line().lower()
    assert live.throttle.failures() == 0 and not live.throttle.path.exists()
    assert sha256(live.path) == before
    if name.endswith(".cipher.json"):
        assert "choose the backup file beside it" in info.value.hint


def test_a_real_backup_with_a_wrong_passphrase_still_counts(live: Store, tmp_path: Path) -> None:
    live.unlock(PASSPHRASE)
    live.backup(tmp_path / "b.db")
    live.close()
    live.throttle = type(live.throttle)(live.throttle.path, lambda _s: None)
    with pytest.raises(WrongPassphrase):
        live.restore(tmp_path / "b.db", "not the passphrase!!", replace_existing=True)
    assert live.throttle.failures() == 1


# --- partial files ------------------------------------------------------------------------------------------------

_KILL_DURING_BACKUP = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from app.core.storage import Store

    data, target = Path(sys.argv[1]), Path(sys.argv[2])
    store = Store.open(data, sys.argv[3], kdf_iterations=int(sys.argv[4]))
    journal = Path(f"{target}.partial-journal")
    calls = []

    def kill_when_the_journal_exists():
        calls.append(1)
        if journal.exists() or len(calls) > 5000:
            os._exit(9)  # like kill -9: no cleanup of any kind
        return 0

    store.db.conn.set_progress_handler(kill_when_the_journal_exists, 50)
    store.backup(target)
    """
)


def kill_during_backup(data: Path, target: Path, kdf: int = KDF) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", _KILL_DURING_BACKUP, str(data), str(target), PASSPHRASE, str(kdf)],
        env=env, capture_output=True, timeout=120, check=False,
    )
    assert done.returncode == 9, done.stderr.decode(errors="replace")[-2000:]


def test_a_killed_backup_leaves_only_owner_only_files_and_they_go_at_the_next_start(
    pristine: tuple[Path, Rows], copy: Path, tmp_path: Path
) -> None:
    target_dir = tmp_path / "usb"
    target_dir.mkdir()
    kill_during_backup(copy, target_dir / "monday.db")
    left = sorted(target_dir.iterdir())
    assert [p.name for p in left] == ["monday.db.partial", "monday.db.partial-journal"]
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in left)
    (target_dir / "mine.partial").write_text("not made by the app")  # only files the app made are removed
    migration_leftover = copy / "clinic.db.before-v3-from-v2.partial"
    migration_leftover.write_bytes(b"x" * PAGE)

    Store.open(copy, PASSPHRASE, kdf_iterations=KDF).close()  # the next start
    assert sorted(p.name for p in target_dir.iterdir()) == ["mine.partial"]
    assert not migration_leftover.exists()
    assert not (copy / "clinic.db.partials.json").exists()


def test_partial_files_of_a_copy_still_being_written_are_kept(copy: Path, tmp_path: Path) -> None:
    """Another Clinic Assistant process writing a backup right now keeps its partial file."""
    store = Store(copy, kdf_iterations=KDF)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        partial = tmp_path / "b.db.partial"
        partial.write_bytes(b"")
        store.partials.registry.write_text(
            json.dumps({"format": 1, "partial": [{"path": str(partial), "pid": sleeper.pid}]})
        )
        store.remove_leftovers()
        assert partial.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    store.remove_leftovers()
    assert not partial.exists() and not store.partials.registry.exists()


def test_files_written_while_copying_are_owner_only_from_the_start(copy: Path, tmp_path: Path) -> None:
    """Watched from inside SQLite's export: the partial backup and its journal never exist with wider rights."""
    target = tmp_path / "b.db"
    seen: set[tuple[str, int]] = set()
    with Store.open(copy, PASSPHRASE, kdf_iterations=KDF) as store:

        def watch() -> int:
            for path in (Path(f"{target}.partial"), Path(f"{target}.partial-journal")):
                if path.exists():
                    seen.add((path.name, path.stat().st_mode & 0o777))
            return 0

        store.db.conn.set_progress_handler(watch, 20)
        store.backup(target)
        store.db.conn.set_progress_handler(None, 0)
    assert {name for name, _ in seen} == {"b.db.partial", "b.db.partial-journal"}
    assert {mode for _, mode in seen} == {0o600}
    assert target.stat().st_mode & 0o777 == 0o600
