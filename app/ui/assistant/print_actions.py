"""Print the note or letter shown, or save it as a PDF (Draft → Print…, Export as PDF…).

Both read the same page from the store (`note_document`, on the store lane: the patient's identifiers, the encounter's
date, the note's version and whether it is accepted) and render it the same way (note_printing.py) — on a printer
chosen in the print dialog, or into a PDF that a worker lane writes, owner-only, where the doctor chose. What is
printed is the text shown, edits included; anything but the accepted version as stored carries the DRAFT marks.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtPrintSupport import QAbstractPrintDialog, QPrintDialog, QPrinter
from PySide6.QtWidgets import QFileDialog

from app.core.services.note_document import Letterhead, NoteDocument, note_document, write_private_file
from app.ui.assistant.answer_panel import AnswerPanel, AnswerState
from app.ui.assistant.note_actions import NoteActions
from app.ui.assistant.note_printing import page_layout, paint, pdf_bytes
from app.ui.engines import EngineHub
from app.ui.errors import ErrorPresenter
from app.ui.workers import Job

NOTHING_TO_PRINT = "Open a note or letter first: there is nothing to print."
STILL_WRITING = "Wait until the draft is finished, then print it."


class NotePrinting(QObject):
    document_ready = Signal(object)  # NoteDocument: the page about to be rendered (printer or PDF)
    pdf_written = Signal(str)  # the file's path
    printed = Signal(int)  # pages sent to the printer

    def __init__(self, hub: EngineHub, presenter: ErrorPresenter, answer: AnswerPanel, notes: NoteActions) -> None:
        super().__init__()
        self.hub = hub
        self.presenter = presenter
        self.answer = answer
        self.notes = notes
        self._printer: QPrinter | None = None  # kept alive while its dialog is open and the pages are painted

    # -- what is printed -----------------------------------------------------------------------------------------
    def _prepare(self, doing: str, then: Callable[[NoteDocument], None]) -> Job | None:
        """Read the page for the text shown now (on the store lane), then hand it to `then` on the GUI thread."""
        encounter_id, current, text = self.notes.encounter_id, self.notes.current, self.answer.text()
        if self.answer.state == AnswerState.WRITING:
            self.presenter.notify(STILL_WRITING)
            return None
        if encounter_id is None or not text.strip():
            self.presenter.notify(NOTHING_TO_PRINT)
            return None
        note_id = current.note_id if current is not None else None
        title = self.answer.kind
        ui = self.hub.settings.ui
        letterhead = Letterhead(ui.clinic_name, ui.doctor_name)
        job = self.hub.run(
            "store",
            lambda store, _t: note_document(store.repositories(), encounter_id, note_id, text, title, letterhead),
            "preparing the page",
        )

        def ready(document: NoteDocument) -> None:
            self.document_ready.emit(document)
            try:
                then(document)
            except Exception as exc:  # a printer that vanished, a page that could not be painted
                self.presenter.present(exc, doing)

        job.finished.connect(ready)
        job.failed.connect(lambda exc: self.presenter.present(exc, doing))
        return job

    # -- PDF -----------------------------------------------------------------------------------------------------
    def choose_pdf(self) -> QFileDialog | None:
        if self.answer.state == AnswerState.WRITING or not self.answer.text().strip():
            self.presenter.notify(STILL_WRITING if self.answer.state == AnswerState.WRITING else NOTHING_TO_PRINT)
            return None
        name = f"{(self.answer.kind or 'note').lower().replace(' ', '-')}-{date.today().isoformat()}.pdf"
        dialog = QFileDialog(self.answer.window(), "Save as PDF", str(Path.home() / name), "PDF (*.pdf)")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("pdf")
        dialog.fileSelected.connect(lambda chosen: self.export_pdf(Path(chosen)))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def export_pdf(self, path: Path) -> Job | None:
        """Render the page into memory here, write the file (0600) on the tools lane."""

        def write(document: NoteDocument) -> None:
            data = pdf_bytes(document, page_layout())
            job = self.hub.run_on("tools", lambda _t: write_private_file(path, data), "saving the PDF")
            job.finished.connect(lambda _v: self._written(path))
            job.failed.connect(lambda exc: self.presenter.present(exc, "saving the PDF"))

        return self._prepare("saving the PDF", write)

    def _written(self, path: Path) -> None:
        self.presenter.notify(f"Saved the PDF to {path}.")
        self.pdf_written.emit(str(path))

    # -- printer -------------------------------------------------------------------------------------------------
    def choose_printer(self) -> QPrintDialog | None:
        if self.answer.state == AnswerState.WRITING or not self.answer.text().strip():
            self.presenter.notify(STILL_WRITING if self.answer.state == AnswerState.WRITING else NOTHING_TO_PRINT)
            return None
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setPageLayout(page_layout())
        printer.setDocName(self.answer.kind or "Note")
        printer.setCreator("Clinic Assistant")
        self._printer = printer
        dialog = QPrintDialog(printer, self.answer.window())
        # The whole note is always printed: no page range, selection or current page to offer.
        options = QAbstractPrintDialog.PrintDialogOption
        dialog.setOptions(options.PrintToFile | options.PrintShowPageSize | options.PrintCollateCopies)
        dialog.accepted.connect(lambda: self.print_to(printer))
        dialog.finished.connect(dialog.deleteLater)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)  # what QDialog.open() does (QPrintDialog hides it)
        dialog.show()
        return dialog

    def print_to(self, printer: QPrinter) -> Job | None:
        """Paint the page on `printer` as the print dialog set it up (or as a test did: a PDF file)."""
        self._printer = printer

        def send(document: NoteDocument) -> None:
            if printer.outputFormat() == QPrinter.OutputFormat.PdfFormat and printer.outputFileName():
                _owner_only(Path(printer.outputFileName()))
            pages = paint(document, printer)
            self.presenter.notify(f"Sent {pages} page{'s' if pages != 1 else ''} to the printer.")
            self.printed.emit(pages)

        return self._prepare("printing", send)


def _owner_only(path: Path) -> None:
    """Qt's "Print to file" writes with the usual permissions (readable by every account): made owner-only (0600)
    before Qt opens it, the file keeps that mode through the truncation, so the note is never readable by others."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)
        finally:
            os.close(fd)
