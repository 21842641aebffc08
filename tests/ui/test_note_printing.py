"""Draft → Export as PDF… and Print…, through the window on a real store: the clinic's header, the patient's
identifiers, DRAFT only on what is not accepted, "Accepted on" on what is, page numbers on a long note, an owner-only
file; and printing paints the very same page (a printer writing to a PDF file stands in for the print dialog)."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from app.core.services.note_document import NoteDocument
from app.core.storage import NoteKind
from app.core.storage.store import Store
from app.ui.application import ClinicApplication
from app.ui.assistant import print_actions
from app.ui.assistant.note_printing import page_layout, pdf_bytes
from tests.ui.support import FAST_KDF, PASSPHRASE, factories, make_app, shut, ui_settings, unlock

CLINIC, DOCTOR = "Larkfield Family Clinic", "Dr Helena Marsh"
SOAP = (
    "SUBJECTIVE\nThree days of productive cough and a low grade fever.\n\nOBJECTIVE\nTemperature 38.2, pulse 96, "
    "blood pressure 140/90, oxygen saturation 94 percent on room air. Crackles at the right base.\n\nASSESSMENT\n"
    "Community acquired pneumonia.\n\nPLAN\nAmoxicillin 500 mg three times daily for five days, chest x-ray, review "
    "in one week."
)
LETTER = "Dear colleague,\n\nThank you for seeing Mr Tredgold about his cough.\n\nYours sincerely,\nHelena Marsh"
# Midday UTC: the same calendar date in any time zone the test runs in.
SEEN = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)


def pdf_text(path: Path) -> str:
    if shutil.which("gs") is None:
        pytest.skip("Ghostscript (gs) is not installed: the PDF's words cannot be read back")
    out = subprocess.run(
        ["gs", "-q", "-dNOPAUSE", "-dBATCH", "-sDEVICE=txtwrite", "-o", "-", str(path)],
        check=True, capture_output=True, text=True, timeout=120,
    ).stdout
    return " ".join(out.split())


def seed(data_dir: Path, long_note: str) -> dict[str, int]:
    with Store(data_dir, kdf_iterations=FAST_KDF) as store:
        store.create(PASSPHRASE)
        repos = store.repositories()
        patient = repos.patients.add("Tredgold", "Oswin", date_of_birth=date(1958, 3, 4), mrn="447291", sex="male")
        encounter = repos.encounters.add(patient.id, started_at=SEEN, reason="Cough and fever")
        draft = repos.notes.create(encounter.id, NoteKind.SOAP, SOAP)
        letter = repos.notes.create(encounter.id, NoteKind.LETTER, LETTER)
        repos.notes.accept(letter.id)
        long = repos.notes.create(encounter.id, NoteKind.SUMMARY, long_note)
        return {"encounter": encounter.id, "draft": draft.id, "letter": letter.id, "long": long.id}


def long_note(pages: int) -> str:
    paragraph = (
        "Reviewed the chest x-ray with the patient: consolidation in the right lower lobe, no effusion. Discussed "
        "the plan, the warning signs that should bring him back sooner, and the follow-up appointment."
    )
    return "\n\n".join(f"VISIT {n}\n{paragraph} {paragraph}" for n in range(1, 7 * pages))


@pytest.fixture
def clinic(qtbot: QtBot, tmp_path: Path, models_dir: Path) -> tuple[ClinicApplication, dict[str, int]]:
    """The window on a store with the sample patient, the encounter open (each test shuts it: `shut`)."""
    ids = seed(tmp_path / "data", long_note(3))
    settings = ui_settings("scripted")
    settings.ui.clinic_name, settings.ui.doctor_name = CLINIC, DOCTOR
    app = make_app(qtbot, settings, tmp_path / "data", models_dir, tmp_path / "settings.toml", factories())
    unlock(qtbot, app)
    with qtbot.waitSignal(app.encounter.opened, timeout=10000):
        app.open_encounter(ids["encounter"])
    return app, ids


def show(qtbot: QtBot, app: ClinicApplication, note_id: int) -> None:
    with qtbot.waitSignal(app.drafts.show_note(note_id).ended, timeout=10000):
        pass


def export(qtbot: QtBot, app: ClinicApplication, path: Path) -> NoteDocument:
    with (
        qtbot.waitSignal(app.printing.document_ready, timeout=10000) as ready,
        qtbot.waitSignal(app.printing.pdf_written, timeout=20000),
    ):
        app.printing.export_pdf(path)
    assert app.presenter.history == []
    document: NoteDocument = ready.args[0]
    return document


def test_pdf_of_a_draft_and_of_an_accepted_letter(
    qtbot: QtBot, tmp_path: Path, clinic: tuple[ClinicApplication, dict[str, int]]
) -> None:
    app, ids = clinic
    show(qtbot, app, ids["draft"])
    draft_pdf = tmp_path / "out" / "draft.pdf"
    draft_pdf.parent.mkdir()
    export(qtbot, app, draft_pdf)
    assert draft_pdf.read_bytes().startswith(b"%PDF")
    assert draft_pdf.stat().st_mode & 0o777 == 0o600
    text = pdf_text(draft_pdf)
    for words in (CLINIC, DOCTOR, "Tredgold, Oswin", "4 March 1958", "447291", "Seen on 5 March 2026", "SOAP note",
                  "Version 1", "Community acquired pneumonia", "Page 1 of 1"):
        assert words in text, words
    assert "DRAFT: not accepted" in text and "Accepted on" not in text

    show(qtbot, app, ids["letter"])
    letter_pdf = tmp_path / "out" / "letter.pdf"
    export(qtbot, app, letter_pdf)
    assert letter_pdf.stat().st_mode & 0o777 == 0o600
    text = pdf_text(letter_pdf)
    assert CLINIC in text and "Tredgold, Oswin" in text and "Referral letter" in text
    assert re.search(r"Accepted on \d{1,2} [A-Z][a-z]+ 20\d\d", text)  # the day it was accepted
    assert "DRAFT" not in text

    # An edit not yet accepted is printed as what it is: a draft.
    app.window.answer.editor.setPlainText(LETTER + "\nP.S. Chest x-ray enclosed.")
    edited_pdf = tmp_path / "out" / "edited.pdf"
    document = export(qtbot, app, edited_pdf)
    assert document.draft and "edited since" in document.version
    assert "DRAFT" in pdf_text(edited_pdf)
    shut(qtbot, app)


def test_a_long_note_flows_over_numbered_pages_quickly(
    qtbot: QtBot, tmp_path: Path, clinic: tuple[ClinicApplication, dict[str, int]]
) -> None:
    app, ids = clinic
    show(qtbot, app, ids["long"])
    path = tmp_path / "long.pdf"
    document = export(qtbot, app, path)
    text = pdf_text(path)
    pages = text.count("Page ")
    assert pages >= 3 and f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text
    assert text.count("Tredgold, Oswin · born 4 Mar 1958 · MRN 447291") == pages  # every page says whose it is
    assert "VISIT 1 " in text and f"VISIT {7 * 3 - 1} " in text  # nothing lost between pages
    # Rendering runs on the GUI thread (QTextDocument's rule): it must stay well under a noticeable pause.
    pdf_bytes(document, page_layout())  # fonts loaded once, as after the first print of a session
    started = time.perf_counter()
    pdf_bytes(document, page_layout())
    elapsed_ms = (time.perf_counter() - started) * 1000
    print(f"\n{pages}-page note rendered in {elapsed_ms:.0f} ms")
    assert elapsed_ms < 1000
    shut(qtbot, app)


def test_printing_paints_the_same_page(
    qtbot: QtBot, tmp_path: Path, clinic: tuple[ClinicApplication, dict[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, ids = clinic
    show(qtbot, app, ids["draft"])
    exported = export(qtbot, app, tmp_path / "exported.pdf")

    printed_file = tmp_path / "printed.pdf"

    class PrintDialogStandIn:
        """What the print dialog hands back when the doctor presses Print: its printer, here writing a PDF file."""

        def __init__(self, printer: QPrinter, _parent: object) -> None:
            printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
            printer.setOutputFileName(str(printed_file))
            self.printer = printer
            self.accepted = self
            self.finished = self
            self._then: list[object] = []

        def connect(self, slot: object) -> None:
            self._then.append(slot)

        def setWindowModality(self, _modality: object) -> None:
            pass

        def setOptions(self, _options: object) -> None:
            pass

        def deleteLater(self) -> None:
            pass

        def show(self) -> None:
            self._then[0]()  # type: ignore[operator]

    monkeypatch.setattr(print_actions, "QPrintDialog", PrintDialogStandIn)
    with (
        qtbot.waitSignal(app.printing.document_ready, timeout=10000) as ready,
        qtbot.waitSignal(app.printing.printed, timeout=20000) as printed,
    ):
        app.window.actions_by_key["print_draft"].trigger()  # Ctrl+P, as wired in the window
    assert ready.args[0] == exported  # the same page, word for word
    assert printed.args[0] == 1
    assert printed_file.stat().st_mode & 0o777 == 0o600
    text = pdf_text(printed_file)
    assert "DRAFT" in text and "Tredgold, Oswin" in text and CLINIC in text
    shut(qtbot, app)


def test_export_pdf_action_asks_where_and_writes_there(
    qtbot: QtBot, tmp_path: Path, clinic: tuple[ClinicApplication, dict[str, int]]
) -> None:
    app, ids = clinic
    show(qtbot, app, ids["draft"])
    app.window.actions_by_key["export_pdf"].trigger()  # Ctrl+Shift+E
    dialog = next(d for d in app.window.findChildren(QFileDialog) if d.isVisible())
    assert dialog.defaultSuffix() == "pdf"
    target = tmp_path / "chosen.pdf"
    with qtbot.waitSignal(app.printing.pdf_written, timeout=20000) as written:
        dialog.fileSelected.emit(str(target))
        dialog.reject()
    assert written.args[0] == str(target) and target.read_bytes().startswith(b"%PDF")
    shut(qtbot, app)
