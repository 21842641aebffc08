"""Take change-passphrase.png: File → Change passphrase, after a wrong current passphrase, on a throw-away store.

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python docs/screenshots/take_passphrase_screenshot.py

The store holds the sample dictation's fictitious patient only; no model is loaded. The new passphrase typed is the one
the Change passphrase test chooses.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
OUT = Path(__file__).resolve().parent / "change-passphrase.png"

from PySide6.QtCore import QEventLoop  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.core.storage.store import Store  # noqa: E402
from app.ui.application import ClinicApplication  # noqa: E402
from app.ui.engines import EngineFactories  # noqa: E402
from tests.ui.support import FAST_KDF, PASSPHRASE, ui_settings  # noqa: E402

NEW_PASSPHRASE = "copper lantern violet harbour 77"


def wait_until(app: QApplication, condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not reach the expected state")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    os.environ.setdefault("CLINIC_STORAGE__DATA_DIR", tempfile.mkdtemp(prefix="clinic-shots-logs-"))
    app = QApplication(sys.argv[:1])
    root = Path(tempfile.mkdtemp(prefix="clinic-shots-"))
    with Store(root / "data", kdf_iterations=FAST_KDF) as store:
        store.create(PASSPHRASE)
        store.repositories().patients.add("Tredgold", "Oswin", mrn="447291")
    factories = EngineFactories(store=lambda _s, d, _m: Store(d, kdf_iterations=FAST_KDF))
    clinic = ClinicApplication(ui_settings("tiny"), root / "settings.toml", root / "data", REPO / "models", factories)
    clinic.start()
    wait_until(app, lambda: clinic.session.unlock_dialog is not None and clinic.session.unlock_dialog.isVisible())
    unlock = clinic.session.unlock_dialog
    assert unlock is not None
    unlock.passphrase.setText(PASSPHRASE)
    unlock.unlock_button.click()
    wait_until(app, lambda: clinic.session.is_unlocked)
    dialog = clinic.session.change_passphrase()
    assert dialog is not None
    dialog.current.setText("not the current one")
    dialog.fields.first.setText(NEW_PASSPHRASE)
    dialog.fields.second.setText(NEW_PASSPHRASE)
    dialog.change_button.click()
    wait_until(app, lambda: dialog.problem.isVisible())
    wait_until(app, lambda: dialog.isVisible() and dialog.height() >= dialog.heightForWidth(dialog.width()))
    dialog.grab().save(str(OUT))
    print("wrote", OUT.name)
    clinic.shutdown()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
