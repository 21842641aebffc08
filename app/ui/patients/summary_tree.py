"""The patient summary as a tree: one branch per section, each item a fact with the date it was noted. Activating an
item (Enter, or a click) opens the note it came from; marked items (notes of the same day that disagree, a medicine
the patient is allergic to, an overdue follow-up) carry a sign and a tinted background, and their reason as tooltip.

Long items wrap instead of being cut: the text column takes the width left by the date column, and rows are laid
out again when that width changes.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from app.core.summary.items import NoteRef, Source
from app.ui.patients.summary_rows import Row, Section

LINK_ROLE = Qt.ItemDataRole.UserRole + 2
SECTION_ROLE = Qt.ItemDataRole.UserRole + 3
MARK = "⚠ "
# Translucent, so it reads on light and dark palettes; the sign says it too (not colour alone).
MARKED_BACKGROUND = QColor(255, 152, 0, 55)


class _WrappingDelegate(QStyledItemDelegate):
    """Row heights that fit the wrapped text at the column's present width."""

    def __init__(self, tree: QTreeWidget) -> None:
        super().__init__(tree)
        self.tree = tree

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        hint = super().sizeHint(option, index)
        if index.column() != 0:
            return hint
        depth, parent = 0, index.parent()
        while parent.isValid():
            depth, parent = depth + 1, parent.parent()
        indent = self.tree.indentation() * (depth + (1 if self.tree.rootIsDecorated() else 0))
        width = self.tree.header().sectionSize(0) - indent - 12
        font = index.data(Qt.ItemDataRole.FontRole)
        metrics = QFontMetrics(font if isinstance(font, QFont) else option.font)
        text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        height = metrics.boundingRect(0, 0, max(width, 40), 10_000, Qt.TextFlag.TextWordWrap, text).height()
        return QSize(hint.width(), max(hint.height(), height + 6))


class SummaryTree(QTreeWidget):
    link_activated = Signal(object)  # Source (a sentence of a note) or NoteRef (a whole note)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("patientSummaryTree")
        self.setAccessibleName("Patient summary")
        self.setColumnCount(2)
        self.setHeaderLabels(["Summary of the accepted notes", "Noted"])
        self.setWordWrap(True)
        self.setUniformRowHeights(False)
        self.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setItemDelegate(_WrappingDelegate(self))
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.sectionResized.connect(self._column_resized)
        self.itemActivated.connect(self._activated)
        self.itemClicked.connect(self._activated)

    def _column_resized(self, column: int, _old: int, _new: int) -> None:
        if column == 0:
            self.scheduleDelayedItemsLayout()  # wrapped rows change height with the text column's width

    def show_sections(self, sections: list[Section]) -> None:
        self.clear()
        bold = QFont(self.font())
        bold.setBold(True)
        for section in sections:
            top = QTreeWidgetItem([section.heading, ""])
            top.setFont(0, bold)
            top.setData(0, SECTION_ROLE, section.key)
            top.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.addTopLevelItem(top)
            if not section.rows:
                empty = QTreeWidgetItem([section.empty, ""])
                empty.setFlags(Qt.ItemFlag.ItemIsEnabled)
                top.addChild(empty)
            for row in section.rows:
                self._add(top, row)
            top.setExpanded(section.expanded)
        self.scheduleDelayedItemsLayout()

    def _add(self, parent: QTreeWidgetItem, row: Row) -> None:
        item = self._item(row)
        parent.addChild(item)
        for child in row.children:
            self._add(item, child)
        item.setExpanded(row.expanded)  # only once in the tree: an item outside one does not keep it

    def _item(self, row: Row) -> QTreeWidgetItem:
        item = QTreeWidgetItem([(MARK if row.warning else "") + row.text, row.when])
        item.setData(0, LINK_ROLE, row.link)
        tip = row.tip
        for column in (0, 1):
            item.setToolTip(column, tip)
            if row.warning:
                item.setBackground(column, QBrush(MARKED_BACKGROUND))
        item.setData(0, Qt.ItemDataRole.AccessibleDescriptionRole, tip)
        return item

    def _activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        link = item.data(0, LINK_ROLE)
        if isinstance(link, (Source, NoteRef)):
            self.link_activated.emit(link)

    def section(self, key: str) -> QTreeWidgetItem | None:
        for i in range(self.topLevelItemCount()):
            item = self.topLevelItem(i)
            if item is not None and item.data(0, SECTION_ROLE) == key:
                return item
        return None

