"""The engines the window uses, each owned by one worker lane, created lazily on that lane's thread.

`EngineFactories` is the seam tests use (Buzz-style injection): the composition root passes the real factories,
a test passes small real engines or fakes (a file replayed as the microphone, an output stream with no sound
card). A factory is called on the lane that owns the engine, so loading a model never blocks the window, and the
engine is only ever touched from that thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar, overload

from PySide6.QtCore import QObject, QTimer, Signal

from app.core import gc_policy
from app.core.config import Settings
from app.core.services import engines as engine_registry
from app.core.storage.worker import StoreWorker
from app.ui.executor_lane import store_lane
from app.ui.workers import Job, JobLane, JobToken, Lane

if TYPE_CHECKING:
    from app.core.asr.base import Transcriber
    from app.core.audio.base import AudioSource
    from app.core.llm.base import LanguageModel
    from app.core.redact.base import Redactor
    from app.core.storage.store import Store
    from app.core.tts.base import Speaker
    from app.core.tts.playback import StreamOpener

log = logging.getLogger(__name__)

EngineName = Literal["store", "asr", "redact", "llm", "tts"]
LaneName = Literal["store", "asr", "redact", "llm", "tts", "tools"]
E = TypeVar("E")
EngineFactory = Callable[[Settings, Path, Path], E]  # (settings, data_dir, models_dir) -> the engine
EngineWork = Callable[[E, JobToken], object]  # runs on the engine's lane, given the engine and the job's token
Warmed = Literal["asr", "redact", "tts"]  # the engines `preload` builds and warms
_WARMED: tuple[Warmed, ...] = ("asr", "redact", "tts")
Preparation = Warmed | Literal["llm library"]

# Which settings sections each engine is built from: a change there closes the engine (rebuilt on next use).
ENGINE_SECTIONS: dict[str, tuple[str, ...]] = {
    "store": ("storage",),
    "asr": ("asr",),
    "redact": ("redaction",),
    "llm": ("llm", "gpu"),
    "tts": ("tts",),
}
# Fields read on each use, not when the engine is built: changing them must not reload a model (the sampling is
# taken per answer; whether the doctor reviews identifiers is the window's business).
READ_PER_USE: dict[str, frozenset[str]] = {
    "llm": frozenset({"temperature", "top_p", "max_tokens", "repeat_penalty", "seed"}),
    "redaction": frozenset({"review_before_sending"}),
}
LANES: tuple[LaneName, ...] = ("store", "asr", "redact", "llm", "tts", "tools")
SETTLE_AFTER_MS = 500  # engines are built in bursts (three while the passphrase is typed): one settle for all


def _section_changed(old: Settings, new: Settings, section: str) -> bool:
    ignored = READ_PER_USE.get(section, frozenset())
    before, after = getattr(old, section).model_dump(), getattr(new, section).model_dump()
    return any(before[key] != after[key] for key in before if key not in ignored)


# The registry is the core's (`app.core.services.engines`); these adapt it to the lanes' (settings, data_dir,
# models_dir) signature, the seam tests replace.
def _default_store(settings: Settings, data_dir: Path, models_dir: Path) -> Store:
    return engine_registry.load_store(settings, data_dir)


def _default_transcriber(settings: Settings, data_dir: Path, models_dir: Path) -> Transcriber:
    return engine_registry.load_transcriber(settings, models_dir)


def _default_redactor(settings: Settings, data_dir: Path, models_dir: Path) -> Redactor:
    return engine_registry.load_redactor(settings, models_dir)


def _default_language_model(settings: Settings, data_dir: Path, models_dir: Path) -> LanguageModel:
    return engine_registry.load_language_model(settings, models_dir)


def _default_speaker(settings: Settings, data_dir: Path, models_dir: Path) -> Speaker:
    return engine_registry.load_speaker(settings, models_dir)


@dataclass
class EngineFactories:
    """How each engine is made. Every factory takes (settings, data_dir, models_dir) and runs on its lane."""

    store: EngineFactory[Store] = _default_store
    asr: EngineFactory[Transcriber] = _default_transcriber
    redact: EngineFactory[Redactor] = _default_redactor
    llm: EngineFactory[LanguageModel] = _default_language_model
    tts: EngineFactory[Speaker] = _default_speaker
    # The microphone is not owned by a lane: a fresh source per recording (Buzz-style device injection).
    microphone: Callable[[Settings], AudioSource] = engine_registry.open_microphone
    # How audio reaches the speakers; tests pass a fake stream, no sound card needed.
    output_stream: Callable[[], StreamOpener] = engine_registry.sound_output

    def for_engine(self, name: EngineName) -> EngineFactory[object]:
        factory: EngineFactory[object] = getattr(self, name)
        return factory


class EngineHub(QObject):
    """The lanes and the engines they own. Controllers submit work: `hub.run("llm", fn, "drafting")`."""

    engine_ready = Signal(str)  # engine name, after its factory succeeded (status bar listens)
    engine_closed = Signal(str)

    def __init__(
        self, settings: Settings, data_dir: Path, models_dir: Path, factories: EngineFactories | None = None
    ) -> None:
        super().__init__()
        self.settings = settings
        self.data_dir = data_dir
        self.models_dir = models_dir
        self.factories = factories or EngineFactories()
        self._engines: dict[str, object] = {}  # each key is touched only from its own lane's thread
        self._preloads: dict[str, Job] = {}
        self._preload_queue: list[Preparation] = []
        self._shutting_down = False
        self._settle_timer = QTimer(self)
        self._settle_timer.setObjectName("gcSettle")
        self._settle_timer.setSingleShot(True)
        self._settle_timer.setInterval(SETTLE_AFTER_MS)
        self._settle_timer.timeout.connect(self._settle)
        self.engine_ready.connect(self._settle_soon)  # emitted on a lane: delivered here, on the GUI thread
        self.engine_closed.connect(self._settle_soon)
        self.lanes: dict[str, Lane] = {name: JobLane(name, self) for name in LANES if name != "store"}
        # The store is built here (its constructor does no I/O) and lives on the storage layer's own StoreWorker
        # thread, the one the consultation pipeline uses too.
        store = self.factories.store(settings, data_dir, models_dir)
        self._engines["store"] = store
        # Thread-safe handle on the database thread, for work on other lanes that stores what it produces (the
        # pipeline's answer stage saves the note it drafted).
        self.store_worker = StoreWorker(store)
        self.lanes["store"] = store_lane(self.store_worker, self)

    # -- running work -------------------------------------------------------------------------------------------
    # One overload per engine, so `work` is checked against what that lane owns: `hub.run("redact", lambda
    # redactor, token: ...)` gets a `Redactor`. What the work returns arrives as `Job.finished`'s payload.
    @overload
    def run(self, engine: Literal["store"], work: EngineWork[Store], name: str, slot: str = "") -> Job: ...
    @overload
    def run(self, engine: Literal["asr"], work: EngineWork[Transcriber], name: str, slot: str = "") -> Job: ...
    @overload
    def run(self, engine: Literal["redact"], work: EngineWork[Redactor], name: str, slot: str = "") -> Job: ...
    @overload
    def run(self, engine: Literal["llm"], work: EngineWork[LanguageModel], name: str, slot: str = "") -> Job: ...
    @overload
    def run(self, engine: Literal["tts"], work: EngineWork[Speaker], name: str, slot: str = "") -> Job: ...

    def run(self, engine: EngineName, work: Callable[..., object], name: str, slot: str = "") -> Job:
        """Run `work(engine, token)` on the engine's lane; the engine is created there first if needed."""
        settings, data_dir, models_dir = self.settings, self.data_dir, self.models_dir

        def job(token: JobToken) -> object:
            return work(self._engine_on_lane(engine, settings, data_dir, models_dir), token)

        return self.lanes[engine].submit(job, name, slot)

    def run_on(self, lane: LaneName, work: Callable[[JobToken], object], name: str, slot: str = "") -> Job:
        """Work that needs no engine (model install, GPU probe) on a named lane."""
        return self.lanes[lane].submit(work, name, slot)

    def _engine_on_lane(self, name: EngineName, settings: Settings, data_dir: Path, models_dir: Path) -> object:
        engine = self._engines.get(name)
        if engine is None:
            engine = self.factories.for_engine(name)(settings, data_dir, models_dir)
            self._engines[name] = engine
            log.info("engine %s ready", name)
            self.engine_ready.emit(name)
        return engine

    def loaded(self, name: str) -> bool:
        return name in self._engines

    def preload(self) -> list[Preparation]:
        """Build and warm the dictation, redaction and voice engines that are not built yet, then import the language
        model's library (see core/services/warmup.py for why). One after the other, not on all lanes at once: the
        loads hold the GIL in bursts, and four of them on two cores stalled the window up to 93 ms while the
        passphrase was typed. A failure is only logged: the doctor hears about it, with what to do, when the engine
        is first used. Returns what was queued."""
        queued: list[Preparation] = [
            name for name in _WARMED
            if not self.loaded(name) and (name not in self._preloads or self._preloads[name].done)
        ]
        if "llm library" not in self._preloads:  # asked once: a failure is said when the model is first loaded
            queued.append("llm library")
        fresh = [name for name in queued if name not in self._preload_queue]
        self._preload_queue.extend(fresh)
        if not any(not job.done for job in self._preloads.values()):
            self._preload_next()
        return fresh

    def _preload_next(self, *_args: object) -> None:
        if self._shutting_down or not self._preload_queue:
            return
        name = self._preload_queue.pop(0)
        job = self._import_language_model() if name == "llm library" else self._prepare(name)
        self._preloads[name] = job
        job.failed.connect(lambda exc: log.warning("preparing %s failed: %s", name, type(exc).__name__))
        job.ended.connect(self._settle_soon)  # what first use made (compiled patterns, caches) stays too
        job.ended.connect(self._preload_next)

    def _prepare(self, name: Warmed) -> Job:
        settings = self.settings

        def work(engine: object, token: JobToken) -> None:
            from app.core.services import warmup

            if token.cancelled:  # the app is closing, or the settings changed while the engine was built
                return
            if name == "asr":
                warmup.warm_transcriber(engine, settings)
            elif name == "redact":
                warmup.warm_redactor(engine)
            else:
                warmup.warm_speaker(engine, token)

        return self.run(name, work, f"preparing {name}")

    def _import_language_model(self) -> Job:
        settings = self.settings

        def work(_token: JobToken) -> None:
            from app.core.services import warmup

            warmup.import_language_model(settings)

        return self.run_on("llm", work, "preparing the language model's library")

    # -- the collector (core/gc_policy.py) -------------------------------------------------------------------------
    def _settle_soon(self, *_args: object) -> None:
        if not self._shutting_down:  # closing releases everything: nothing to settle after that
            self._settle_timer.start()  # restarted by each engine of a burst

    def _settle(self) -> None:
        """On the GUI thread, once a burst of engine builds is over: no lane is then half-way through a load whose
        temporary objects a freeze would keep, and finalizers of collected Qt wrappers run on the thread that owns
        them. The collection holds the GIL wherever it runs; here it is one 10-60 ms pause, at a quiet moment."""
        if any(not job.done for job in self._preloads.values()):
            return  # the last preparation to end asks again
        gc_policy.settle("engines built or closed")

    # -- settings and shutdown ----------------------------------------------------------------------------------
    def apply_settings(self, settings: Settings) -> list[str]:
        """Adopt new settings; engines built from a changed section are closed on their lane (rebuilt on next use).
        Returns the engines that will be rebuilt."""
        old, self.settings = self.settings, settings
        changed = [
            engine
            for engine, sections in ENGINE_SECTIONS.items()
            if engine != "store" and any(_section_changed(old, settings, s) for s in sections)
        ]
        for engine in changed:
            preparing = self._preloads.pop(engine, None)
            if preparing is not None:
                preparing.cancel()  # it would warm an engine built from the old settings
            self.lanes[engine].run_on_thread(self._closer(engine), f"reload {engine}")
        return changed

    def _close_on_lane(self, name: str) -> None:
        engine = self._engines.pop(name, None)
        if engine is None:
            return
        close = getattr(engine, "close", None)
        if callable(close):
            try:
                close()
            except Exception:
                log.exception("closing engine %s failed", name)
        del engine, close
        # Only now, with the engine unreachable: its cycles go back to the collector (the next settle frees them).
        gc_policy.release()
        self.engine_closed.emit(name)

    def shutdown(self) -> None:
        """Cancel all work (but let the store finish its queued saves), close every engine on its own thread, stop
        every lane."""
        self._shutting_down = True
        self._settle_timer.stop()
        for name, lane in self.lanes.items():
            if name != "store":
                lane.cancel_all()  # every lane stops its work at once; then each is closed in turn
        for name, lane in self.lanes.items():
            lane.shutdown(final=self._closer(name), cancel_pending=name != "store")

    def _closer(self, name: str) -> Callable[[], None]:
        return lambda: self._close_on_lane(name)
