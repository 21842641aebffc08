"""Crash safety: a process writing to the store is killed (SIGKILL) at many points. Every reopen succeeds, passes
SQLite's integrity check and SQLCipher's page HMAC check, and every write the process reported as committed is
there. The same for a process that keeps changing the passphrase."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app.core.errors import WrongPassphrase
from app.core.storage import Store

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
PASSPHRASES = ("correct horse battery staple", "seven purple otters juggle 42")
KDF = 4000
WRITE_KILLS = 14
REKEY_KILLS = 5

_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from app.core.storage import MessageRole, Store

    store = Store.open(Path(sys.argv[1]), sys.argv[2], kdf_iterations=int(sys.argv[3]))
    r = store.repositories()
    r.db.execute("PRAGMA wal_autocheckpoint = 16")  # checkpoint often, so some kills land inside one
    n = r.patients.count()  # one patient per transaction; some committed ones may never have been reported
    while True:
        n += 1
        with r.db.transaction():
            pid = r.patients.add(f"Crash{n}", "Test", mrn=f"C{n}").id
            eid = r.encounters.add(pid).id
            mid = r.messages.add(eid, MessageRole.USER, f"redacted {n} " + "r" * (n % 7) * 3000, f"shown {n}").id
        print(f"C {n} {pid} {mid}", flush=True)
    """
)

_REKEYER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from app.core.storage import Store

    phrases = sys.argv[2].split("|")
    current = int(sys.argv[4])
    store = Store.open(Path(sys.argv[1]), phrases[current], kdf_iterations=int(sys.argv[3]))
    while True:
        store.rekey(phrases[current], phrases[1 - current])
        current = 1 - current
        print(f"R {current}", flush=True)
    """
)


def _spawn(script: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def _read_then_kill(proc: subprocess.Popen[str], lines: int) -> list[list[str]]:
    """The first `lines` lines the process printed, split into words; then SIGKILL, wherever it is."""
    assert proc.stdout is not None
    got: list[list[str]] = []
    while len(got) < lines:
        line = proc.stdout.readline()
        if not line:
            _, err = proc.communicate(timeout=30)
            raise AssertionError(f"writer stopped early: {err}")
        got.append(line.split())
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return got


def _verified(data: Path, passphrase: str) -> Store:
    store = Store.open(data, passphrase, kdf_iterations=KDF)
    report = store.check()
    assert report.ok, (report.integrity_errors, report.cipher_errors, report.foreign_key_errors)
    return store


def test_sigkill_during_writes_loses_no_committed_write(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Store(data, kdf_iterations=KDF) as store:
        store.create(PASSPHRASES[0])
    rng = random.Random(20261122)
    committed: list[tuple[int, int, int]] = []
    for _ in range(WRITE_KILLS):
        proc = _spawn(_WRITER, str(data), PASSPHRASES[0], str(KDF))
        for words in _read_then_kill(proc, rng.randint(1, 12)):
            committed.append((int(words[1]), int(words[2]), int(words[3])))
        with _verified(data, PASSPHRASES[0]) as store:
            r = store.repositories()
            for n, pid, mid in committed:
                assert r.patients.get(pid).family_name == f"Crash{n}"
                assert r.messages.get(mid).display_content == f"shown {n}"
            # Anything beyond what was reported is whole or absent, never half: patients and messages pair up.
            assert r.patients.count() == r.messages.count()
    assert len(committed) >= WRITE_KILLS


def test_sigkill_during_passphrase_changes_leaves_one_working_passphrase(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Store(data, kdf_iterations=KDF) as store:
        store.create(PASSPHRASES[0])
        store.repositories().patients.add("Keeps", "Data", mrn="K1")
    rng = random.Random(7)
    current = 0
    for _ in range(REKEY_KILLS):
        proc = _spawn(_REKEYER, str(data), "|".join(PASSPHRASES), str(KDF), str(current))
        reported = _read_then_kill(proc, rng.randint(1, 3))
        current = int(reported[-1][1])
        # Killed between the atomic swap and the report, the other passphrase is the live one: both are valid
        # outcomes, a mixture never is.
        try:
            store = _verified(data, PASSPHRASES[current])
        except WrongPassphrase:
            current = 1 - current
            store = _verified(data, PASSPHRASES[current])
        with store:
            assert store.repositories().patients.find_by_mrn("K1") is not None
        leftovers = [p.name for p in data.iterdir() if p.name.endswith((".rekey", ".restoring", ".partial"))]
        assert leftovers == []
