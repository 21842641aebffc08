"""The clinic server in the window: its API key goes to the encrypted store (from the settings dialog, and out of an
older settings file after unlock), never to settings.toml; its health shows in the status bar; an answer queued at
the server says how long it has waited, and Stop cancels the wait. Store work is checked to run off the GUI thread,
and the server's events to reach the widgets on the GUI thread."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QThread
from pytestqt.qtbot import QtBot

from app.core.config import Settings
from app.core.storage import Store
from app.core.storage.secrets import SERVER_API_KEY
from app.ui.assistant.answer_panel import AnswerPanel, AnswerState
from app.ui.server_status import BUSY, HEALTH_TEXT
from tests.core.test_server_client import FakeServer, Handler, _is_probe, _serve
from tests.ui.support import FAST_KDF, PASSPHRASE, create_store, factories, make_app, new_encounter, shut, ui_settings
from tests.ui.support import unlock as unlock_window

KEY = "clinic-room-3-key-1f0e"
CONSULTATION = "Oswin Tredgold has had a cough for two weeks. Chest clear. Plan: chest X-ray, review in a week."


def _server_settings(url: str, **llm: object) -> Settings:
    settings = ui_settings("smollm2-135m-instruct", review=False)
    values: dict[str, object] = {"backend": "server", "server_url": url, "server_context_tokens": 2048,
                                 "server_timeout_s": 60.0, **llm}
    return settings.model_copy(update={"llm": settings.llm.model_copy(update=values)})


def _stored_key(data: Path) -> str | None:
    with Store.open(data, PASSPHRASE, kdf_iterations=FAST_KDF) as store:
        return store.repositories().secrets.get(SERVER_API_KEY)


@pytest.fixture(scope="module")
def redactor(models_dir: Path) -> Any:
    from app.core.redact.engine import SpacyRedactor

    return SpacyRedactor.from_settings(ui_settings("smollm2-135m-instruct"), models_dir)


def test_the_settings_dialog_saves_the_key_in_the_store_not_the_file(
    qtbot: QtBot, tmp_path: Path, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.ui.settings.server_key as server_key

    data, config = tmp_path / "data", tmp_path / "settings.toml"
    create_store(data)
    on_gui_thread: list[bool] = []
    real_store_key = server_key.store_key

    def recorded(store: Store, key: str) -> bool:
        on_gui_thread.append(threading.current_thread() is threading.main_thread())
        return real_store_key(store, key)

    monkeypatch.setattr(server_key, "store_key", recorded)
    clinic = make_app(qtbot, ui_settings("smollm2-135m-instruct"), data, models_dir, config, factories())
    with qtbot.waitSignal(clinic.server_key.adopted, timeout=30000):
        unlock_window(qtbot, clinic)
    dialog = clinic.open_settings()
    dialog.editor("llm", "server_api_key").set_value(KEY)
    with qtbot.waitSignal(clinic.server_key.stored, timeout=10000) as stored:
        dialog.save()
    assert stored.args == [True] and on_gui_thread == [False]  # saved on the store lane
    assert config.is_file() and KEY not in config.read_text(encoding="utf-8")
    assert "server_api_key" not in config.read_text(encoding="utf-8")
    assert clinic.hub.settings.llm.server_api_key == KEY  # the server model is built with it
    shut(qtbot, clinic)
    assert _stored_key(data) == KEY


def test_a_key_left_in_the_settings_file_moves_into_the_store_after_unlock(
    qtbot: QtBot, tmp_path: Path, models_dir: Path
) -> None:
    data, config = tmp_path / "data", tmp_path / "settings.toml"
    create_store(data)
    config.write_text(f'[llm]\nserver_api_key = "{KEY}"\nserver_model = "clinic"\n', encoding="utf-8")
    base = ui_settings("smollm2-135m-instruct")
    settings = base.model_copy(update={"llm": base.llm.model_copy(update={"server_api_key": KEY})})  # as loaded
    clinic = make_app(qtbot, settings, data, models_dir, config, factories())
    with qtbot.waitSignal(clinic.server_key.adopted, timeout=30000):
        unlock_window(qtbot, clinic)
    text = config.read_text(encoding="utf-8")
    assert KEY not in text and 'server_model = "clinic"' in text
    assert clinic.hub.settings.llm.server_api_key == KEY
    assert "moved from the settings file" in clinic.window.statusBar().currentMessage()
    shut(qtbot, clinic)
    assert _stored_key(data) == KEY


@pytest.fixture
def real_server(tmp_path: Path, tiny_model: Path) -> Iterator[Any]:
    """llama-cpp-python's server with the tiny model on 127.0.0.1 (the bench's launcher), asking for KEY."""
    from app.core.bench.server import ServerProcess, _free_port

    server = ServerProcess(tiny_model, _free_port(), KEY, tmp_path / "server.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()


def test_health_in_the_status_bar_with_a_real_server_and_the_key_from_the_store(
    qtbot: QtBot, tmp_path: Path, models_dir: Path, real_server: Any, redactor: Any
) -> None:
    """A real server (llama-cpp-python's): ready, then killed (not reachable — retrying), then back (ready). The key
    is only in the store: the referral letter is answered, so the server model got it after unlock."""
    data = tmp_path / "data"
    create_store(data)
    with Store.open(data, PASSPHRASE, kdf_iterations=FAST_KDF) as store:
        store.repositories().secrets.set(SERVER_API_KEY, KEY)
    clinic = make_app(qtbot, _server_settings(real_server.url), data, models_dir, tmp_path / "settings.toml",
                      factories(shared={"redact": redactor}))
    clinic.server_status.retry_every_ms = 300
    server_label = clinic.window.status.server
    assert server_label.isHidden()  # locked: nothing said yet
    with qtbot.waitSignal(clinic.server_key.adopted, timeout=30000):
        unlock_window(qtbot, clinic)
    assert clinic.hub.settings.llm.server_api_key == KEY
    qtbot.waitUntil(lambda: server_label.text() == HEALTH_TEXT["ready"], timeout=60000)
    assert not server_label.isHidden()

    new_encounter(qtbot, clinic, "Tredgold", "Oswin", "M-3")
    clinic.window.encounter_view.dictation.transcript.setPlainText(CONSULTATION)
    with qtbot.waitSignal(clinic.drafts.answer_finished, timeout=300000):
        clinic.window.actions_by_key["referral"].trigger()
    assert [p.message for p in clinic.presenter.history] == []  # a missing or refused key would be a problem here

    real_server.kill()
    clinic.server_status.check()
    qtbot.waitUntil(lambda: server_label.text() == HEALTH_TEXT["unreachable"], timeout=30000)
    assert server_label.text() == "Clinic server: not reachable — retrying"
    real_server.start()  # the same port: the window's own retries find it again
    qtbot.waitUntil(lambda: server_label.text() == HEALTH_TEXT["ready"], timeout=60000)
    shut(qtbot, clinic)


def letter_queued(h: Handler, body: dict[str, Any], index: int) -> None:
    """The format check when the model loads is answered at once; the letter waits in the queue."""
    if _is_probe(body):
        h.answer("Hello!")
        return
    h.server.release.wait(60.0)  # type: ignore[attr-defined]
    h.answer("late")


def everything_queued(h: Handler, body: dict[str, Any], index: int) -> None:
    """The first answer of the day: even the format check when the model loads waits in the queue."""
    h.server.release.wait(60.0)  # type: ignore[attr-defined]
    h.answer("late")


@pytest.fixture
def busy_server(request: pytest.FixtureRequest) -> Iterator[FakeServer]:
    yield from _serve(FakeServer(request.param))


@pytest.mark.parametrize(("busy_server", "letters_asked"), [(letter_queued, 1), (everything_queued, 0)],
                         indirect=["busy_server"])
def test_an_answer_queued_at_the_server_says_how_long_and_stop_cancels_the_wait(
    letters_asked: int, qtbot: QtBot, tmp_path: Path, models_dir: Path, busy_server: FakeServer, redactor: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fake server that never starts answering (a real one cannot be made to queue on cue): the banner counts the
    wait in seconds, the status bar says the server is busy, and Stop ends the wait at once."""
    gui_thread = QCoreApplication.instance().thread()  # type: ignore[union-attr]
    threads: list[bool] = []
    real_show_wait = AnswerPanel.show_wait

    def show_wait(panel: AnswerPanel, text: str) -> None:
        threads.append(QThread.currentThread() is gui_thread)
        real_show_wait(panel, text)

    monkeypatch.setattr(AnswerPanel, "show_wait", show_wait)
    data = tmp_path / "data"
    create_store(data)
    clinic = make_app(qtbot, _server_settings(busy_server.url, server_busy_notice_s=0.5), data, models_dir,
                      tmp_path / "settings.toml", factories(shared={"redact": redactor}))
    unlock_window(qtbot, clinic)
    status, answer = clinic.window.status.server, clinic.window.answer
    qtbot.waitUntil(lambda: status.text() == HEALTH_TEXT["ready"], timeout=30000)
    new_encounter(qtbot, clinic, "Tredgold", "Oswin", "M-4")
    clinic.window.encounter_view.dictation.transcript.setPlainText(CONSULTATION)
    clinic.window.actions_by_key["referral"].trigger()
    qtbot.waitUntil(lambda: answer.badge.text().startswith("Queued at the clinic server for"), timeout=30000)
    assert status.text() == BUSY and answer.state == AnswerState.WRITING and answer.stop_button.isEnabled()
    first = int(re.findall(r"for (\d+) s", answer.badge.text())[0])
    qtbot.waitUntil(lambda: int(re.findall(r"for (\d+) s", answer.badge.text() or "for 0 s")[0]) > first,
                    timeout=5000)  # it counts while the doctor waits
    stopped_at = time.monotonic()
    with qtbot.waitSignal(clinic.drafts.generating_changed, timeout=10000, check_params_cb=lambda on: not on):
        answer.stop_button.click()
    assert time.monotonic() - stopped_at < 3.0  # the wait ends at once, not when the server gets round to it
    assert not answer.badge.text().startswith("Queued")
    assert status.text() == HEALTH_TEXT["ready"]
    assert threads and all(threads)  # every widget update came on the GUI thread
    assert len(busy_server.chat_bodies()) == letters_asked  # never asked again after the stop
    shut(qtbot, clinic)
