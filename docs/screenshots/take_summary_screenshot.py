"""Take patient-summary.png: the patient view of a patient built from three accepted notes, at 1,440 x 900.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots/take_summary_screenshot.py [--size 1280x720]

The real window on a throw-away store seeded as tests/ui/test_patient_summary.py seeds it (a fictitious patient, the
three notes of tests/core/test_summary_store.py accepted and extracted by the parsers, two months apart). No model
runs. With --size, the window is shot at that size instead (to check that nothing is cut at 1,280 x 720).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
OUT = Path(__file__).resolve().parent

from PySide6.QtWidgets import QApplication  # noqa: E402

from app.ui.application import ClinicApplication  # noqa: E402
from docs.screenshots.take_screenshots import settle, wait_until  # noqa: E402
from tests.ui.support import PASSPHRASE, factories, ui_settings  # noqa: E402
from tests.ui.test_patient_summary import FIRST, SECOND, THIRD, seed  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="1440x900")
    parser.add_argument("--out", default=str(OUT / "patient-summary.png"))
    args = parser.parse_args()
    width, height = (int(x) for x in args.size.split("x"))
    os.environ.setdefault("CLINIC_STORAGE__DATA_DIR", tempfile.mkdtemp(prefix="clinic-shots-logs-"))
    app = QApplication(sys.argv[:1])
    root = Path(tempfile.mkdtemp(prefix="clinic-shots-"))
    ids = seed(root / "data", accepted=(FIRST, SECOND, THIRD), draft=None)
    clinic = ClinicApplication(ui_settings("scripted"), root / "settings.toml", root / "data", REPO / "models",
                               factories())
    w = clinic.window
    w.resize(width, height)
    clinic.start()
    wait_until(lambda: clinic.session.unlock_dialog is not None and clinic.session.unlock_dialog.isVisible())
    dialog = clinic.session.unlock_dialog
    assert dialog is not None
    dialog.passphrase.setText(PASSPHRASE)
    dialog.unlock_button.click()
    wait_until(lambda: clinic.session.is_unlocked)
    w.resize(width, height)
    w.patients.search.setText("okafor")
    wait_until(lambda: w.patients.model.rowCount() == 1)
    w.patients.select_patient(ids["patient"])
    wait_until(lambda: w.patient_view.summary_tree.topLevelItemCount() > 0)
    tree = w.patient_view.summary_tree
    tree.setFocus()
    medicines = tree.section("medications")
    if medicines is not None and medicines.child(0) is not None:
        tree.setCurrentItem(medicines.child(0))  # the keyboard focus on an item, as when arrowing through
    stopped = tree.section("stopped")
    if stopped is not None and stopped.child(0) is not None:
        stopped.child(0).setExpanded(True)  # a stopped medicine's history: started, dose changed, stopped
    settle(500)
    w.grab().save(args.out)
    print("wrote", args.out)
    clinic.shutdown()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
