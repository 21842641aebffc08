"""Take note-pdf.png: the first page of a SOAP note saved as a PDF (Draft → Export as PDF…), at 80 dpi.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots/take_note_pdf_screenshot.py

The patient, the clinic and the doctor are the fictitious ones of the shipped sample dictation
(resources/sample/dictation.txt); the note is a draft written from it by hand. The page is read from a throw-away
store and rendered by the window's own code; Ghostscript turns the PDF's first page into the PNG.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
OUT = Path(__file__).resolve().parent / "note-pdf.png"

from PySide6.QtWidgets import QApplication  # noqa: E402

from app.core.services.note_document import Letterhead, note_document  # noqa: E402
from app.core.storage import NoteKind  # noqa: E402
from app.core.storage.store import Store  # noqa: E402
from app.ui.assistant.note_printing import page_layout, pdf_bytes  # noqa: E402

PASSPHRASE = "amber-kettle-orbit-93"  # a throw-away store, deleted when the page is taken
FAST_KDF = 4000
SAMPLE_NOTE = """SUBJECTIVE
Three days of productive cough and a low grade fever. Takes metformin 500 mg twice daily and lisinopril 10 mg once \
daily.

OBJECTIVE
Temperature 38.2, pulse 96, blood pressure 140/90, oxygen saturation 94% on room air. Crackles at the right base.

ASSESSMENT
Community acquired pneumonia.

PLAN
Amoxicillin 500 mg three times daily for five days. Chest x-ray. Review in one week; sooner if breathless or the \
fever persists."""


def main() -> int:
    if shutil.which("gs") is None:
        print("Ghostscript (gs) is needed to turn the PDF into a PNG", file=sys.stderr)
        return 1
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication(sys.argv[:1])
    root = Path(tempfile.mkdtemp(prefix="clinic-pdf-shot-"))
    try:
        with Store(root / "data", kdf_iterations=FAST_KDF) as store:
            store.create(PASSPHRASE)
            repos = store.repositories()
            patient = repos.patients.add(
                "Tredgold", "Oswin", date_of_birth=date(1958, 3, 4), mrn="447291", sex="male"
            )
            seen = datetime(2026, 3, 5, 9, 40).astimezone()
            encounter = repos.encounters.add(patient.id, started_at=seen, reason="Cough and fever")
            note = repos.notes.create(encounter.id, NoteKind.SOAP, SAMPLE_NOTE)
            document = note_document(
                repos, encounter.id, note.id, SAMPLE_NOTE, "SOAP note",
                Letterhead("Larkfield Family Clinic", "Dr Helena Marsh"),
            )
        pdf = root / "note.pdf"
        pdf.write_bytes(pdf_bytes(document, page_layout()))
        subprocess.run(
            ["gs", "-q", "-dNOPAUSE", "-dBATCH", "-sDEVICE=png16m", "-r80", "-dFirstPage=1", "-dLastPage=1",
             "-dTextAlphaBits=4", "-dGraphicsAlphaBits=4", f"-sOutputFile={OUT}", str(pdf)],
            check=True,
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    del app
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
