"""llama.cpp in this process (the default backend).

One `ModelWorker` thread owns the `Llama` object: loading, tokenising, generating, unloading. A stream runs as one
job on that thread and hands text pieces to the caller's thread through a queue; the job checks the cancel token
(and whether the caller stopped reading) between tokens, so a cancelled answer frees the model after at most one
more token. llama.cpp cannot be interrupted inside a token or inside prompt processing.

The chat template comes from the GGUF's metadata (llama-cpp-python builds its chat handler from it); a GGUF without
one falls back to ChatML, with a warning in the log.

Nothing llama.cpp prints reaches the terminal: its native log goes to our log file and the Python-level prints made
while loading are diverted from the loading thread only (native.py explains why not `verbose=False`).
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from app.core.config import Settings
from app.core.errors import Cancelled, CancelToken
from app.core.llm import native
from app.core.llm.base import (
    Backend,
    ChatMessage,
    Completion,
    FinishReason,
    GenerationRequest,
    LoadProgress,
    StreamClock,
    TokenStream,
)
from app.core.llm.llama_params import OffloadPlan, as_reported, llama_kwargs, plan_gpu_offload
from app.core.llm.loading import check_gguf_header, model_load_error, prefetch
from app.core.llm.note_grammar import note_opening_and_grammar
from app.core.llm.prompts import Task
from app.core.logs import text_stats

log = logging.getLogger(__name__)
T = TypeVar("T")

LlamaFactory = Callable[..., Any]
_TAIL_LEFT = 4  # tokens of a pre-read consultation left unread: a word cut by the next utterance re-tokenises
_ANSWER_ROOM = 1024  # tokens a pre-read leaves free in the context window (the answer and its header)
ProgressSink = Callable[[LoadProgress], None]


class _ModelSlot:
    """The loaded model and what it was loaded with. Touched only on the worker thread (except `unloaded`)."""

    def __init__(self) -> None:
        self.llama: Any = None
        self.formatter: Any = None  # the GGUF's chat template, compiled once per load (for counting prompt tokens)
        self.kwargs: dict[str, Any] = {}
        self.plan: OffloadPlan | None = None
        self.n_ctx = 0  # read from other threads: a plain int, never a call into a model being unloaded
        self.load_s = 0.0
        self.unloaded = threading.Event()

    def unload(self) -> None:
        if self.llama is not None:
            self.llama.close()
            self.llama = self.formatter = None
            log.info("model unloaded")
            self.unloaded.set()


@dataclass
class _End:
    completion: Completion | None = None
    error: BaseException | None = None


class LocalLlm:
    """A GGUF model run by llama.cpp in this process. Create once; `close()` when done (also done at exit)."""

    def __init__(
        self,
        settings: Settings,
        models_dir: Path,
        *,
        model: str | None = None,
        llama_factory: LlamaFactory | None = None,
        idle_unload_s: float | None = None,
    ) -> None:
        self._settings = settings
        self._models_dir = models_dir
        self._model_ref = model or settings.llm.model
        self._factory = llama_factory  # a seam: tests capture the exact kwargs given to Llama(...)
        self._slot = _ModelSlot()
        idle = settings.llm.idle_unload_s if idle_unload_s is None else idle_unload_s
        from app.core.llm.worker import ModelWorker

        self._worker = ModelWorker("llm-local", idle, self._slot.unload)
        self._finalizer = weakref.finalize(self, self._worker.shutdown, self._slot.unload)

    # -- identity ------------------------------------------------------------------------------------------------
    @property
    def backend(self) -> Backend:
        return "local"

    @property
    def model_name(self) -> str:
        return Path(self._model_ref).stem if self._model_ref.endswith(".gguf") else self._model_ref

    @property
    def context_window(self) -> int:
        """The loaded context size (the planner may lower it); the configured one before loading."""
        return self._slot.n_ctx or self._settings.gpu.n_ctx

    @property
    def loaded(self) -> bool:
        return self._slot.llama is not None

    @property
    def unloaded_event(self) -> threading.Event:
        """Set each time the model is unloaded (idle timeout or close); tests and the UI wait on it."""
        return self._slot.unloaded

    @property
    def llama_kwargs(self) -> dict[str, Any]:
        """The arguments the current model was loaded with (empty before the first load)."""
        return dict(self._slot.kwargs)

    @property
    def offload_plan(self) -> OffloadPlan | None:
        return self._slot.plan

    # -- loading -------------------------------------------------------------------------------------------------
    def _ensure_loaded(self, cancel: CancelToken | None, sink: ProgressSink | None) -> float:
        """On the worker thread: load if needed; returns the seconds spent loading (0.0 if it was loaded)."""
        if self._slot.llama is not None:
            return 0.0
        start = time.perf_counter()
        emit = sink or (lambda _p: None)
        from app.core.installed_models import locate

        emit(LoadProgress("locate", 0.0, f"Finding the model '{self.model_name}'"))
        path = locate(self._model_ref, self._models_dir)
        check_gguf_header(path)
        llama_cpp = native.import_llama_cpp(self._settings.gpu)
        emit(LoadProgress("plan", 0.05, "Planning where the model's layers go"))
        plan = plan_gpu_offload(path, self._settings.gpu, llama_cpp)
        kwargs = llama_kwargs(path, self._settings.gpu, plan)
        if sink is not None:  # reading the file first gives real progress (and warms the page cache for mmap)
            size_mib = path.stat().st_size / 2**20
            shown = -1
            for fraction in prefetch(path, cancel):
                if int(fraction * 20) > shown:  # every 5 %: enough for a bar, few lines in a log
                    shown = int(fraction * 20)
                    message = f"Reading {path.name}: {fraction:.0%} of {size_mib:.0f} MiB"
                    emit(LoadProgress("load", 0.1 + 0.8 * fraction, message))
        emit(LoadProgress("load", 0.9, f"Starting llama.cpp ({plan.reason})"))
        native.clear_recent()
        factory = self._factory or llama_cpp.Llama
        try:
            with native.divert_thread_prints():
                llama = factory(**kwargs)
        except (ValueError, RuntimeError, OSError, MemoryError) as exc:
            raise model_load_error(path, self._model_ref, plan, exc) from None
        llama.verbose = False  # no per-call prints ("prefix-match hit", timing tables) during generation
        plan = as_reported(plan, native.loaded_on_gpu())
        if "tokenizer.chat_template" not in (getattr(llama, "metadata", None) or {}):
            log.warning("the model has no chat template in its metadata: using ChatML")
            llama.chat_format = "chatml"
        self._slot.llama, self._slot.kwargs, self._slot.plan = llama, kwargs, plan
        self._slot.formatter = _template_formatter(llama)
        self._slot.n_ctx = int(llama.n_ctx())
        self._slot.load_s = time.perf_counter() - start
        self._slot.unloaded.clear()
        log.info("model %s loaded in %.2fs (%s, n_ctx %d)", path.name, self._slot.load_s, plan.reason, plan.n_ctx)
        return self._slot.load_s

    def load(self, cancel: CancelToken | None = None) -> Iterator[LoadProgress]:
        """Load the model on its thread, yielding progress; a no-op (one 'ready' item) when already loaded."""
        updates: queue.Queue[LoadProgress | _End] = queue.Queue()

        def job() -> None:
            try:
                seconds = self._ensure_loaded(cancel, updates.put)
                updates.put(LoadProgress("ready", 1.0, f"Model ready ({seconds:.1f} s)", done=True))
                updates.put(_End())
            except BaseException as exc:
                updates.put(_End(error=exc))

        self._worker.submit(job)
        while True:
            item = updates.get()
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            yield item

    def unload(self) -> None:
        """Free the model now (it reloads on the next call)."""
        self._worker.call(self._slot.unload)

    def on_model_thread(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the thread every call to this model runs on, and return its result. For `bench llm`: llama.cpp
        (built with OpenMP) keeps a pool of compute threads per calling thread, and two calling threads' pools slow
        each other by a quarter on two cores, so llama-cpp-python called directly is timed on this same thread."""
        return self._worker.call(fn)

    # -- tokens --------------------------------------------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        def job() -> int:
            self._ensure_loaded(None, None)
            return len(self._slot.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

        return self._worker.call(job)

    def count_prompt_tokens(self, messages: Sequence[ChatMessage]) -> int:
        """Exactly what the chat template turns `messages` into (plus the assistant's header)."""

        def job() -> int:
            self._ensure_loaded(None, None)
            return _prompt_tokens(self._slot, messages)

        return self._worker.call(job)

    # -- warming the prompt cache --------------------------------------------------------------------------------
    def warm(
        self, task: Task, cancel: CancelToken | None = None, consultation: str = "", prior: str = ""
    ) -> Future[int]:
        """Evaluate `task`'s prompt up to where the consultation ends, on the model's thread, in the background:
        the system prompt and instructions, then `consultation` (redacted text dictated so far; empty for the
        instructions alone). The next prompt that starts the same way (llama.cpp reuses the longest common prefix
        of its cache) only evaluates what follows, so after the doctor's last word only the last utterance and the
        answer's header are left to read. Text that changed (an edit, the doctor's review) is re-read from its first
        changed token. `prior` is the earlier notes' block the draft starts with (prompts.prior_block). Redacted
        text only, and it never leaves the process. Returns the number of tokens evaluated
        (0 when they were cached already or the model has no chat template)."""
        return self._worker.submit(lambda: self._warm(task, consultation, prior, cancel or CancelToken()))

    def _warm(self, task: Task, consultation: str, prior: str, cancel: CancelToken) -> int:
        from app.core.llm.prompts import INPUT_MARK, instructions_before_input

        self._ensure_loaded(cancel, None)
        llama, formatter = self._slot.llama, self._slot.formatter
        if formatter is None:
            return 0
        result = formatter(messages=[m.as_dict() for m in instructions_before_input(task, prior)])
        prefix = result.prompt.split(INPUT_MARK, 1)[0] + consultation
        tokens = llama.tokenize(prefix.encode("utf-8"), add_bos=not result.added_special, special=True)
        # The last tokens may merge with the characters that follow them (the next utterance, the end of the
        # message); the consultation's last word is left for the real prompt.
        tokens = tokens[: -(_TAIL_LEFT if consultation else 1)]
        window = llama.n_ctx()
        tokens = tokens[: window - min(_ANSWER_ROOM, window // 4)]  # never fill the room the answer needs
        cached = 0
        for have, want in zip(llama.input_ids[: llama.n_tokens], tokens, strict=False):
            if have != want:
                break
            cached += 1
        if cached >= len(tokens):
            return 0
        llama.n_tokens = cached  # `eval` drops the cache from here on
        started = time.perf_counter()
        for start in range(cached, len(tokens), llama.n_batch):
            cancel.raise_if_cancelled()
            llama.eval(tokens[start : start + llama.n_batch])
        log.info("pre-read %d prompt tokens in %.2fs", len(tokens) - cached, time.perf_counter() - started)
        return len(tokens) - cached

    # -- generation ----------------------------------------------------------------------------------------------
    def stream(self, request: GenerationRequest, cancel: CancelToken | None = None) -> TokenStream:
        cancel = cancel or CancelToken()
        pieces: queue.Queue[str | _End] = queue.Queue()
        abandoned = threading.Event()
        outcome: list[Completion] = []

        def job() -> None:
            try:
                pieces.put(_End(completion=self._generate(request, cancel, abandoned, pieces.put)))
            except BaseException as exc:
                pieces.put(_End(error=exc))

        def read() -> Iterator[str]:
            future = self._worker.submit(job)
            try:
                while True:
                    item = pieces.get()
                    if isinstance(item, _End):
                        if item.error is not None:
                            raise item.error
                        assert item.completion is not None
                        outcome.append(item.completion)
                        return
                    cancel.raise_if_cancelled()  # pieces already queued are not shown after a cancel
                    yield item
            finally:
                abandoned.set()  # the reader left early (break/close/exception): stop after the next token
                if not self._worker.on_worker_thread:
                    future.result()  # the model is free again when this returns

        def finish() -> Completion:
            return outcome[0]

        return TokenStream(read(), finish)

    def complete(self, request: GenerationRequest, cancel: CancelToken | None = None) -> Completion:
        return self.stream(request, cancel).collect()

    def _generate(
        self, request: GenerationRequest, cancel: CancelToken, abandoned: threading.Event, emit: Callable[[str], None]
    ) -> Completion:
        """On the worker thread: one chat completion, streamed piece by piece."""
        load_s = self._ensure_loaded(cancel, None)
        llama = self._slot.llama
        clock = StreamClock()
        prompt_tokens = _prompt_tokens(self._slot, request.messages)
        sampling = request.sampling
        kwargs: dict[str, Any] = {
            "messages": [m.as_dict() for m in request.messages],
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens,
            "repeat_penalty": sampling.repeat_penalty,
            # llama-cpp-python derives a fixed chain of seeds when none is given: draw one to honour "random".
            "seed": sampling.seed if sampling.seed is not None else random.SystemRandom().randrange(2**31),
            "stream": True,
        }
        opening, chunks = self._start(request, kwargs)
        finish: FinishReason = "stop"
        text: list[str] = []
        try:
            for chunk in chunks:
                if cancel.cancelled or abandoned.is_set():
                    raise Cancelled()
                choice = chunk["choices"][0]
                piece = choice.get("text") or choice.get("delta", {}).get("content") or ""
                if piece:
                    if not text:  # the note's opening goes out with the model's first token, never before it
                        piece = opening + piece
                    clock.piece(piece)
                    text.append(piece)
                    emit(piece)
                if choice.get("finish_reason") == "length":
                    finish = "length"
        finally:
            chunks.close()
        answer = "".join(text)
        completion_tokens = len(llama.tokenize(answer.encode("utf-8"), add_bos=False, special=False)) if answer else 0
        timings = clock.timings(load_s=load_s, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
        log.info("generated %s in %.2fs (%s)", text_stats(answer), timings.total_s, finish)
        return Completion(answer, self.model_name, "local", finish, timings)

    def _start(self, request: GenerationRequest, kwargs: dict[str, Any]) -> tuple[str, Any]:
        """Start streaming: (the text the answer starts with that the model does not write, the chunks).

        A structured note is prompted with its opening already written and a grammar for the rest
        (note_grammar.py), so the first token is the note's first word; the prompt is the one the chat completion
        would build (the GGUF's template, its stop strings). Without a template, or for a schema of another shape,
        the chat completion itself enforces the schema."""
        llama, formatter, schema = self._slot.llama, self._slot.formatter, request.json_schema
        if schema is None:
            return "", llama.create_chat_completion(**kwargs)
        try:
            if formatter is None:
                raise ValueError("no chat template to write the opening after")
            opening, grammar = note_opening_and_grammar(schema)
        except ValueError:
            return "", llama.create_chat_completion(**kwargs, response_format={"type": "json_object", "schema": schema})
        from llama_cpp import LlamaGrammar

        result = formatter(messages=kwargs.pop("messages"))
        prompt = (result.prompt + opening).encode("utf-8")
        tokens = llama.tokenize(prompt, add_bos=not result.added_special, special=True)
        stop = [] if result.stop is None else result.stop if isinstance(result.stop, list) else [result.stop]
        chunks = llama.create_completion(
            prompt=tokens, stop=stop, stopping_criteria=result.stopping_criteria,
            grammar=LlamaGrammar.from_string(grammar, verbose=False), **kwargs,
        )
        return opening, chunks

    def close(self) -> None:
        """Unload the model and stop its thread (waits for a running job to finish)."""
        self._finalizer()


def _template_formatter(llama: Any) -> Any:
    """llama-cpp-python's own formatter for the GGUF's chat template, or None when the GGUF has none."""
    template = (getattr(llama, "metadata", None) or {}).get("tokenizer.chat_template")
    if not template:
        return None
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    eos, bos = llama.token_eos(), llama.token_bos()
    return Jinja2ChatFormatter(
        template=template,
        eos_token=llama._model.token_get_text(eos) if eos != -1 else "",
        bos_token=llama._model.token_get_text(bos) if bos != -1 else "",
    )


def _prompt_tokens(slot: _ModelSlot, messages: Sequence[ChatMessage]) -> int:
    llama = slot.llama
    if slot.formatter is not None:
        result = slot.formatter(messages=[m.as_dict() for m in messages])
        return len(llama.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True))
    # No template (ChatML fallback): the content plus a few marker tokens per message.
    return sum(len(llama.tokenize(m.content.encode("utf-8"), add_bos=False)) + 5 for m in messages) + 3
