"""Take encounter-grounding.png (a drafted note checked against the dictation, at 1,440 x 900) and
encounter-grounding-accept.png (what Accept asks about the fact still to check).

    xvfb-run -a -s "-screen 0 1440x900x24" .venv/bin/python docs/screenshots/take_grounding_screenshot.py

The real window on a throw-away store, the sample dictation as the transcript and the real redactor; the model is
the scripted one of tests/ui/test_grounding_view.py (a note with one wrong dose and one sentence nobody said). The
plan is clicked, so its source is highlighted in the transcript, and the mouse rests on the wrong dose (its reason
as tooltip). The whole screen is grabbed, so the tooltip shows.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
OUT = Path(__file__).resolve().parent
SCREEN = (1440, 900)

from PySide6.QtCore import QEvent, QPoint, Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QHelpEvent, QTextCursor  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QTextEdit, QToolTip  # noqa: E402

from app.core.storage.store import Store  # noqa: E402
from app.ui.application import ClinicApplication  # noqa: E402
from app.ui.assistant.flag_review import FlagReview  # noqa: E402
from docs.screenshots.take_screenshots import settle, wait_until  # noqa: E402
from tests.ui.support import FAST_KDF, PASSPHRASE, factories, ui_settings  # noqa: E402
from tests.ui.test_grounding_view import DICTATION, GroundedNoteLlm  # noqa: E402


def seed(data_dir: Path) -> None:
    with Store(data_dir, kdf_iterations=FAST_KDF) as store:
        store.create(PASSPHRASE)
        repos = store.repositories()
        patient = repos.patients.add("Tredgold", "Oswin", date_of_birth=date(1958, 3, 4), mrn="447291", sex="male")
        encounter = repos.encounters.add(patient.id, reason="Cough and fever")
        row = repos.transcripts.add(encounter.id, DICTATION, language="en", duration_s=51.3)
        repos.transcripts.set_edited(row.id, DICTATION)


def place_of(view: QTextEdit, position: int) -> QPoint:
    cursor = QTextCursor(view.document())
    cursor.setPosition(position)
    return view.cursorRect(cursor).center()


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    os.environ.setdefault("CLINIC_STORAGE__DATA_DIR", tempfile.mkdtemp(prefix="clinic-shots-logs-"))
    app = QApplication(sys.argv[:1])
    root = Path(tempfile.mkdtemp(prefix="clinic-shots-"))
    seed(root / "data")
    settings = ui_settings("scripted", review=False)
    clinic = ClinicApplication(settings, root / "settings.toml", root / "data", REPO / "models",
                               factories(shared={"llm": GroundedNoteLlm()}))
    w = clinic.window
    w.move(0, 0)
    w.resize(*SCREEN)
    clinic.start()
    wait_until(lambda: clinic.session.unlock_dialog is not None and clinic.session.unlock_dialog.isVisible())
    dialog = clinic.session.unlock_dialog
    assert dialog is not None
    dialog.passphrase.setText(PASSPHRASE)
    dialog.unlock_button.click()
    wait_until(lambda: clinic.session.is_unlocked)
    w.showMaximized()
    w.patients.search.setText("tredgold")
    wait_until(lambda: w.patients.model.rowCount() == 1)
    w.patients.select_patient(w.patients.model.patient_at(0).id)  # type: ignore[union-attr]
    wait_until(lambda: w.patient_view.encounters.topLevelItemCount() == 1)
    w.patient_view.encounters.itemClicked.emit(w.patient_view.encounters.topLevelItem(0), 0)
    wait_until(lambda: clinic.encounter.data is not None)

    clinic.drafts.draft("soap")
    answer, dictation = w.answer, w.encounter_view.dictation
    wait_until(lambda: answer.state.value == "draft" and answer.notes.currentData() is not None, 120)
    wait_until(lambda: clinic.grounding.current is not None and clinic.grounding.current.complete
               and clinic.grounding.current.holds_for(answer.text(), dictation.transcript_text()))
    note = answer.text()
    QTest.mouseClick(answer.editor.viewport(), Qt.MouseButton.LeftButton,
                     pos=place_of(answer.editor, note.index("Amoxicillin") + 2))
    settle()
    flag = note.index("250 mg") + 2
    viewport = answer.editor.viewport()
    at = place_of(answer.editor, flag)
    QTest.mouseMove(viewport, at)
    settle()
    QApplication.sendEvent(viewport, QHelpEvent(QEvent.Type.ToolTip, at, viewport.mapToGlobal(at)))
    wait_until(QToolTip.isVisible, 5)
    settle(400)  # the tooltip fades in
    screen = QGuiApplication.primaryScreen()
    screen.grabWindow(0).save(str(OUT / "encounter-grounding.png"))
    print("wrote encounter-grounding")
    QToolTip.hideText()

    opened: list[FlagReview] = []
    clinic.grounding.review_opened.connect(opened.append)
    w.actions_by_key["accept_draft"].trigger()
    wait_until(lambda: bool(opened) and opened[0].isVisible())
    settle()
    opened[0].grab().save(str(OUT / "encounter-grounding-accept.png"))
    print("wrote encounter-grounding-accept")
    opened[0].back_button.click()

    clinic.shutdown()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
