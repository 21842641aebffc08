"""The Qt-free core: engines, storage, services. Never imports PySide6 (import-linter contract)."""
