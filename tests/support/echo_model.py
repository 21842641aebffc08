"""A language-model seam for CLI tests: answers with a fixed text, or with exactly what it was sent, in small
pieces (so a placeholder split over tokens is seen re-identified), and records what it was sent."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from app.core.errors import CancelToken
from app.core.llm.base import ChatMessage, Completion, GenerationRequest, LoadProgress, Timings, TokenStream


class EchoingModel:
    backend = "local"
    model_name = "echo"

    def __init__(self, answer: str | None = None, *, piece: int = 3, context_window: int = 4096) -> None:
        self.answer = answer  # None: echo the last message sent
        self.piece = piece
        self.context_window = context_window
        self.seen: list[str] = []

    def load(self, cancel: CancelToken | None = None) -> Iterator[LoadProgress]:
        yield LoadProgress("ready", 1.0, "ready", done=True)

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def count_prompt_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return sum(len(m.content.split()) for m in messages)

    def stream(self, request: GenerationRequest, cancel: CancelToken | None = None) -> TokenStream:
        sent = request.messages[-1].content
        self.seen.append(sent)
        answer = sent if self.answer is None else self.answer
        pieces = [answer[i : i + self.piece] for i in range(0, len(answer), self.piece)]
        done = Completion(answer, "echo", "local", "stop", Timings(first_token_s=0.01, total_s=0.02))
        return TokenStream(iter(pieces), lambda: done)

    def complete(self, request: GenerationRequest, cancel: CancelToken | None = None) -> Completion:
        return self.stream(request, cancel).collect()

    def close(self) -> None:
        pass
