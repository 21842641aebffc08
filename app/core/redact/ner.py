"""spaCy's named-entity recogniser, loaded with only its `ner` pipe (this model's NER has its own embedding layer;
tagger, parser and lemmatizer are not needed), which halves the time per note."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app.core.errors import EngineUnavailable, ModelError

MODEL_NAME = "spacy-en_core_web_sm"
CHUNK_CHARS = 20_000  # spaCy's memory grows with document length; long pastes go through in pieces

NerFunction = Callable[[list[str]], list[list[tuple[int, int, str]]]]


def load_spacy_ner(model_path: Path) -> NerFunction:
    """Load only the NER pipe; return a function from texts to (start, end, label) per text."""
    try:
        import spacy
    except (ImportError, OSError) as exc:
        raise EngineUnavailable(
            f"The spaCy library cannot be loaded ({type(exc).__name__})",
            "Reinstall the app, or `pip install spacy==3.8.*` in its environment",
        ) from None
    try:
        with_all = spacy.util.load_config(model_path / "config.cfg")["nlp"]["pipeline"]
        exclude = [pipe for pipe in with_all if pipe != "ner"]
        nlp = spacy.load(model_path, exclude=exclude)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(
            f"The spaCy model in {model_path} cannot be loaded ({type(exc).__name__})",
            f"Run `clinic-assistant models install --force {MODEL_NAME}`",
        ) from None
    nlp.max_length = CHUNK_CHARS * 2

    def run(texts: list[str]) -> list[list[tuple[int, int, str]]]:
        return [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in nlp.pipe(texts, batch_size=32)]

    return run


def chunks(text: str, size: int = CHUNK_CHARS) -> list[tuple[int, str]]:
    """(offset, piece) with pieces cut at a line break or sentence end where possible."""
    out: list[tuple[int, str]] = []
    pos = 0
    while pos < len(text):
        end = min(len(text), pos + size)
        if end < len(text):
            window = text[pos + size // 2 : end]
            cut = max(window.rfind("\n"), window.rfind(". "))
            if cut >= 0:
                end = pos + size // 2 + cut + 1
        out.append((pos, text[pos:end]))
        pos = end
    return out
