"""CLI tests run with a settings file present (empty: the defaults).

The suite-wide fixture points CLINIC_CONFIG_FILE at a file that does not exist; a named settings file that is missing
is announced on stderr (see `LoadedSettings.missing_file_notice`), which would add a line to every command's stderr
here. Tests of that notice remove the file or name another one.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def settings_file_present(isolated_app_dirs: Path) -> Path:
    path = Path(os.environ["CLINIC_CONFIG_FILE"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    return path
