"""Architecture and lint gates, run with the rest of the suite so CI enforces them."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*cmd: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_import_contracts_hold() -> None:
    proc = _run(str(BIN / "lint-imports"))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _contracts_on_a_copy_with(tmp_path: Path, module: str, source: str) -> subprocess.CompletedProcess[str]:
    """lint-imports on a copy of the tree with one extra module: the contracts must have teeth."""
    copy = tmp_path / "repo"
    shutil.copytree(REPO / "app", copy / "app", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", copy / "pyproject.toml")
    (copy / module).write_text(textwrap.dedent(source))
    return subprocess.run(
        [str(BIN / "lint-imports")],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=600,
        env={"PYTHONPATH": str(copy), "PATH": str(BIN)},
    )


def test_import_contract_fails_when_core_imports_qt(tmp_path: Path) -> None:
    proc = _contracts_on_a_copy_with(tmp_path, "app/core/sneaky.py", "from PySide6 import QtCore\n")
    assert proc.returncode != 0 and "BROKEN" in proc.stdout


def test_import_contract_fails_when_the_window_loads_an_engine_itself(tmp_path: Path) -> None:
    proc = _contracts_on_a_copy_with(tmp_path, "app/ui/sneaky.py", "from app.core.redact.engine import SpacyRedactor\n")
    assert proc.returncode != 0 and "app.ui is not allowed to import app.core.redact.engine" in proc.stdout


def test_ruff_is_clean() -> None:
    proc = _run(str(BIN / "ruff"), "check", "app", "tests", "bench")
    assert proc.returncode == 0, proc.stdout[-4000:]


def test_mypy_is_clean() -> None:
    proc = _run(str(BIN / "mypy"))
    assert proc.returncode == 0, proc.stdout[-4000:]


# The Qt modules PySide6-Essentials ships. The app depends on Essentials only: PySide6-Addons (QtMultimedia, QtPdf,
# ...) added ~35 MB to the bundle, a second FFmpeg among it, for nothing the app used.
ESSENTIALS = frozenset({
    "QtConcurrent", "QtCore", "QtDBus", "QtDesigner", "QtGui", "QtHelp", "QtNetwork", "QtOpenGL", "QtOpenGLWidgets",
    "QtPrintSupport", "QtQml", "QtQuick", "QtQuickControls2", "QtQuickTest", "QtQuickWidgets", "QtSql", "QtSvg",
    "QtSvgWidgets", "QtTest", "QtUiTools", "QtWidgets", "QtXml",
})


def test_the_app_uses_only_the_qt_modules_of_pyside6_essentials() -> None:
    import ast

    used: dict[str, str] = {}
    for path in sorted((REPO / "app").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == "PySide6" and len(parts) > 1 and parts[1].startswith("Qt"):
                    used.setdefault(parts[1], str(path.relative_to(REPO)))
    assert "QtWidgets" in used  # the scan sees the imports
    assert {m: p for m, p in used.items() if m not in ESSENTIALS} == {}
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert "PySide6-Addons" not in pyproject and "PySide6_Addons" not in pyproject
