"""No plaintext outside the database: after real use of the store, no byte of any file under the data dir, the
temp dir or the log dir contains a patient's name or a phrase of their transcript — neither while the store is open
(WAL and shared-memory files present) nor after it is closed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
PASSPHRASE = "correct horse battery staple"
# Unusual enough that no library, log line or random bytes contain them by chance.
NAMES = ["Quillfeatherington", "Zebulonia", "Thistlewaite-Okonjo", "MRN-QX-998877"]
PHRASES = ["periwinkle marmoset in the left ventricle", "hemidemisemiquaver cough"]

_WORKER = textwrap.dedent(
    """
    import sys
    from datetime import date
    from pathlib import Path

    from app.core.logs import setup_logging
    from app.core.storage import MessageRole, MessageTimings, NoteKind, Store

    data, backup = Path(sys.argv[1]), Path(sys.argv[2])
    names, phrases = sys.argv[3].split("|"), sys.argv[4].split("|")
    setup_logging(data / "logs", debug=True)
    store = Store(data, kdf_iterations=4000)
    store.create(sys.argv[5])
    r = store.repositories()
    family, given, other, mrn = names
    pid = r.patients.add(family, given, date_of_birth=date(1931, 7, 17), mrn=mrn, identifiers={"nhs": other}).id
    for i in range(40):  # enough rows that sorts and the WAL are not trivially small
        r.patients.add(f"{family}{i}", given)
    eid = r.encounters.add(pid, reason=phrases[1]).id
    t = r.transcripts.add(eid, f"the patient {given} {family} reports a {phrases[0]}")
    r.transcripts.set_edited(t.id, f"{given} {family}: {phrases[0]}, {phrases[1]}")
    r.messages.add(eid, MessageRole.USER, f"[NAME_1] has a {phrases[0]}", f"{family} has a {phrases[0]}",
                   model="qwen", timings=MessageTimings(1, 2, 0.1, 0.5))
    r.messages.add(eid, MessageRole.ASSISTANT, f"Consider {phrases[1]}", f"{family}: consider {phrases[1]}")
    note = r.notes.create(eid, NoteKind.SOAP, f"S: {family} {phrases[0]}")
    r.notes.accept(r.notes.add_version(note.id, f"S: {given} {family} {phrases[1]}").id)
    r.redaction_maps.save(eid, '{"NAME_1": "%s %s"}' % (given, family))
    assert r.patients.search(family[:6])[0].id == pid
    # Work that would spill to temp files if temp_store were not MEMORY: big sorts, a vacuum, checks, a backup.
    r.db.all("SELECT * FROM patients ORDER BY search_name DESC, given_names, family_name")
    r.db.all("SELECT DISTINCT display_content FROM messages ORDER BY 1")
    r.db.execute("VACUUM")
    r.patients.overview(pid)
    assert store.check().ok
    store.backup(backup)
    print("OPEN", flush=True)
    sys.stdin.readline()  # the test scans the folders now, with the WAL in place
    store.close()
    print("CLOSED", flush=True)
    """
)


def _needles() -> list[bytes]:
    found: list[bytes] = []
    for text in NAMES + PHRASES:
        for variant in (text, text.lower(), text.upper()):
            found += [variant.encode("utf-8"), variant.encode("utf-16-le")]
    # Fragments too: a page boundary could split a phrase, but not every word of it.
    found += [w.encode() for p in PHRASES for w in p.split() if len(w) >= 9]
    return found


def _leaks(folders: list[Path]) -> list[str]:
    needles = _needles()
    leaks = []
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                leaks += [f"{path}: {n!r}" for n in needles if n in data]
    return leaks


def test_no_patient_text_in_any_file_outside_the_database(tmp_path: Path) -> None:
    data, temp, backups = tmp_path / "data", tmp_path / "tmp", tmp_path / "backups"
    for folder in (temp, backups):
        folder.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "SQLITE_TMPDIR": str(temp), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _WORKER, str(data), str(backups / "b.db"), "|".join(NAMES), "|".join(PHRASES),
         PASSPHRASE],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
    )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        assert proc.stdout.readline().strip() == "OPEN", proc.stderr.read() if proc.stderr else ""
        wal = Path(f"{data / 'clinic.db'}-wal")
        assert wal.stat().st_size > 0  # the WAL holds recent pages, and must be ciphertext too
        assert _leaks([data, temp, backups]) == []
        proc.stdin.write("go\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "CLOSED"
    finally:
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert err == ""  # SQLCipher logs nothing to stderr either
    assert (data / "logs" / "clinic-assistant.log").is_file()
    assert _leaks([data, temp, backups, tmp_path]) == []

    # The scan itself works: the same needles are found in a file that does hold them.
    control = tmp_path / "control"
    control.mkdir()
    (control / "plain.txt").write_text(f"{NAMES[0]} {PHRASES[0]}")
    assert len(_leaks([control])) >= 2
