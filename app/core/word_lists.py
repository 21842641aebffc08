"""The word lists the app ships in resources/ (redaction, grounding, summaries): one reader for all of them."""

from __future__ import annotations

from pathlib import Path

from app.core.errors import ConfigError


def read_word_list(path: Path) -> list[str]:
    """Non-empty lines that are not comments ('#'), stripped. A missing file means an incomplete install."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"The word list {path.parent.name}/{path.name} cannot be read ({exc.strerror})",
            "Reinstall the app: its resources folder is incomplete",
        ) from None
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
