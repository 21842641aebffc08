"""A layout that places its items left to right and wraps them onto the next line when the width runs out.

Button rows use it so that a narrow pane (a 1,280 px laptop screen split three ways) shows every action on two
lines instead of forcing the whole window wider. Items whose horizontal size policy expands (a stretch, a
word-wrapped status label) share what is left of their line, so a stretch pushes what follows it to the right as
in a QHBoxLayout, also when that has wrapped onto the next line.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QSizePolicy, QSpacerItem, QStyle, QWidget

# All that placing a row depends on: the margins, spacings and direction; per item its identity, whether it is
# hidden, its size hint, minimum size and maximum width.
_Signature = tuple[
    tuple[int, int, int, int, int, int, bool],
    tuple[tuple[int, bool, tuple[int, int], tuple[int, int], int], ...],
]
_HEIGHTS_KEPT = 64


@dataclass
class _Placed:
    item: QLayoutItem
    width: int
    height: int = 0


class FlowLayout(QLayout):
    def __init__(self, parent: QWidget | None = None, h_spacing: int = -1, v_spacing: int = -1) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._h_spacing = h_spacing
        self._v_spacing = v_spacing
        # QLayout.activate() invalidates every layout in the window on each pass (a label's new text anywhere
        # relayouts all of them), so these caches are keyed on what the items ask for, not cleared by invalidate():
        # an unchanged row is then neither measured nor placed again in Python while the window streams an answer.
        self._heights: dict[tuple[int, _Signature], int] = {}
        self._placed: tuple[tuple[int, int, int, int], _Signature] | None = None

    # -- building ------------------------------------------------------------------------------------------------
    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)
        self._forget()
        self.invalidate()

    def add_stretch(self) -> None:
        """Like QHBoxLayout.addStretch: takes the rest of its line, pushing what follows on that line right."""
        self.addItem(QSpacerItem(0, 0, QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum))

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # type: ignore[override]
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # type: ignore[override]
        if not 0 <= index < len(self._items):
            return None
        item = self._items.pop(index)
        self._forget()
        self.invalidate()
        return item

    def _forget(self) -> None:
        """A removed item's id may be reused by the next one added: nothing cached survives a change of items."""
        self._heights.clear()
        self._placed = None

    def _signature(self) -> _Signature:
        margins = self.contentsMargins()
        parent = self.parentWidget()
        mirrored = parent is not None and parent.layoutDirection() == Qt.LayoutDirection.RightToLeft
        return (
            (margins.left(), margins.top(), margins.right(), margins.bottom(), self.horizontal_spacing(),
             self.vertical_spacing(), mirrored),
            tuple(
                (id(item), item.isEmpty(), item.sizeHint().toTuple(), item.minimumSize().toTuple(),
                 item.maximumSize().width())
                for item in self._items
            ),
        )

    # -- spacing -------------------------------------------------------------------------------------------------
    def horizontal_spacing(self) -> int:
        if self._h_spacing >= 0:
            return self._h_spacing
        return self._smart_spacing(QStyle.PixelMetric.PM_LayoutHorizontalSpacing)

    def vertical_spacing(self) -> int:
        if self._v_spacing >= 0:
            return self._v_spacing
        return self._smart_spacing(QStyle.PixelMetric.PM_LayoutVerticalSpacing)

    def _smart_spacing(self, metric: QStyle.PixelMetric) -> int:
        parent = self.parent()
        if isinstance(parent, QWidget):
            return max(0, parent.style().pixelMetric(metric, None, parent))
        if isinstance(parent, QLayout):
            return max(0, parent.spacing())
        return 6

    # -- sizes ---------------------------------------------------------------------------------------------------
    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        key = (width, self._signature())
        height = self._heights.get(key)
        if height is None:
            if len(self._heights) >= _HEIGHTS_KEPT:  # widths seen while the doctor drags a splitter
                self._heights.clear()
            height = self._heights[key] = self._arrange(QRect(0, 0, width, 0), apply=False)
        return height

    def minimumSize(self) -> QSize:
        """As narrow as the widest item: everything else can move to another line."""
        size = QSize()
        for item in self._visible():
            size = size.expandedTo(item.minimumSize())
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    def sizeHint(self) -> QSize:
        """Everything on one line, as a QHBoxLayout would want it."""
        items = self._visible()
        width = self._line_width([_Placed(item, item.sizeHint().width()) for item in items], self.horizontal_spacing())
        height = max((item.sizeHint().height() for item in items), default=0)
        margins = self.contentsMargins()
        return QSize(width + margins.left() + margins.right(), height + margins.top() + margins.bottom())

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        placed = ((rect.x(), rect.y(), rect.width(), rect.height()), self._signature())
        if placed != self._placed:
            self._arrange(rect, apply=True)
            self._placed = placed

    # -- placing -------------------------------------------------------------------------------------------------
    def _visible(self) -> list[QLayoutItem]:
        return [item for item in self._items if not item.isEmpty() or item.spacerItem() is not None]

    def _lines(self, available: int) -> list[list[_Placed]]:
        spacing = self.horizontal_spacing()
        lines: list[list[_Placed]] = [[]]
        for item in self._visible():
            hint, least, most = item.sizeHint().width(), item.minimumSize().width(), item.maximumSize().width()
            placed = _Placed(item, max(least, min(hint, most, available)))
            if lines[-1] and self._line_width([*lines[-1], placed], spacing) > available:
                # What follows a stretch stays on the right on whatever line it lands: the stretch goes down too.
                stretch = next((p.item for p in lines[-1] if p.item.spacerItem() is not None), None)
                if stretch is not None and lines[-1][-1].item is stretch:
                    lines[-1].pop()
                lines.append([] if stretch is None else [_Placed(stretch, 0)])
            lines[-1].append(placed)
        for line in lines:
            self._share_leftover(line, available - self._line_width(line, spacing))
        return [line for line in lines if line]

    @staticmethod
    def _offsets(line: list[_Placed], spacing: int) -> list[int]:
        """Where each item starts. As in a QHBoxLayout, a stretch takes no spacing before or after it."""
        offsets: list[int] = []
        x, after_widget = 0, False
        for placed in line:
            is_stretch = placed.item.spacerItem() is not None
            if after_widget and not is_stretch:
                x += spacing
            offsets.append(x)
            x += placed.width
            after_widget = after_widget or not is_stretch
        return offsets

    @classmethod
    def _line_width(cls, line: list[_Placed], spacing: int) -> int:
        return cls._offsets(line, spacing)[-1] + line[-1].width if line else 0

    @staticmethod
    def _share_leftover(line: list[_Placed], leftover: int) -> None:
        growing = [p for p in line if p.item.expandingDirections() & Qt.Orientation.Horizontal]
        while leftover > 0 and growing:
            share = max(1, leftover // len(growing))
            for placed in list(growing):
                extra = max(0, min(share, placed.item.maximumSize().width() - placed.width, leftover))
                placed.width += extra
                leftover -= extra
                if extra < share:
                    growing.remove(placed)
                if leftover <= 0:
                    break

    def _arrange(self, rect: QRect, apply: bool) -> int:
        """Lay the items out in `rect` (or only measure), returning the height they need."""
        margins = self.contentsMargins()
        spacing, line_gap = self.horizontal_spacing(), self.vertical_spacing()
        parent = self.parentWidget()
        direction = parent.layoutDirection() if parent is not None else Qt.LayoutDirection.LeftToRight
        if direction == Qt.LayoutDirection.RightToLeft:  # as in Qt's box layouts, "left" is the leading side
            margins = QMargins(margins.right(), margins.top(), margins.left(), margins.bottom())
        area = rect.marginsRemoved(margins)
        y = area.y()
        for number, line in enumerate(self._lines(max(1, area.width()))):
            for placed in line:
                item = placed.item
                placed.height = (
                    item.heightForWidth(placed.width) if item.hasHeightForWidth() else item.sizeHint().height()
                )
                placed.height = max(placed.height, item.minimumSize().height())
            line_height = max(p.height for p in line)
            if number:
                y += line_gap
            if apply:
                for placed, offset in zip(line, self._offsets(line, spacing), strict=True):
                    # Centred in the line: a check box beside a taller button lines up with the button's text.
                    top_left = QPoint(area.x() + offset, y + (line_height - placed.height) // 2)
                    box = QRect(top_left, QSize(placed.width, placed.height))
                    placed.item.setGeometry(QStyle.visualRect(direction, area, box))
            y += line_height
        return y - area.y() + margins.top() + margins.bottom()
