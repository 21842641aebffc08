"""While the doctor types the passphrase, the window builds and warms the speech, redaction and voice engines, so
the first consultation does not pay for loading them (the GUI benchmark saw 68-96 ms stalls when it did)."""

from __future__ import annotations

import sys
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.ui.workers import JobState
from tests.ui.support import PASSPHRASE, create_store, factories, make_app, shut, ui_settings

PREPARED = ("asr", "redact", "tts")


def test_engines_are_prepared_while_the_passphrase_is_typed(
    qtbot: QtBot, tmp_path: Path, models_dir: Path, tiny_model: Path
) -> None:
    create_store(tmp_path / "data")
    settings = ui_settings(str(tiny_model))
    settings = settings.model_copy(update={"ui": settings.ui.model_copy(update={"prepare_engines_early": True})})
    clinic = make_app(qtbot, settings, tmp_path / "data", models_dir, tmp_path / "settings.toml", factories())
    ready: list[str] = []
    clinic.hub.engine_ready.connect(ready.append)

    clinic.start()
    qtbot.waitUntil(lambda: clinic.session.unlock_dialog is not None and clinic.session.unlock_dialog.isVisible())
    # Nobody has typed anything yet: the store is still locked, and the engines get ready meanwhile.
    qtbot.waitUntil(lambda: all(clinic.hub.loaded(name) for name in PREPARED), timeout=120000)
    qtbot.waitUntil(lambda: not clinic.hub._preload_queue and all(job.done for job in clinic.hub._preloads.values()),
                    timeout=120000)
    assert sorted(set(ready) & set(PREPARED)) == sorted(PREPARED)
    assert "llm" not in ready  # only its library: the model loads when dictation starts (memory: it is the big one)
    assert "llama_cpp" in sys.modules and "llm library" in clinic.hub._preloads
    assert not clinic.session.is_unlocked
    assert all(job.state == JobState.FINISHED for job in clinic.hub._preloads.values())  # none failed

    # Locking and unlocking again does not warm them a second time.
    dialog = clinic.session.unlock_dialog
    assert dialog is not None
    with qtbot.waitSignal(clinic.session.unlocked, timeout=30000):
        dialog.passphrase.setText(PASSPHRASE)
        dialog.unlock_button.click()
    assert clinic.hub.preload() == []
    shut(qtbot, clinic)
