"""Light and dark palettes. 'system' follows the desktop (Qt >= 6.5 tracks the platform's colour scheme by itself);
'light'/'dark' ask the platform for that scheme and, where it cannot switch (a bare X server, some desktops), apply
an explicit Fusion palette so the choice always takes effect."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

_DARK = {
    QPalette.ColorRole.Window: "#2b2d30",
    QPalette.ColorRole.WindowText: "#e6e6e6",
    QPalette.ColorRole.Base: "#1e1f22",
    QPalette.ColorRole.AlternateBase: "#2b2d30",
    QPalette.ColorRole.ToolTipBase: "#3c3f41",
    QPalette.ColorRole.ToolTipText: "#e6e6e6",
    QPalette.ColorRole.PlaceholderText: "#8c8c8c",
    QPalette.ColorRole.Text: "#e6e6e6",
    QPalette.ColorRole.Button: "#3c3f41",
    QPalette.ColorRole.ButtonText: "#e6e6e6",
    QPalette.ColorRole.BrightText: "#ff6b68",
    QPalette.ColorRole.Link: "#6fb3ff",
    QPalette.ColorRole.Highlight: "#2f65ca",
    QPalette.ColorRole.HighlightedText: "#ffffff",
}


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in _DARK.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))
    return palette


def apply_theme(theme: str) -> None:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    wanted = {"dark": Qt.ColorScheme.Dark, "light": Qt.ColorScheme.Light}.get(theme, Qt.ColorScheme.Unknown)
    hints = app.styleHints()
    hints.setColorScheme(wanted)
    if wanted == Qt.ColorScheme.Unknown or hints.colorScheme() == wanted:
        app.setPalette(QPalette())  # the platform's own palette
        return
    fusion = QStyleFactory.create("Fusion")
    if fusion is None:
        return
    app.setStyle(fusion)
    app.setPalette(dark_palette() if wanted == Qt.ColorScheme.Dark else fusion.standardPalette())


_BASE_POINT_SIZE: list[float] = []


def apply_font_scale(scale: float) -> None:
    """Text size relative to the system's (settings: ui.font_scale)."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    font = app.font()
    if not _BASE_POINT_SIZE:
        _BASE_POINT_SIZE.append(font.pointSizeF())
    font.setPointSizeF(_BASE_POINT_SIZE[0] * scale)
    app.setFont(font)
