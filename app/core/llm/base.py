"""The language-model interface every backend implements, and the plain result types passed between layers.

Two backends exist: llama.cpp in this process (`LocalLlm`) and an OpenAI-compatible server on the clinic network
(`ServerLlm`). Both offer a streaming call and a non-streaming call as two separate methods (never one method whose
return type depends on a flag), both cancellable between tokens with a `CancelToken`. A cancelled call raises
`Cancelled`; the tokens already yielded stay with the caller.

Every answer is a draft: `Completion.draft` is always True and the UI and CLI say so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from app.core.config import LlmSettings
from app.core.errors import CancelToken

Role = Literal["system", "user", "assistant"]
FinishReason = Literal["stop", "length"]
Backend = Literal["local", "server"]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str

    def as_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.2
    top_p: float = 0.9
    max_tokens: int = 1024
    seed: int | None = None  # None = random each time
    repeat_penalty: float = 1.0

    @classmethod
    def from_settings(cls, llm: LlmSettings) -> Sampling:
        return cls(
            temperature=llm.temperature,
            top_p=llm.top_p,
            max_tokens=llm.max_tokens,
            seed=None if llm.seed < 0 else llm.seed,
            repeat_penalty=llm.repeat_penalty,
        )


@dataclass(frozen=True)
class GenerationRequest:
    messages: tuple[ChatMessage, ...]
    sampling: Sampling = field(default_factory=Sampling)
    # A JSON schema the answer must follow (llama.cpp grammar locally, response_format on a server).
    json_schema: dict[str, Any] | None = None
    schema_name: str = "answer"


@dataclass(frozen=True)
class Timings:
    load_s: float = 0.0  # loading done as part of this call (0 when the model was already loaded)
    first_token_s: float | None = None  # from the start of generation (after any load) to the first text
    total_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def tokens_per_s(self) -> float | None:
        """Generation speed after the first token (excludes load and prompt processing)."""
        if self.first_token_s is None or self.completion_tokens < 2:
            return None
        span = self.total_s - self.first_token_s
        return (self.completion_tokens - 1) / span if span > 0 else None

    def as_dict(self) -> dict[str, Any]:
        speed = self.tokens_per_s
        return {
            "load_s": round(self.load_s, 4),
            "first_token_s": None if self.first_token_s is None else round(self.first_token_s, 4),
            "total_s": round(self.total_s, 4),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "tokens_per_s": None if speed is None else round(speed, 2),
        }


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    backend: Backend
    finish_reason: FinishReason
    timings: Timings
    draft: bool = True


@dataclass(frozen=True)
class LoadProgress:
    """One step of loading. `fraction` runs from 0.0 to 1.0; the last item has `done=True`."""

    stage: Literal["locate", "plan", "load", "connect", "ready"]
    fraction: float
    message: str
    done: bool = False


class TokenStream:
    """Iterate for the answer's text pieces as they are generated; `completion` is set once the stream ended.

    Closing the stream early (break, `close()`) stops the generation between tokens, like cancelling it.
    """

    def __init__(self, pieces: Iterator[str], finish: Callable[[], Completion]) -> None:
        self._pieces = pieces
        self._finish = finish
        self.completion: Completion | None = None

    def __iter__(self) -> Iterator[str]:
        yield from self._pieces
        self.completion = self._finish()

    def close(self) -> None:
        close = getattr(self._pieces, "close", None)
        if close is not None:
            close()

    def collect(self) -> Completion:
        """Drain the stream and return the completion (for callers that only want the end result)."""
        for _ in self:
            pass
        assert self.completion is not None
        return self.completion


@runtime_checkable
class LanguageModel(Protocol):
    """What the app needs from a language model. Implementations own their threads and connections."""

    @property
    def backend(self) -> Backend: ...

    @property
    def model_name(self) -> str: ...

    @property
    def context_window(self) -> int:
        """Tokens the prompt and the answer must share (exact once loaded: a GPU plan may shorten the context)."""
        ...

    def load(self, cancel: CancelToken | None = None) -> Iterator[LoadProgress]:
        """Get ready (load weights / reach the server), yielding progress. Calls that need it load implicitly."""
        ...

    def stream(self, request: GenerationRequest, cancel: CancelToken | None = None) -> TokenStream:
        """Generate, yielding text pieces as they come. Raises `Cancelled` between tokens when cancelled."""
        ...

    def complete(self, request: GenerationRequest, cancel: CancelToken | None = None) -> Completion:
        """Generate the whole answer. Raises `Cancelled` between tokens when cancelled."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens `text` takes in a prompt (exact for the local model, a safe over-estimate for a server)."""
        ...

    def count_prompt_tokens(self, messages: Sequence[ChatMessage]) -> int:
        """Tokens the whole chat prompt takes, template included (exact locally, an over-estimate for a server)."""
        ...

    def close(self) -> None:
        """Free the model / connections. Safe to call twice."""
        ...


class StreamClock:
    """Measures one generation: time to first non-empty piece, total time, pieces counted."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.first_token_s: float | None = None
        self.pieces = 0

    def piece(self, text: str) -> None:
        if text and self.first_token_s is None:
            self.first_token_s = time.perf_counter() - self.start
        self.pieces += 1

    def timings(self, *, load_s: float, prompt_tokens: int, completion_tokens: int | None = None) -> Timings:
        return Timings(
            load_s=load_s,
            first_token_s=self.first_token_s,
            total_s=time.perf_counter() - self.start,
            prompt_tokens=prompt_tokens,
            completion_tokens=self.pieces if completion_tokens is None else completion_tokens,
        )
