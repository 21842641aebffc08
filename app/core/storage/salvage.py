"""A damaged store: which records its damaged pages cost (`scan`), and a new store holding every record that can
still be read (`salvage`). The damaged file is only ever read (`tidy_wal` aside, which lets SQLite remove the empty
-wal/-shm files its read-only connections leave).

SQLCipher checks each page's HMAC when it reads the page. A page that fails is handed to SQLite as zeros, and from
then on SQLCipher refuses every read on that connection. A zeroed b-tree page makes the query fail at once, but a
zeroed *overflow* page (the end of a long text) is returned as part of the row without any error: so after every
statement the reader drops SQLite's page cache and reads page 1 again, which fails if any page failed meanwhile,
and a batch of rows that touched a damaged page is re-read one row at a time to keep only the sound ones.
SQLCipher 4.19 (the one sqlcipher3 0.6.4 ships) has no pragma to read past a failed HMAC: `PRAGMA
cipher_ignore_hmac` does not exist and SQLite silently ignores unknown pragmas (tested). `DamagedFileReader` keeps
the derived key and opens a fresh read-only connection after each failure (under a millisecond: no key
derivation), and each table is read in row-id order, a range at a time:

- a row that fails although its row id can still be found (`SELECT rowid` reads only the b-tree page) lies on an
  intact page with the rest of its text on a damaged overflow page: that one row is lost;
- a seek that fails means a damaged b-tree page on the way: the first row id whose seek works again is found by an
  exponential, then binary search over row ids; the ids in between were on the damaged page;
- lost rows are counted exactly from an intact index of the table (an index lists the row id of every row); for a
  table without one (`redaction_maps`, `schema_version`) the count is an upper bound from the gap in row ids.

Only rows read through pages that passed their HMAC are copied: a damaged page's rows are never copied half
garbled. The one limit: a damaged interior page of a table (one page in a few hundred; it holds only links) makes
the rows below it unreachable; they are counted as lost like the rest. A damaged index costs nothing: the new store
builds its indexes from the rows.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.errors import InputError, StorageError
from app.core.storage.audit import AuditAction
from app.core.storage.cipher import (
    CipherParams,
    KeyFile,
    KeyRecord,
    check_value,
    cipher_settings,
    derive_key,
    fsync_dir,
    key_spec,
    new_salt,
    passphrase_bytes,
    wipe,
)
from app.core.storage.connection import Database, load_sqlcipher, open_encrypted, storage_error
from app.core.storage.opening import OpenedFile, close_quietly, damaged_pages, verify_contents
from app.core.storage.passphrase import require_strong
from app.core.storage.records import DamageReport, SalvageReport, TableDamage
from app.core.storage.schema import MIGRATIONS, migrate, schema_version, search_key, to_db_time

if TYPE_CHECKING:
    from app.core.storage.store import Store

log = logging.getLogger(__name__)

MIN_ROWID = -(2**63)
MAX_ROWID = 2**63 - 1
BATCH_ROWS = 500
PLACEHOLDER_TEXT = "Unreadable record (salvaged)"
# Values a stand-in record needs beyond its key where a plain default would break a CHECK constraint or help nobody.
_PLACEHOLDER_HINTS: dict[str, dict[str, object]] = {
    "patients": {"family_name": PLACEHOLDER_TEXT, "search_name": search_key(PLACEHOLDER_TEXT)},
    "encounters": {"reason": PLACEHOLDER_TEXT, "status": "closed"},
    "notes": {"kind": "other"},
}
_DAMAGE_ERRORS = ("SQLITE_CORRUPT", "SQLITE_NOTADB")

Row = tuple[Any, ...]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class DamagedFileReader:
    """Read-only reads of a possibly damaged encrypted file, with a fresh connection after each damaged page."""

    def __init__(self, path: Path, key: bytearray, params: CipherParams) -> None:
        self._path = path
        self._key = bytearray(key)  # our own copy, wiped by close()
        self.params = params
        self._conn: Any = None
        self._errors = load_sqlcipher().Error

    def close(self) -> None:
        if self._conn is not None:
            close_quietly(self._conn)
            self._conn = None
        wipe(self._key)

    def connection(self) -> Any:
        if self._conn is None:
            spec = key_spec(self._key)
            try:
                self._conn = open_encrypted(self._path, spec, self.params, create=False, readonly=True)
            finally:
                wipe(spec)
        return self._conn

    def _failed(self, exc: BaseException) -> None:
        close_quietly(self._conn)
        self._conn = None
        if not str(getattr(exc, "sqlite_errorname", "")).startswith(_DAMAGE_ERRORS):
            raise storage_error(exc, "read the damaged store") from None

    def rows_into(self, sql: str, params: tuple[Any, ...], into: list[Row]) -> tuple[bool, bool]:
        """Append the rows of `sql` to `into`. Returns (it ran to the end, no page failed its check meanwhile). When
        a page failed, the rows appended may hold zeros in place of that page's bytes."""
        conn = self.connection()
        try:
            for row in conn.execute(sql, params):
                into.append(tuple(row))
        except self._errors as exc:
            self._failed(exc)
            return False, False
        try:
            conn.execute("PRAGMA shrink_memory")  # drop the page cache, so that page 1 is decrypted again:
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()  # refused if any page failed
        except self._errors as exc:
            self._failed(exc)
            return True, False
        return True, True

    def all(self, sql: str, params: tuple[Any, ...] = ()) -> list[Row] | None:
        """Every row of `sql`, or None when it touches a damaged page."""
        rows: list[Row] = []
        return rows if self.rows_into(sql, params, rows) == (True, True) else None

    def required(self, sql: str, params: tuple[Any, ...] = ()) -> list[Row]:
        rows = self.all(sql, params)
        if rows is None:
            raise StorageError(
                "The store's list of tables is damaged, so no record can be found in it. Nothing was changed",
                "Restore the latest backup with 'clinic-assistant store restore'; keep the damaged file",
            )
        return rows


def tidy_wal(path: Path, key: bytearray, params: CipherParams) -> None:
    """Read-only connections to a file in WAL mode leave empty -wal and -shm files behind. A read-write connection
    that is the last to close removes them: SQLite decides that under its own locks, so a store open elsewhere keeps
    its files. Nothing is written to the database file."""
    spec = key_spec(key)
    try:
        conn = open_encrypted(path, spec, params, create=False)
    except StorageError:
        return
    finally:
        wipe(spec)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
    except load_sqlcipher().Error:
        pass
    finally:
        close_quietly(conn)


@dataclass
class _Table:
    name: str
    sql: str
    columns: list[str]  # copied besides the row id (an INTEGER PRIMARY KEY column is the row id itself)
    indexes: list[str]  # complete (not partial) indexes: each lists every row id
    read: int = 0
    gaps: list[tuple[int, int]] = field(default_factory=list)  # row-id ranges behind a damaged b-tree page
    open_ended: bool = False  # the last gap runs to the end of the row ids: nothing bounds it
    lost_rows: list[int] = field(default_factory=list)  # rows on intact pages whose overflow text is damaged
    damaged_indexes: list[str] = field(default_factory=list)


@dataclass
class _Schema:
    tables: list[_Table]
    other_sql: list[str]  # indexes and triggers, created after the rows are in


def _read_schema(reader: DamagedFileReader) -> _Schema:
    entries = reader.required(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
    )
    listed = {str(r[1]): r for r in reader.required("PRAGMA table_list") if str(r[0]) == "main"}
    tables: list[_Table] = []
    other: list[str] = []
    for kind, name, _table, sql in entries:
        name = str(name)
        if kind == "table" and not name.startswith("sqlite_"):
            info = listed.get(name)
            if info is not None and (int(info[4]) or str(info[2]) != "table"):  # WITHOUT ROWID, virtual
                raise StorageError(f"Table {name} has no row ids, so it cannot be salvaged row by row", "")
            columns = reader.required(f"PRAGMA table_info({_quote(name)})")
            keys = [c for c in columns if int(c[5])]
            rowid_alias = str(keys[0][1]) if len(keys) == 1 and str(keys[0][2]).upper() == "INTEGER" else None
            indexes = [
                str(i[1]) for i in reader.required(f"PRAGMA index_list({_quote(name)})") if not int(i[4])
            ]
            tables.append(_Table(name, str(sql), [str(c[1]) for c in columns if str(c[1]) != rowid_alias], indexes))
        elif kind in ("index", "trigger", "view"):
            other.append(str(sql))
    return _Schema(tables, other)


def _first_from(reader: DamagedFileReader, table: str, rowid: int) -> tuple[bool, int | None]:
    """(the seek worked, the first row id >= rowid or None). Reads b-tree pages only, not the rows' text."""
    rows = reader.all(f"SELECT rowid FROM {_quote(table)} WHERE rowid >= ? ORDER BY rowid LIMIT 1", (rowid,))
    if rows is None:
        return False, None
    return True, (int(rows[0][0]) if rows else None)


def _skip_damage(
    reader: DamagedFileReader, table: _Table, start: int, sink: Callable[[list[Row]], None]
) -> int | None:
    """Reading from `start` failed: record what is lost there and return where reading can go on (None: the end)."""
    ok, first = _first_from(reader, table.name, start)
    if ok:
        if first is None:
            return None
        # Its b-tree page is intact. Either its text continues on a damaged overflow page (then it is lost), or the
        # connection had already met a damaged page for the row before it: read it alone to tell.
        kept = _sound_rows(reader, table, [(first,)])
        if kept:
            sink(kept)
            table.read += len(kept)
        return first + 1 if first < MAX_ROWID else None
    bad, step = start, 1
    while True:
        probe = min(start + step, MAX_ROWID)
        ok, first = _first_from(reader, table.name, probe)
        if ok:
            break
        if probe == MAX_ROWID:
            table.gaps.append((start, MAX_ROWID))
            table.open_ended = True
            return None
        bad, step = probe, step * 2
    good = probe
    while good - bad > 1:
        middle = (bad + good) // 2
        ok, found = _first_from(reader, table.name, middle)
        if ok:
            good, first = middle, found
        else:
            bad = middle
    # Seeks fail up to `bad` and work from `good`: no row id in [good, first) exists.
    table.gaps.append((start, good - 1))
    return first


def _sound_rows(reader: DamagedFileReader, table: _Table, rows: list[Row]) -> list[Row]:
    """Re-read rows of a batch that touched a damaged page one at a time; keep those that touch none."""
    columns = "".join(f", {_quote(c)}" for c in table.columns)
    select = f"SELECT rowid{columns} FROM {_quote(table.name)} WHERE rowid = ?"
    sound: list[Row] = []
    for row in rows:
        again: list[Row] = []
        if reader.rows_into(select, (row[0],), again) == (True, True) and len(again) == 1:
            sound.append(again[0])
        else:
            table.lost_rows.append(int(row[0]))  # on an intact page, with the end of its text on a damaged one
    return sound


def _scan_table(reader: DamagedFileReader, table: _Table, sink: Callable[[list[Row]], None]) -> None:
    columns = "".join(f", {_quote(c)}" for c in table.columns)
    select = f"SELECT rowid{columns} FROM {_quote(table.name)} WHERE rowid >= ? ORDER BY rowid LIMIT {BATCH_ROWS}"
    start: int | None = MIN_ROWID
    while start is not None:
        batch: list[Row] = []
        ended, sound = reader.rows_into(select, (start,), batch)
        if batch:
            last = int(batch[-1][0])
            start = last + 1 if last < MAX_ROWID else None
            kept = batch if sound else _sound_rows(reader, table, batch)
            if kept:
                sink(kept)
                table.read += len(kept)
        if ended:
            if len(batch) < BATCH_ROWS:
                return
            continue
        if start is not None:
            start = _skip_damage(reader, table, start, sink)


def _lost_ids(reader: DamagedFileReader, table: _Table) -> set[int] | None:
    """Row ids of the rows that could not be read, from the first intact index; None when no index can tell."""
    for index in table.indexes:
        whole = reader.all(f"SELECT count(rowid) FROM {_quote(table.name)} INDEXED BY {_quote(index)}")
        if whole is None:
            table.damaged_indexes.append(index)
            continue
        ids = set(table.lost_rows)
        for lo, hi in table.gaps:
            rows = reader.all(
                f"SELECT rowid FROM {_quote(table.name)} INDEXED BY {_quote(index)} WHERE rowid BETWEEN ? AND ?",
                (lo, hi),
            )
            if rows is None:
                break
            ids.update(int(r[0]) for r in rows)
        else:
            # Check the remaining indexes too, so that the report names every damaged one.
            for other in table.indexes[table.indexes.index(index) + 1 :]:
                if reader.all(f"SELECT count(rowid) FROM {_quote(table.name)} INDEXED BY {_quote(other)}") is None:
                    table.damaged_indexes.append(other)
            return ids
        table.damaged_indexes.append(index)
    return None


def _ranges(ids: list[int]) -> list[list[int]]:
    ranges: list[list[int]] = []
    for i in sorted(ids):
        if ranges and i == ranges[-1][1] + 1:
            ranges[-1][1] = i
        else:
            ranges.append([i, i])
    return ranges


def _damage(table: _Table, lost: set[int] | None) -> TableDamage:
    if lost is not None:
        return TableDamage(table.name, table.read, len(lost), True, _ranges(list(lost)), table.damaged_indexes)
    # Row ids are 1, 2, 3... unless a program chose others: a gap from the smallest possible id starts at 1 here.
    gaps = [(max(lo, 1) if lo == MIN_ROWID else lo, hi) for lo, hi in table.gaps]
    bounded = sum(max(hi - lo + 1, 0) for lo, hi in gaps)
    ranges = sorted([[lo, hi] for lo, hi in gaps if hi >= lo] + [[i, i] for i in set(table.lost_rows)])
    count = None if table.open_ended else bounded + len(set(table.lost_rows))
    return TableDamage(table.name, table.read, count, False, ranges, table.damaged_indexes)


@dataclass
class _Scan:
    schema: _Schema
    report: DamageReport


def _scan(reader: DamagedFileReader, path: Path, params: CipherParams, sink_for: Callable[[_Table], Any]) -> _Scan:
    schema = _read_schema(reader)
    bad_pages = damaged_pages(reader.connection())
    damage: list[TableDamage] = []
    for table in schema.tables:
        _scan_table(reader, table, sink_for(table))
        lost = _lost_ids(reader, table) if (table.gaps or table.lost_rows or table.indexes) else set()
        if table.gaps or table.lost_rows or table.damaged_indexes:
            damage.append(_damage(table, lost))
    page_count = path.stat().st_size // params.page_size
    return _Scan(schema, DamageReport(bad_pages, page_count, damage))


def scan(path: Path, key: bytearray, params: CipherParams) -> tuple[DamageReport, dict[str, int]]:
    """What can and cannot be read in the encrypted file at `path`, and the rows readable per table."""
    reader = DamagedFileReader(path, key, params)
    try:
        result = _scan(reader, path, params, lambda _table: lambda _rows: None)
        return result.report, {t.name: t.read for t in result.schema.tables}
    finally:
        reader.close()


def read_settings(path: Path, key: bytearray, params: CipherParams) -> tuple[int, dict[str, str]]:
    """The layout version and the recorded cipher settings, as far as they can be read (0 and {} when not)."""
    reader = DamagedFileReader(path, key, params)
    try:
        versions = reader.all("SELECT coalesce(max(version), 0) FROM schema_version")
        settings = reader.all("SELECT key, value FROM store_settings WHERE key LIKE 'cipher.%'") or []
        version = int(versions[0][0]) if versions else 0
        return version, {str(k).removeprefix("cipher."): str(v) for k, v in settings}
    finally:
        reader.close()


# --- writing the salvaged store ----------------------------------------------------------------------------------


def salvage_target(data_dir: Path, now: datetime) -> Path:
    """Where the window puts a salvaged copy: beside the store, named so that it is never taken for the store."""
    return data_dir / f"clinic-salvaged-{now.strftime('%Y%m%dT%H%M%S')}.db"


def _check_target(store: Store, out: Path, overwrite: bool) -> None:
    own_file = out.parent == store.path.parent.resolve() and out.name.startswith(store.path.name)
    if out == store.path.resolve() or own_file:
        raise InputError(
            "The salvaged store cannot go over the store's own files", "Choose another file name, e.g. salvaged.db"
        )
    if out.exists() and not overwrite:
        raise StorageError(f"{out} already exists", "Choose another file name, or pass --force to replace it")
    if not out.parent.is_dir():
        raise StorageError(f"The folder {out.parent} does not exist", "Create it or choose another folder")


def _insert_sql(table: _Table) -> str:
    columns = ", ".join(["rowid", *(_quote(c) for c in table.columns)])
    marks = ", ".join("?" * (len(table.columns) + 1))
    return f"INSERT INTO {_quote(table.name)}({columns}) VALUES ({marks})"


def _default_for(declared: str) -> object:
    kind = declared.upper()
    return 0 if "INT" in kind else 0.0 if any(t in kind for t in ("REAL", "FLOA", "DOUB")) else PLACEHOLDER_TEXT


def _add_placeholders(db: Database, now: str) -> dict[str, int]:
    """Stand-in records for lost ones that copied records still point at (an encounter whose patient was on the
    damaged page). A stand-in that itself needs a parent gets one shared "unknown" parent, made on the next round."""
    added: dict[str, int] = {}
    unknown_parent: dict[str, int] = {}
    for _ in range(8):  # each round resolves one level: note -> encounter -> patient
        missing: dict[str, dict[str, set[Any]]] = {}
        highest: dict[str, int] = {}
        for child, rowid, parent, fk_id in db.all("PRAGMA foreign_key_check"):
            fks = [fk for fk in db.all(f"PRAGMA foreign_key_list({_quote(child)})") if fk[0] == fk_id]
            if len(fks) != 1:
                raise StorageError("A salvaged record points at a lost one in a way salvage cannot repair", "")
            _id, _seq, _parent, from_col, to_col = fks[0][:5]
            value = db.scalar(f"SELECT {_quote(from_col)} FROM {_quote(child)} WHERE rowid = ?", (rowid,))
            missing.setdefault(str(parent), {}).setdefault(str(to_col or "rowid"), set()).add(value)
            if isinstance(value, int):
                highest[str(parent)] = max(highest.get(str(parent), value), value)
        if not missing:
            return added
        for parent, keys in missing.items():
            columns = db.all(f"PRAGMA table_info({_quote(parent)})")
            parent_fks = {str(fk[3]): str(fk[2]) for fk in db.all(f"PRAGMA foreign_key_list({_quote(parent)})")}
            for key_column, values in keys.items():
                for value in sorted(values):
                    row: dict[str, object] = {key_column: value}
                    for _cid, name, declared, notnull, default, _pk in columns:
                        if name in row:
                            continue
                        if name in _PLACEHOLDER_HINTS.get(parent, {}):
                            row[name] = _PLACEHOLDER_HINTS[parent][name]
                        elif name in parent_fks and notnull:
                            grand = parent_fks[name]
                            if grand not in unknown_parent:  # above every id in use or about to be
                                top = int(db.scalar(f"SELECT coalesce(max(rowid), 0) FROM {_quote(grand)}"))
                                unknown_parent[grand] = max(top, highest.get(grand, 0)) + 1
                            row[name] = unknown_parent[grand]
                        elif str(name).endswith("_at") and notnull and default is None:
                            row[name] = now
                        elif notnull and default is None:
                            row[name] = _default_for(str(declared))
                    names = ", ".join(_quote(str(n)) for n in row)
                    db.execute(
                        f"INSERT INTO {_quote(parent)}({names}) VALUES ({', '.join('?' * len(row))})",
                        tuple(row.values()),
                        "write the salvaged store",
                    )
                    added[parent] = added.get(parent, 0) + 1
    raise StorageError("The salvaged records point at each other in a loop salvage cannot repair", "")


def _layout_version(db: Database) -> int:
    """The numbered layout (schema.py) whose tables and indexes the new store has; 0 when none matches."""
    query = "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
    have = set(db.all(query))
    dbapi2 = load_sqlcipher()
    probe = Database()
    probe.attach(dbapi2.connect(":memory:", isolation_level=None), dbapi2.Error)  # no key: in memory only
    try:
        for migration in MIGRATIONS:
            migrate(probe, migration.version)
            if set(probe.all(query)) == have:
                return migration.version
    finally:
        close_quietly(probe.detach())
    return 0


def _record_layout_version(db: Database, now: str) -> None:
    """If the rows saying which migrations were applied were on a damaged page, write them again: without them the
    new store would not open as a Clinic Assistant store."""
    present = {int(r[0]) for r in db.all("SELECT version FROM schema_version")}
    layout = max(present, default=0) or _layout_version(db)
    for migration in MIGRATIONS:
        if migration.version <= layout and migration.version not in present:
            db.execute(
                "INSERT INTO schema_version(version, applied_at, description) VALUES (?, ?, ?)",
                (migration.version, now, f"{migration.description} (recorded again by salvage)"),
                "write the salvaged store",
            )


def salvage(
    store: Store,
    passphrase: str,
    out: Path,
    *,
    new_passphrase: str | None = None,
    overwrite: bool = False,
) -> SalvageReport:
    """Write a new encrypted store at `out` holding every row of `store` that can be read (same passphrase unless
    `new_passphrase`), with `out.cipher.json` beside it. The store's own file is only read."""
    out = Path(out).expanduser().resolve()
    _check_target(store, out, overwrite)
    if new_passphrase is not None:
        require_strong(new_passphrase)
    with store.reading(passphrase) as opened:
        close_quietly(opened.conn)
        return _salvage_into(store, opened, out, new_passphrase if new_passphrase is not None else passphrase)


def _salvage_into(store: Store, opened: OpenedFile, out: Path, passphrase: str) -> SalvageReport:
    reader = DamagedFileReader(store.path, opened.key, opened.params)
    salt = new_salt()
    secret = passphrase_bytes(passphrase)
    key = derive_key(secret, salt, store.params)
    wipe(secret)
    spec = key_spec(key, salt)
    partial = out.with_name(out.name + ".partial")
    errors = load_sqlcipher().Error
    db = Database()
    try:
        with store.partials.writing(partial):
            db.attach(open_encrypted(partial, spec, store.params, create=True), errors)
            try:
                placeholders, result = _write(store, db, reader)
                version = schema_version(db)
                _verify(db)
            finally:
                close_quietly(db.detach())
            os.chmod(partial, 0o600)
            with open(partial, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(partial, out)
            fsync_dir(out.parent)
        KeyFile(out).remember(salt, KeyRecord(store.params, check_value(key)), keep_only=True)
    except OSError as exc:
        raise storage_error(exc, "write the salvaged store") from None
    finally:
        reader.close()
        wipe(spec)
        wipe(key)
    report = result.report
    lost = {t.table: t.rows_lost for t in report.tables if t.rows_lost != 0}
    counts = {t.name: t.read for t in result.schema.tables}
    log.info("salvaged the store: %d rows copied, %d damaged pages", sum(counts.values()), len(report.damaged_pages))
    return SalvageReport(
        path=str(out),
        bytes=out.stat().st_size,
        schema_version=version,
        counts=counts,
        lost={name: lost.get(name, 0) for name in counts},
        lost_exact=all(t.lost_exact or t.rows_lost == 0 for t in report.tables),
        placeholders=placeholders,
        damaged_pages=len(report.damaged_pages),
    )


def _write(store: Store, db: Database, reader: DamagedFileReader) -> tuple[dict[str, int], _Scan]:
    db.execute("PRAGMA temp_store = MEMORY")  # nothing of the records in a temporary file
    db.execute("PRAGMA secure_delete = ON")
    now = to_db_time(store.clock())
    with db.transaction("write the salvaged store"):
        created: set[str] = set()

        def sink_for(table: _Table) -> Callable[[list[Row]], None]:
            if table.name not in created:
                db.execute(table.sql, (), "write the salvaged store")
                created.add(table.name)
            insert = _insert_sql(table)
            return lambda rows: db.executemany(insert, rows, "write the salvaged store")

        result = _scan(reader, store.path, reader.params, sink_for)
        placeholders = _add_placeholders(db, now)
        for sql in result.schema.other_sql:
            db.execute(sql, (), "write the salvaged store")
        tables = {t.name for t in result.schema.tables}
        if "schema_version" in tables:
            _record_layout_version(db, now)
        if "store_settings" in tables:
            settings = cipher_settings(store.params, str(db.scalar("PRAGMA cipher_version")))  # this file's own
            db.executemany(
                "INSERT INTO store_settings(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                sorted(settings.items()),
            )
        if "audit_log" in tables:
            db.execute(
                "INSERT INTO audit_log(at, os_user, action, record_type, record_id) VALUES (?, ?, ?, ?, NULL)",
                (now, store.os_user, AuditAction.SALVAGE.value, "store"),
            )
    return placeholders, result


def _verify(db: Database) -> None:
    integrity, cipher = verify_contents(db.conn, deep=True, what="The salvaged store")
    orphans = db.all("PRAGMA foreign_key_check")
    if integrity or cipher or orphans:
        raise StorageError("The salvaged store did not verify, so it was not kept", "Check the disk and try again")
