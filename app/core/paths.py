"""Where things live: shipped resources, models, and the user's data, config and log directories.

Frozen-aware: in a PyInstaller bundle resources sit in the bundle's data directory and `models/` sits beside the
executable (models are never inside the bundle). In a source checkout both sit at the repository root.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "clinic-assistant"


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def install_root() -> Path:
    """The directory that holds `resources/` (the checkout root, or the bundle's data directory)."""
    if is_frozen():
        return Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent))
    return Path(__file__).resolve().parents[2]


def resources_dir() -> Path:
    return install_root() / "resources"


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


def default_models_dir() -> Path:
    """`models/` beside the executable or checkout if it exists, else one in the user data directory."""
    beside = (Path(sys.executable).parent if is_frozen() else install_root()) / "models"
    if beside.is_dir():
        return beside
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "models"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_config_file() -> Path:
    env = os.environ.get("CLINIC_CONFIG_FILE")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "settings.toml"


def log_dir(data_dir: Path) -> Path:
    """Logs live under the data directory so `--data-dir` moves everything the app writes."""
    return data_dir / "logs"


def bundled_wheelhouse() -> Path | None:
    """A `wheelhouse/` shipped beside the bundle: model packages for an offline `models install`."""
    root = Path(sys.executable).parent if is_frozen() else install_root()
    candidate = root / "wheelhouse"
    return candidate if candidate.is_dir() else None
