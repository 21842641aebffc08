"""Shared pieces of the UI tests: settings for the small real engines, fakes for the devices this machine lacks
(a file replayed as the microphone, an output stream with no sound card), and helpers that drive the window."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pytestqt.qtbot import QtBot

from app.core.config import Settings
from app.core.errors import CancelToken
from app.core.llm.base import Completion, GenerationRequest, LoadProgress, Timings, TokenStream
from app.core.tts.silent_device import silent_opener
from app.ui.application import ClinicApplication
from app.ui.engines import EngineFactories

PASSPHRASE = "amber-kettle-orbit-93"
FAST_KDF = 4000  # tests only: the settings enforce >= 64,000 for real stores


def fake_output(played: list[int]) -> Callable[[], Any]:
    """An `EngineFactories.output_stream` with no sound card: silent streams at 10x a device's pace that record
    how many non-zero samples each block held."""
    return lambda: silent_opener(speed=10, played=played)


class Borrowed:
    """A module-scoped engine lent to one test's application: the app's shutdown must not close it."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def close(self) -> None:
        pass


def ui_settings(llm_model: str, *, max_tokens: int = 48, review: bool = True, n_ctx: int = 2048) -> Settings:
    base = Settings()
    return base.model_copy(update={
        "asr": base.asr.model_copy(update={"model": "whisper-tiny.en", "language": "en", "threads": 1}),
        "llm": base.llm.model_copy(update={"model": llm_model, "max_tokens": max_tokens, "temperature": 0.0,
                                           "seed": 1, "idle_unload_s": 0}),
        "gpu": base.gpu.model_copy(update={"n_ctx": n_ctx, "n_gpu_layers": 0, "n_threads": 2}),
        "redaction": base.redaction.model_copy(update={"review_before_sending": review}),
        "storage": base.storage.model_copy(update={"auto_lock_minutes": 0}),
        # Engines are built when a test first uses them; tests of the early preparation turn it on.
        "ui": base.ui.model_copy(update={"prepare_engines_early": False}),
    })


def factories(
    *,
    microphone: Callable[[Settings], Any] | None = None,
    played: list[int] | None = None,
    shared: dict[str, Any] | None = None,
) -> EngineFactories:
    """Real engines (lent when `shared` holds a module-scoped one), a fast-KDF store, fake devices."""
    from app.core.storage.store import Store

    made = EngineFactories(store=lambda _s, data_dir, _m: Store(data_dir, kdf_iterations=FAST_KDF))
    for name, engine in (shared or {}).items():
        setattr(made, name, lambda _s, _d, _m, e=engine: Borrowed(e))
    if microphone is not None:
        made.microphone = microphone
    made.output_stream = fake_output(played if played is not None else [])
    return made


def make_app(
    qtbot: QtBot, settings: Settings, data_dir: Path, models_dir: Path, config_file: Path, made: EngineFactories
) -> ClinicApplication:
    clinic = ClinicApplication(settings, config_file, data_dir, models_dir, made)
    qtbot.addWidget(clinic.window)
    return clinic


def create_store(data_dir: Path) -> None:
    from app.core.storage.store import Store

    store = Store(data_dir, kdf_iterations=FAST_KDF)
    store.create(PASSPHRASE)
    store.lock()


def unlock(qtbot: QtBot, clinic: ClinicApplication, passphrase: str = PASSPHRASE) -> None:
    """Start the app on an existing store and unlock it through the dialog."""
    with qtbot.waitSignal(clinic.session.unlocked, timeout=30000):
        clinic.start()
        qtbot.waitUntil(lambda: clinic.session.unlock_dialog is not None and clinic.session.unlock_dialog.isVisible())
        dialog = clinic.session.unlock_dialog
        assert dialog is not None
        dialog.passphrase.setText(passphrase)
        dialog.unlock_button.click()


def shut(qtbot: QtBot, clinic: ClinicApplication) -> None:
    with qtbot.waitSignal(clinic.closed, timeout=60000):
        clinic.shutdown()


def new_encounter(
    qtbot: QtBot, clinic: ClinicApplication, family: str, given: str = "", mrn: str | None = None, reason: str = ""
) -> None:
    """Add a patient and start an encounter for them, through the patient view's button and the reason dialog."""
    from app.ui.patients.new_patient_dialog import NewPatient

    with qtbot.waitSignal(clinic.patients.shown, timeout=10000):
        clinic.patients.add_patient(NewPatient(family, given, None, mrn, ""))
    start_encounter(qtbot, clinic, reason)


def start_encounter(qtbot: QtBot, clinic: ClinicApplication, reason: str = "") -> None:
    """New encounter for the patient shown: the button, then the dialog asking the reason."""
    clinic.window.patient_view.new_encounter.click()
    dialog = clinic.patients.reason_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.reason.setText(reason)
    with qtbot.waitSignal(clinic.encounter.opened, timeout=10000):
        dialog.submit()


class PiecesLlm:
    """A language-model seam that streams scripted pieces of text, whatever it is asked (subclasses say which, in
    `pieces`); for tests whose point is the window's path, not the model's words."""

    backend = "local"
    model_name = "scripted"
    context_window = 4096

    def pieces(self, request: GenerationRequest) -> Iterator[str]:
        raise NotImplementedError

    def load(self, cancel: CancelToken | None = None) -> Iterator[LoadProgress]:
        yield LoadProgress("ready", 1.0, "ready", done=True)

    def count_tokens(self, text: str) -> int:
        return len(text) // 4 + 1

    def count_prompt_tokens(self, messages: Any) -> int:
        return sum(self.count_tokens(m.content) + 4 for m in messages)

    def stream(self, request: GenerationRequest, cancel: CancelToken | None = None) -> TokenStream:
        shown: list[str] = []

        def each() -> Iterator[str]:
            for piece in self.pieces(request):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                shown.append(piece)
                yield piece

        return TokenStream(each(), lambda: Completion("".join(shown), self.model_name, "local", "stop", Timings()))

    def complete(self, request: GenerationRequest, cancel: CancelToken | None = None) -> Completion:
        return self.stream(request, cancel).collect()

    def close(self) -> None:
        pass


def accept_shown_draft(qtbot: QtBot, clinic: ClinicApplication, timeout: int = 10000) -> Any:
    """Accept the document shown, as a doctor who keeps every fact the grounding flags (a real model's draft may or
    may not contain one, depending on the CPU it ran on). Returns the accepted Note."""
    opened: list[Any] = []
    clinic.grounding.review_opened.connect(opened.append)
    accepted: list[Any] = []
    clinic.drafts.accepted.connect(accepted.append)
    clinic.window.actions_by_key["accept_draft"].trigger()
    qtbot.waitUntil(lambda: bool(accepted) or bool(opened), timeout=timeout)
    if not accepted:
        dialog = opened[0]
        for keep in dialog.keep_buttons:
            keep.click()
        dialog.accept_button.click()
        qtbot.waitUntil(lambda: bool(accepted), timeout=timeout)
    return accepted[0]
