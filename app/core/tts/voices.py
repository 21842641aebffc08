"""Piper voices in the models folder: `models/piper/NAME.onnx` with `NAME.onnx.json` beside it.

The default voice is also a catalog model (`piper-en_US-joe-medium`), so a missing or damaged default gets the
model registry's own fix in its hint (`clinic-assistant models install`). Any other voice a clinic drops into
`models/piper/` is listed and selectable by its file name.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from app.core.errors import ModelError
from app.core.tts.base import VoiceInfo

log = logging.getLogger(__name__)

VOICES_SUBDIR = "piper"
CATALOG_PREFIX = "piper-"


def voices_dir(models_dir: Path) -> Path:
    return models_dir / VOICES_SUBDIR


def describe_voice(model_path: Path, name: str | None = None) -> VoiceInfo:
    """Read a voice's JSON config; a voice that cannot be used says why in `problem` instead of raising."""
    config_path = Path(f"{model_path}.json")
    name = name or model_path.name.removesuffix(".onnx")
    if not config_path.is_file():
        return VoiceInfo(name, model_path, config_path, problem=f"its settings file {config_path.name} is missing")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        sample_rate = int(config["audio"]["sample_rate"])
        language = config.get("language", {}).get("code", "") or config.get("espeak", {}).get("voice", "")
        quality = str(config.get("audio", {}).get("quality", ""))
        speakers = int(config.get("num_speakers", 1))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return VoiceInfo(name, model_path, config_path, problem=f"its settings file {config_path.name} is not valid")
    return VoiceInfo(name, model_path, config_path, sample_rate, str(language), quality, speakers)


def list_voices(models_dir: Path) -> list[VoiceInfo]:
    """Every `*.onnx` in models/piper/, sorted by name, usable or not (unusable ones carry their `problem`)."""
    folder = voices_dir(models_dir)
    if not folder.is_dir():
        return []
    voices = [describe_voice(path) for path in sorted(folder.glob("*.onnx")) if path.is_file()]
    log.debug("found %d voice(s) in %s", len(voices), folder)
    return voices


def resolve_voice(name: str, models_dir: Path) -> VoiceInfo:
    """The usable voice called `name` (a voice name, a catalog name, or a path to an .onnx), or a ModelError."""
    path = Path(name).expanduser()
    if path.suffix == ".onnx" and path.is_file():
        return _usable(describe_voice(path))
    bare = name.removeprefix(CATALOG_PREFIX)
    from app.core.installed_models import locate
    from app.core.model_catalog import CATALOG

    catalog_name = CATALOG_PREFIX + bare
    if catalog_name in CATALOG:
        # Raises the registry's ModelError ("not installed" -> run models install; "corrupt" -> --force).
        return _usable(describe_voice(locate(catalog_name, models_dir), bare))
    candidate = voices_dir(models_dir) / f"{bare}.onnx"
    if candidate.is_file():
        return _usable(describe_voice(candidate))
    available = [v.name for v in list_voices(models_dir) if v.usable]
    raise ModelError(
        f"No voice named '{name}' in {voices_dir(models_dir)}",
        (f"Available voices: {', '.join(available)}" if available else "No voices are installed")
        + "; a Piper voice is NAME.onnx plus NAME.onnx.json in that folder (`clinic-assistant speak --list-voices`)",
    )


def _usable(voice: VoiceInfo) -> VoiceInfo:
    if voice.problem:
        raise ModelError(
            f"The voice '{voice.name}' cannot be used: {voice.problem}",
            f"Put the voice's .onnx.json beside {voice.model_path.name}, or choose another voice",
        )
    return voice
