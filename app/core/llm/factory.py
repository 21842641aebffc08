"""Choosing the backend: the one place that knows both implementations."""

from __future__ import annotations

from pathlib import Path

from app.core.config import Settings
from app.core.llm.base import Backend, LanguageModel


def create_language_model(
    settings: Settings, models_dir: Path, *, backend: Backend | None = None, model: str | None = None
) -> LanguageModel:
    """`backend`/`model` override the settings (CLI flags). For the server, `model` is the server's model name.
    With `llm.server_fallback_local`, the local model answers while the server cannot be reached."""
    chosen = backend or settings.llm.backend
    if chosen == "server":
        from app.core.llm.openai_server import ServerLlm

        server = ServerLlm(settings, model=model)
        if not settings.llm.server_fallback_local:
            return server
        from app.core.llm.server_fallback import FallbackLlm

        def make_local() -> LanguageModel:
            from app.core.llm.llama_local import LocalLlm

            return LocalLlm(settings, models_dir)

        return FallbackLlm(server, make_local)
    from app.core.llm.llama_local import LocalLlm

    return LocalLlm(settings, models_dir, model=model)
