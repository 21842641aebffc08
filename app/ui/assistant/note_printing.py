"""Render a `NoteDocument` (app/core/services/note_document.py) on paper: a PDF or a printer, the same pages.

A `QTextDocument` lays the header and the body out in page-sized slices (a line is never cut between pages); each
page then gets, painted around its slice, a light diagonal DRAFT watermark when the note is not accepted, and a foot
line with who the page is about and "Page 1 of 2". Sizes are in points, so the layout is the same at any resolution.

Rendering uses QTextDocument and QPainter, which belong on the GUI thread; a three-page note takes a few tens of
milliseconds (see tests/ui/test_note_printing.py). The PDF is rendered into memory: the file is written on a
worker lane, so a slow or full disk never holds up the window.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QBuffer, QIODevice, QLocale, QMarginsF, QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
    QTextDocument,
)

from app.core.errors import AppError
from app.core.services.note_document import DRAFT_MARK, NoteDocument

PAGE_MARGINS_MM = QMarginsF(20, 16, 20, 14)  # left, top, right, bottom: room for a hole punch and a printer's edge
PDF_DPI = 300
BODY_POINTS = 10.5
FOOT_POINTS = 8.0
FONT_FAMILIES = ["DejaVu Sans", "Noto Sans", "Liberation Sans", "Segoe UI", "Arial", "Helvetica"]
WATERMARK = QColor(190, 30, 30, 34)  # light enough to read the note through it
_DRAFT_BANNER = ("#fff3cd", "#4d3800", "#c9a227")  # background, text, border: the window's draft colours
_ACCEPTED_BANNER = ("#dcefe0", "#1b4d27", "#7fb48c")


def page_layout(locale: QLocale | None = None) -> QPageLayout:
    """Letter where the locale measures in inches (the United States), A4 elsewhere; portrait, with margins."""
    locale = locale or QLocale.system()
    us = locale.measurementSystem() == QLocale.MeasurementSystem.ImperialUSSystem
    size = QPageSize(QPageSize.PageSizeId.Letter if us else QPageSize.PageSizeId.A4)
    return QPageLayout(size, QPageLayout.Orientation.Portrait, PAGE_MARGINS_MM, QPageLayout.Unit.Millimeter)


def page_font(points: float, bold: bool = False) -> QFont:
    font = QFont()
    font.setFamilies(FONT_FAMILIES)  # the first one installed; Qt falls back to any for a missing glyph
    font.setPointSizeF(points)
    font.setBold(bold)
    for tag in ("liga", "clig"):
        # Without ligatures every word of the PDF can be searched and copied as typed ("fi" stays two letters).
        font.setFeature(QFont.Tag(tag), 0)
    return font


def _px(points: float) -> str:
    """Spacing in Qt's rich text is in pixels of a 96 dpi screen (it takes no points there), scaled to the paper."""
    return f"{points * 96 / 72:.0f}"


def document_html(document: NoteDocument) -> str:
    """The first page's header and the body, as the rich text QTextDocument reads. Every text is escaped."""
    px = _px

    parts: list[str] = []
    if document.letterhead:
        clinic, *rest = document.letterhead
        parts.append(f'<p style="margin:0; font-size:15pt; font-weight:700">{escape(clinic)}</p>')
        parts += [f'<p style="margin:0; font-size:11pt">{escape(line)}</p>' for line in rest]
        parts.append("<hr/>")
    cells = [
        f'<td style="padding-right:{px(6)}px; color:#555555">{escape(i.label)}</td>'
        f'<td nowrap style="padding-right:{px(24)}px; font-weight:600">{escape(i.value)}</td>'
        for i in document.identifiers
    ]
    rows = "".join(f"<tr>{''.join(cells[n:n + 2])}</tr>" for n in range(0, len(cells), 2))
    parts.append(
        f'<table width="100%" cellspacing="0" cellpadding="{px(2)}" '
        f'style="margin-top:{px(8)}px; margin-bottom:{px(2)}px">{rows}</table>'
    )
    parts.append(
        f'<p style="margin-top:{px(10)}px; margin-bottom:0; font-size:14pt; font-weight:700">{escape(document.title)}'
        f'<span style="font-size:10pt; font-weight:400; color:#555555">&nbsp;&nbsp;{escape(document.version)}</span>'
        "</p>"
    )
    background, foreground, border = _DRAFT_BANNER if document.draft else _ACCEPTED_BANNER
    parts.append(
        f'<table width="100%" cellspacing="0" cellpadding="{px(5)}" border="1" bgcolor="{background}" '
        f'style="border-color:{border}; border-style:solid; margin-top:{px(6)}px; margin-bottom:{px(8)}px">'
        f'<tr><td><span style="color:{foreground}; font-weight:700">{escape(document.status)}</span></td></tr>'
        "</table>"
    )
    for block in document.body:
        if block.heading:
            style = f"margin-top:{px(9)}px; margin-bottom:{px(2)}px; font-weight:700"
        else:
            style = f"margin-top:0; margin-bottom:{px(4)}px; white-space:pre-wrap"
        parts.append(f'<p style="{style}">{escape(block.text)}</p>')
    return "".join(parts)


def _text_document(document: NoteDocument, device: QPagedPaintDevice, width: float, height: float) -> QTextDocument:
    text = QTextDocument()
    text.documentLayout().setPaintDevice(device)  # points are measured on the paper, not on the screen
    text.setDefaultFont(page_font(BODY_POINTS))
    text.setDocumentMargin(0)
    text.setHtml(document_html(document))
    text.setPageSize(QSizeF(width, height))
    return text


def paint(document: NoteDocument, device: QPagedPaintDevice) -> int:
    """Paint every page of `document` on `device` (a QPdfWriter or a QPrinter, its page layout already set).
    Returns the number of pages."""
    painter = QPainter()
    if not painter.begin(device):
        raise AppError("The printer could not be used", "Check that it is switched on and connected, then try again")
    try:
        area = device.pageLayout().paintRectPixels(device.logicalDpiX())
        width, full_height = float(area.width()), float(area.height())
        foot_font = page_font(FOOT_POINTS)
        foot = QFontMetricsF(foot_font, device)
        foot_height = foot.lineSpacing() * 2.2
        body_height = full_height - foot_height
        text = _text_document(document, device, width, body_height)
        pages = max(1, text.pageCount())
        for index in range(pages):
            if index:
                device.newPage()
            if document.draft:
                _watermark(painter, width, full_height)
            painter.save()
            painter.translate(0, -index * body_height)
            text.drawContents(painter, QRectF(0, index * body_height, width, body_height))
            painter.restore()
            _foot(painter, document, foot_font, foot, QRectF(0, body_height, width, foot_height), index + 1, pages)
        return pages
    finally:
        painter.end()


def _watermark(painter: QPainter, width: float, height: float) -> None:
    painter.save()
    font = page_font(96, bold=True)
    painter.setFont(font)
    painter.setPen(WATERMARK)
    painter.translate(width / 2, height / 2)
    painter.rotate(-45)
    span = QFontMetricsF(font, painter.device()).horizontalAdvance(DRAFT_MARK)
    painter.drawText(QRectF(-span, -height / 4, span * 2, height / 2), Qt.AlignmentFlag.AlignCenter, DRAFT_MARK)
    painter.restore()


def _foot(
    painter: QPainter, document: NoteDocument, font: QFont, metrics: QFontMetricsF, area: QRectF, page: int, pages: int
) -> None:
    painter.save()
    painter.setPen(QPen(QColor("#999999"), max(1.0, metrics.lineWidth())))
    top = area.top() + metrics.lineSpacing() * 0.6
    painter.drawLine(QPointF(area.left(), top), QPointF(area.right(), top))
    painter.setFont(font)
    painter.setPen(QColor("#444444"))
    line = QRectF(area.left(), top + metrics.lineSpacing() * 0.3, area.width(), metrics.lineSpacing() * 1.2)
    who = document.running_line + (f" · {DRAFT_MARK}, not accepted" if document.draft else "")
    number = f"Page {page} of {pages}"
    room = area.width() - metrics.horizontalAdvance(number) - metrics.averageCharWidth() * 4
    painter.drawText(line, Qt.AlignmentFlag.AlignLeft, metrics.elidedText(who, Qt.TextElideMode.ElideRight, room))
    painter.drawText(line, Qt.AlignmentFlag.AlignRight, number)
    painter.restore()


def pdf_bytes(document: NoteDocument, layout: QPageLayout | None = None) -> bytes:
    """The PDF in memory (no temporary file holds the patient's note): written to disk by the caller."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setResolution(PDF_DPI)
    writer.setPageLayout(layout or page_layout())
    writer.setCreator("Clinic Assistant")
    writer.setTitle(document.title)
    paint(document, writer)
    del writer  # the PDF's trailer is complete once the painter has ended; the buffer holds the whole file
    data = bytes(buffer.data().data())
    buffer.close()
    return data
