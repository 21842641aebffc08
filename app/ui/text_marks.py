"""Character formats shared by the text views: low-confidence words, tentative text, identifier kinds.

Colours are chosen to read on both light and dark palettes (they mark with underline and a translucent
background, never by changing the text colour alone, so the marking does not depend on colour vision only)."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor, QTextDocument

LOW_CONFIDENCE_TIP = "Recognised with low confidence: check this word"


def low_confidence_format() -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
    fmt.setUnderlineColor(QColor("#e65100"))
    fmt.setBackground(QColor(255, 152, 0, 60))
    fmt.setToolTip(LOW_CONFIDENCE_TIP)
    return fmt


def tentative_format(palette_text: QColor) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setFontItalic(True)
    muted = QColor(palette_text)
    muted.setAlpha(140)
    fmt.setForeground(muted)
    return fmt


def insert_marked(
    cursor: QTextCursor, text: str, spans: Iterable[tuple[int, int]], mark: QTextCharFormat, base: QTextCharFormat
) -> None:
    """Insert `text` at the cursor, with `mark` on the [start, end) `spans` (offsets into `text`)."""
    pos = 0
    for start, end in sorted(spans):
        start, end = max(start, pos), min(end, len(text))
        if start >= end:
            continue
        cursor.insertText(text[pos:start], base)
        cursor.insertText(text[start:end], mark)
        pos = end
    cursor.insertText(text[pos:], base)


def marked_ranges(document: QTextDocument, tooltip: str) -> list[tuple[int, int]]:
    """Document ranges whose format carries `tooltip` (how tests and the review find low-confidence words)."""
    ranges: list[tuple[int, int]] = []
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.isValid() and fragment.charFormat().toolTip() == tooltip:
                ranges.append((fragment.position(), fragment.position() + fragment.length()))
            it += 1
        block = block.next()
    return ranges
