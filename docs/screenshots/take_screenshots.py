"""Take the screenshots in this folder: the real window on a throw-away store, under Xvfb.

    xvfb-run -a -s "-screen 0 1440x900x24" .venv/bin/python docs/screenshots/take_screenshots.py

The main window is shot at 1,440 x 900, a common clinic desktop screen, whatever the virtual screen's size.

The store is seeded through the repositories with a fictitious patient (the sample dictation's Oswin Tredgold) and
a note as if drafted earlier; the identifier review, the live dictation (whisper-tiny.en on a replayed clip) and
the GPU probe run for real. Nothing here touches the user's own store or settings.
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
LAPTOP = (1440, 900)

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from app.core.audio.replay import FileReplaySource  # noqa: E402
from app.core.storage.records import MessageRole, NoteAuthor, NoteKind  # noqa: E402
from app.core.storage.store import Store  # noqa: E402
from app.ui.application import ClinicApplication  # noqa: E402
from app.ui.engines import EngineFactories  # noqa: E402
from app.ui.theme import apply_theme  # noqa: E402
from tests.ui.support import FAST_KDF, PASSPHRASE, ui_settings  # noqa: E402

SOAP = """SUBJECTIVE
Three days of productive cough and a low-grade fever. Takes metformin 500 mg twice daily and lisinopril 10 mg \
once daily.

OBJECTIVE
Temperature 38.2, pulse 96, blood pressure 140/90, oxygen saturation 94% on room air. \
Crackles at the right base.

ASSESSMENT
Community-acquired pneumonia.

PLAN
Amoxicillin 500 mg three times daily for 5 days, chest X-ray, review in one week."""


def wait_until(condition, timeout_s: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    loop = QEventLoop()
    timer = QTimer()
    timer.timeout.connect(lambda: loop.quit() if condition() else None)
    timer.start(20)
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)
    deadline.start(int(timeout_s * 1000))
    loop.exec()
    timer.stop()
    deadline.stop()
    if not condition():
        raise TimeoutError("the window did not reach the expected state")


def settle(ms: int = 300) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def shoot(widget: QWidget, name: str) -> None:
    settle()
    widget.grab().save(str(OUT / f"{name}.png"))
    print("wrote", name)


def seed(data_dir: Path) -> None:
    transcript = (REPO / "resources" / "sample" / "dictation.txt").read_text(encoding="utf-8").strip()
    with Store(data_dir, kdf_iterations=FAST_KDF) as store:
        store.create(PASSPHRASE)
        repos = store.repositories()
        for family, given, born, mrn in (
            ("Tredgold", "Oswin", date(1958, 3, 4), "447291"), ("Tredwell", "Ada", date(1971, 9, 12), "503118"),
            ("Treadway", "Milo", date(2001, 1, 30), "611902"), ("Trent", "Beatrix", date(1949, 6, 17), "288410"),
        ):
            patient = repos.patients.add(family, given, date_of_birth=born, mrn=mrn, sex="")
            if family != "Tredgold":
                continue
            repos.encounters.add(patient.id, reason="Hypertension review")
            encounter = repos.encounters.add(patient.id, reason="Cough and fever")
            row = repos.transcripts.add(encounter.id, transcript, language="en", duration_s=51.3)
            repos.transcripts.set_edited(row.id, transcript)
            repos.notes.create(encounter.id, NoteKind.SOAP, SOAP, author=NoteAuthor.MODEL, model="qwen2.5-1.5b")
            repos.messages.add(encounter.id, MessageRole.USER, "Does [PATIENT_1] need a follow-up X-ray?",
                               "Does Oswin need a follow-up X-ray?")
            repos.messages.add(encounter.id, MessageRole.ASSISTANT, "A repeat chest X-ray in about six weeks…",
                               "A repeat chest X-ray in about six weeks is reasonable if symptoms persist.")


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    os.environ.setdefault("CLINIC_STORAGE__DATA_DIR", tempfile.mkdtemp(prefix="clinic-shots-logs-"))
    app = QApplication(sys.argv[:1])
    root = Path(tempfile.mkdtemp(prefix="clinic-shots-"))
    settings = ui_settings("qwen2.5-1.5b-instruct")
    settings = settings.model_copy(update={"gpu": settings.gpu.model_copy(update={"n_gpu_layers": "auto"})})
    # The sample dictation has pauses between sentences: confirmed text appears while it is still "spoken".
    clip = REPO / "resources" / "sample" / "dictation.wav"
    factories = EngineFactories(
        store=lambda _s, d, _m: Store(d, kdf_iterations=FAST_KDF),
        microphone=lambda _s: FileReplaySource(clip, realtime=True),
    )

    # First run (an empty data folder).
    first = ClinicApplication(settings, root / "first.toml", root / "first-data", REPO / "models", factories)
    first.start()
    wait_until(lambda: first.session.wizard is not None and first.session.wizard.isVisible())
    wizard = first.session.wizard
    assert wizard is not None
    wizard.passphrase_page.first.setText(PASSPHRASE)
    wizard.passphrase_page.second.setText(PASSPHRASE)
    shoot(wizard, "first-run-passphrase")
    wizard.next()
    wait_until(lambda: wizard.models.table.rowCount() > 0)
    shoot(wizard, "first-run-models")
    first.shutdown()

    seed(root / "data")
    clinic = ClinicApplication(settings, root / "settings.toml", root / "data", REPO / "models", factories)
    w = clinic.window
    w.resize(*LAPTOP)
    clinic.start()
    wait_until(lambda: clinic.session.unlock_dialog is not None and clinic.session.unlock_dialog.isVisible())
    dialog = clinic.session.unlock_dialog
    assert dialog is not None
    dialog.passphrase.setText("a wrong passphrase")
    dialog.unlock_button.click()
    wait_until(lambda: bool(dialog.problem.text()))
    shoot(dialog, "unlock-wrong-passphrase")
    dialog.passphrase.setText(PASSPHRASE)
    dialog.unlock_button.click()
    wait_until(lambda: clinic.session.is_unlocked)

    w.patients.search.setText("tre")
    wait_until(lambda: w.patients.model.rowCount() == 4)
    w.patients.select_patient(w.patients.model.patient_at(1).id)  # type: ignore[union-attr]
    wait_until(lambda: w.patient_view.encounters.topLevelItemCount() == 2)
    shoot(w, "main-patient")

    w.patient_view.encounters.itemClicked.emit(w.patient_view.encounters.topLevelItem(0), 0)
    wait_until(lambda: clinic.encounter.data is not None and w.answer.text() != "")
    shoot(w, "encounter-draft")

    heard: list[object] = []
    clinic.dictation.updated.connect(lambda u: heard.append(u) if u.confirmed and len(heard) < 1 else None)
    clinic.dictation.start()
    wait_until(lambda: bool(heard) or bool(clinic.presenter.history), 180)
    if clinic.presenter.history:
        raise RuntimeError(clinic.presenter.history[-1].message)
    wait_until(lambda: len(w.encounter_view.dictation.live.toPlainText()) > 60, 60)
    shoot(w, "encounter-dictating")
    clinic.dictation.stop()
    wait_until(lambda: not clinic.dictation.busy, 180)

    clinic.review()
    wait_until(lambda: bool(w.encounter_view.redaction._spans), 120)
    shoot(w, "identifier-review")

    settings_dialog = clinic.open_settings()
    settings_dialog.show_section("gpu")
    panel = settings_dialog.findChild(QWidget, "gpuPanel")
    panel.probe()  # type: ignore[union-attr]
    wait_until(lambda: bool(panel.output.toPlainText()))  # type: ignore[union-attr]
    shoot(settings_dialog, "settings-gpu")
    settings_dialog.reject()

    shortcuts = w.show_shortcuts()
    shoot(shortcuts, "shortcuts")
    shortcuts.close()

    apply_theme("dark")
    settle(500)
    shoot(w, "encounter-draft-dark")
    apply_theme("system")

    clinic.session.lock("Locked after 10 idle minute(s). Enter the passphrase to continue.")
    wait_until(lambda: w.pages.currentWidget() is w.locked_page)
    if clinic.session.unlock_dialog is not None:
        clinic.session.unlock_dialog.hide()
    shoot(w, "locked")
    clinic.shutdown()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
