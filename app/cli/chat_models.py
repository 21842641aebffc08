"""`--model` for the language model (ask, demo): refuse a name that is not a chat model before anything loads, and
list only the chat models (catalog language models and .gguf files in the models folder), never speech, redaction or
voice models."""

from __future__ import annotations

from pathlib import Path

from app.core.errors import ModelError
from app.core.model_catalog import CATALOG

ROLE_NAMES = {"asr": "speech recognition", "ner": "identifier detection", "tts": "voice", "llm": "chat"}


def chat_model_names(models_dir: Path) -> list[str]:
    """Catalog chat models, then the user's own .gguf files in the models folder (by file name)."""
    names = [name for name, spec in CATALOG.items() if spec.role == "llm"]
    catalog_files = {Path(spec.entry).name for spec in CATALOG.values()}
    try:
        own = sorted(p.name for p in models_dir.glob("*.gguf") if p.is_file() and p.name not in catalog_files)
    except OSError:
        own = []
    return names + own


def check_chat_model(name: str, models_dir: Path) -> None:
    """Raise a one-line ModelError unless `name` can be a chat model; a catalog chat model that is not installed is
    left to the loader, which says how to install it."""
    spec = CATALOG.get(name)
    if spec is not None:
        if spec.role != "llm":
            raise ModelError(
                f"'{name}' is a {ROLE_NAMES.get(spec.role, spec.role)} model, not a chat model "
                f"(chat models: {', '.join(chat_model_names(models_dir))})",
                "Give one of those, or the path of a .gguf file",
            )
        return
    for candidate in (Path(name).expanduser(), models_dir / name, models_dir / f"{name}.gguf"):
        if candidate.is_file():
            return
    raise ModelError(
        f"No model named '{name}' (chat models: {', '.join(chat_model_names(models_dir))}; or the path of a .gguf "
        f"file, or a .gguf file in {models_dir})",
        "Check the name with `clinic-assistant models list`",
    )
