"""The only package that imports PySide6: composition root, main window, controllers, widgets, workers."""
