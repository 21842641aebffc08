"""One settings model for the whole app.

Sources, weakest first: defaults < TOML file < `CLINIC_*` environment variables < command-line overrides.
The file is `<user config dir>/clinic-assistant/settings.toml` or `$CLINIC_CONFIG_FILE`. Nested env vars use a
double underscore: `CLINIC_LLM__TEMPERATURE=0.1`.

Every field has a description and bounds: the settings dialog and the CLI read them from here. An invalid value
(a bad env var, an out-of-range number in the file) is reported once, naming the field, and that field falls back to
its default so the app still starts. A file that is not valid TOML at all is a `ConfigError`: we cannot tell what
the user meant, and silently overwriting it would lose their settings.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict

from app.core.errors import ConfigError
from app.core.paths import default_config_file

SCHEMA_VERSION = 1
ENV_PREFIX = "CLINIC_"


class Section(BaseModel):
    # Unknown keys are reported (a typo must not silently do nothing), then dropped.
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class AsrSettings(Section):
    model: str = Field("whisper-base", description="Speech model: an installed model name or a CTranslate2 directory.")
    language: str = Field("en", min_length=2, max_length=8, description="Spoken language code, or 'auto' to detect it.")
    beam_size: int = Field(
        1, ge=1, le=10, description="Beam width: 1 is fastest; larger is slower, sometimes more exact."
    )
    compute_type: Literal["int8", "int8_float32", "float32"] = Field(
        "int8", description="Numeric precision of the speech model on the CPU."
    )
    threads: int = Field(0, ge=0, le=256, description="CPU threads for speech recognition (0 = all cores).")
    vad: bool = Field(True, description="Skip silence with voice-activity detection (guards against invented text).")
    no_speech_threshold: float = Field(
        0.6, ge=0.0, le=1.0, description="Drop a segment whose no-speech probability is above this."
    )
    log_prob_threshold: float = Field(
        -1.0, ge=-10.0, le=0.0, description="Drop a segment whose average log-probability is below this."
    )
    compression_ratio_threshold: float = Field(
        2.4, ge=1.0, le=10.0, description="Drop a segment whose text repeats itself more than this (gzip ratio)."
    )
    low_confidence: float = Field(
        0.5, ge=0.0, le=1.0, description="Words recognised with less probability than this are highlighted."
    )
    vocabulary: list[str] = Field(
        default_factory=list, max_length=500, description="Extra terms (drugs, local names) to help recognition."
    )
    use_vocabulary_file: bool = Field(True, description="Also use the shipped medical vocabulary list.")
    dictation_commands: bool = Field(
        True, description="Act on spoken commands: 'new paragraph', 'full stop', 'scratch that'…"
    )
    format_numbers: bool = Field(True, description="Write spoken numbers and units as '50 mg', '140/90'.")
    input_device: str = Field("", max_length=200, description="Microphone name; empty = the system default.")
    queue_seconds: int = Field(
        120, ge=5, le=3600, description="Audio buffered between the microphone and the recogniser, in seconds."
    )
    vad_threshold: float = Field(
        0.5, ge=0.1, le=0.95, description="Voice-activity probability above which a moment counts as speech."
    )
    pause_ms: int = Field(
        500, ge=200, le=3000, description="A pause this long ends an utterance while dictating (milliseconds)."
    )
    max_utterance_s: float = Field(
        20.0, ge=5.0, le=28.0, description="Longest stretch recognised in one piece while dictating (seconds)."
    )
    preview_interval_s: float = Field(
        1.0, ge=0.0, le=10.0, description="How often the tentative text is refreshed while speaking (0 = never)."
    )
    prompt_max_terms: int = Field(
        40, ge=0, le=200, description="Most vocabulary terms given to the recogniser as hints (more slows it down)."
    )


class RedactionSettings(Section):
    review_before_sending: bool = Field(
        True, description="Show identifiers for review before any text reaches the language model."
    )
    allow: list[str] = Field(
        default_factory=list, max_length=2000, description="Terms never redacted (e.g. a drug that looks like a name)."
    )
    deny: list[str] = Field(default_factory=list, max_length=2000, description="Terms always redacted.")
    use_default_lists: bool = Field(True, description="Also use the shipped allow and deny lists.")
    date_offsets: bool = Field(
        True, description="Give the model dates as day offsets from the visit so intervals keep their meaning."
    )
    min_confidence: float = Field(
        0.3, ge=0.0, le=1.0, description="Identifiers detected with less confidence than this are left in place."
    )


class LlmSettings(Section):
    backend: Literal["local", "server"] = Field(
        "local", description="Run the model in this app (local) or on the clinic's OpenAI-compatible server."
    )
    model: str = Field(
        "qwen2.5-1.5b-instruct",
        max_length=500,
        description="Local model: an installed model name or a .gguf file in the models folder.",
    )
    server_url: str = Field(
        "http://127.0.0.1:8080/v1", max_length=500, description="Base URL of the clinic server (ends in /v1)."
    )
    server_model: str = Field("", max_length=200, description="Model name on the server; empty = the server's first.")
    # Never written to the settings file (see SECRET_FIELDS) and never shown in a repr: it lives in the encrypted
    # store, or in CLINIC_LLM__SERVER_API_KEY for headless use.
    server_api_key: str = Field(
        "", max_length=500, repr=False, description="API key for the server, if it needs one (kept in the store)."
    )
    server_timeout_s: float = Field(60.0, ge=1.0, le=3600.0, description="Seconds to wait for the server to answer.")
    server_retries: int = Field(2, ge=0, le=10, description="Retries when the server cannot be reached.")
    server_context_tokens: int = Field(
        4096, ge=512, le=262144, description="Context window of the server's model, in tokens (if it does not say)."
    )
    server_connect_timeout_s: float = Field(
        10.0, ge=0.5, le=300.0, description="Seconds to wait for a connection to the clinic server."
    )
    server_chunk_timeout_s: float = Field(
        60.0, ge=1.0, le=3600.0, description="Seconds without any data in the middle of an answer before giving up."
    )
    server_busy_notice_s: float = Field(
        3.0, ge=0.5, le=600.0, description="Say the request is queued when the server has not started after this long."
    )
    server_max_connections: int = Field(
        4, ge=1, le=64, description="Most connections this app opens to the clinic server at once."
    )
    server_ca_file: str = Field(
        "",
        max_length=1000,
        description="PEM file of the clinic's certificate authority for an https server; empty = the system's.",
    )
    server_fallback_local: bool = Field(
        False, description="Use the model on this computer when the clinic server cannot be reached."
    )
    temperature: float = Field(0.2, ge=0.0, le=2.0, description="Sampling temperature: low keeps drafts factual.")
    top_p: float = Field(
        0.9, gt=0.0, le=1.0, description="Nucleus sampling: keep the most likely tokens up to this mass."
    )
    max_tokens: int = Field(1024, ge=16, le=32768, description="Longest answer, in tokens.")
    repeat_penalty: float = Field(
        1.1, ge=1.0, le=2.0, description="Discourage repeating recent words (1.0 = off); small models loop without it."
    )
    seed: int = Field(-1, ge=-1, le=2**31 - 1, description="Random seed (-1 = random each time).")
    prior_context: bool = Field(
        True,
        description="When drafting, give the model the redacted summary of the patient's earlier accepted notes.",
    )
    summary_model_reading: bool = Field(
        False,
        description="After the parsers, let the model read each accepted note (redacted) for the patient summary too.",
    )
    idle_unload_s: int = Field(
        600, ge=0, le=86400, description="Unload the model after this many idle seconds to free VRAM (0 = never)."
    )


class GpuSettings(Section):
    n_gpu_layers: int | Literal["auto", "all"] = Field(
        "auto", description="Layers on the GPU: a number, 'all', or 'auto' (the fit planner decides)."
    )
    split_mode: Literal["none", "layer", "row"] = Field(
        "layer", description="How several GPUs share the model: by layer (safe) or by row (needs PCIe P2P)."
    )
    main_gpu: int = Field(0, ge=0, le=15, description="GPU that holds the whole model (split none) or scratch (row).")
    tensor_split: list[float] = Field(
        default_factory=list,
        max_length=16,
        description="Share of the model per GPU, e.g. [1, 1]; empty = by free VRAM.",
    )
    flash_attn: bool = Field(False, description="Use flash attention (faster on RDNA3 with long contexts).")
    offload_kqv: bool = Field(True, description="Keep the KV cache on the GPU.")
    n_ctx: int = Field(4096, ge=512, le=262144, description="Context window in tokens.")
    n_batch: int = Field(512, ge=32, le=16384, description="Prompt tokens processed per batch.")
    n_threads: int = Field(0, ge=0, le=512, description="CPU threads for generation (0 = all cores).")
    use_mmap: bool = Field(True, description="Memory-map the model file (fast start, shared pages).")
    use_mlock: bool = Field(False, description="Lock the model in RAM so it is never swapped out.")
    hip_visible_devices: str = Field(
        "",
        max_length=100,
        pattern=r"^[0-9, ]*$",
        description="HIP_VISIBLE_DEVICES: which GPUs ROCm may use, e.g. '0,1'.",
    )
    hsa_override_gfx_version: str = Field(
        "",
        max_length=20,
        pattern=r"^(\d+\.\d+\.\d+)?$",
        description="HSA_OVERRIDE_GFX_VERSION for GPUs ROCm does not list (10.3.0 for RX 6600, 11.0.0 for 780M).",
    )
    vram_margin_mib: int = Field(1024, ge=0, le=65536, description="VRAM the fit planner leaves free per GPU (MiB).")
    row_split_check: bool = Field(
        True, description="Before using row split, compare its output with layer split and fall back on mismatch."
    )

    @field_validator("tensor_split")
    @classmethod
    def _non_negative(cls, value: list[float]) -> list[float]:
        if any(v < 0 for v in value):
            raise ValueError("every share must be 0 or more")
        return value


class TtsSettings(Section):
    voice: str = Field("en_US-joe-medium", max_length=200, description="Piper voice installed in the models folder.")
    speed: float = Field(1.0, ge=0.5, le=2.0, description="Speaking rate (1.0 = the voice's own).")
    volume: float = Field(1.0, ge=0.0, le=1.0, description="Playback volume.")
    output_device: str = Field("", max_length=200, description="Speaker name; empty = the system default.")
    read_answers_aloud: bool = Field(
        False, description="Read each answer aloud as soon as it is complete."
    )
    sentence_pause_s: float = Field(0.2, ge=0.0, le=2.0, description="Silence between spoken sentences, in seconds.")
    date_order: Literal["month_first", "day_first"] = Field(
        "month_first", description="How to read a date written 03/04/2025: March 4th (month first) or 3rd April."
    )


class StorageSettings(Section):
    data_dir: str = Field("", max_length=1000, description="Folder for the encrypted store and logs; empty = default.")
    models_dir: str = Field("", max_length=1000, description="Folder with the models; empty = default.")
    auto_lock_minutes: int = Field(
        10, ge=0, le=480, description="Lock the app after this many idle minutes (0 = never)."
    )
    kdf_iterations: int = Field(
        256000, ge=64000, le=10_000_000, description="PBKDF2-HMAC-SHA512 iterations for a new store's key."
    )


class UiSettings(Section):
    clinic_name: str = Field("", max_length=200, description="Clinic name printed at the top of notes and letters.")
    doctor_name: str = Field("", max_length=200, description="Doctor's name printed at the top of notes and letters.")
    theme: Literal["system", "light", "dark"] = Field("system", description="Colour palette.")
    font_scale: float = Field(1.0, ge=0.75, le=2.0, description="Text size relative to the system's.")
    confirm_on_close_with_draft: bool = Field(True, description="Ask before closing with an unaccepted draft.")
    prepare_engines_early: bool = Field(
        True,
        description="Load and warm the speech, redaction and voice engines while the passphrase is typed, so the "
        "first consultation runs without pauses (uses their memory from the start).",
    )


class Settings(BaseModel):
    # A plain model, not BaseSettings: BaseSettings re-reads the environment inside model_validate, so a bad env var
    # could never be dropped. The environment is read once, explicitly, in `_env_values`.
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    schema_version: int = Field(SCHEMA_VERSION, ge=1, description="Version of this settings layout.")
    asr: AsrSettings = Field(default_factory=AsrSettings, description="Speech recognition.")
    redaction: RedactionSettings = Field(default_factory=RedactionSettings, description="Identifier redaction.")
    llm: LlmSettings = Field(default_factory=LlmSettings, description="Language model.")
    gpu: GpuSettings = Field(default_factory=GpuSettings, description="GPU and llama.cpp runtime.")
    tts: TtsSettings = Field(default_factory=TtsSettings, description="Read-aloud voice.")
    storage: StorageSettings = Field(default_factory=StorageSettings, description="Where data lives; locking.")
    ui: UiSettings = Field(default_factory=UiSettings, description="Appearance and behaviour of the window.")


class _EnvShape(BaseSettings, Settings):
    """Only tells pydantic-settings which CLINIC_* variables exist and how they nest."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid")


SECTIONS: tuple[str, ...] = ("asr", "redaction", "llm", "gpu", "tts", "storage", "ui")

# Fields never written to the settings file: saving drops them. The clinic server's API key lives in the encrypted
# store (app/core/storage/secrets.py, app/core/services/server_key.py) or in CLINIC_LLM__SERVER_API_KEY.
SECRET_FIELDS: tuple[tuple[str, str], ...] = (("llm", "server_api_key"),)

# schema_version N -> N+1. Each takes and returns the raw TOML dict. Add one when a field is renamed or moved.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


@dataclass
class LoadedSettings:
    settings: Settings
    path: Path
    warnings: list[str] = field(default_factory=list)
    file_exists: bool = True
    explicit_path: bool = False  # named by --config or $CLINIC_CONFIG_FILE rather than the default location

    @property
    def missing_file_notice(self) -> str | None:
        """Said once (CLI stderr, the log, the settings dialog) when a named settings file is not there: a typo in
        --config must not silently run on the defaults. The default location missing is a normal first start."""
        if self.file_exists or not self.explicit_path:
            return None
        return f"settings file {self.path} does not exist: using the defaults; it is created when settings are saved"


def _read_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"The settings file {path} is not valid TOML ({exc})",
            "Fix the file, or delete it to start from the defaults",
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"The settings file {path} cannot be read ({exc.strerror})", "Check its permissions"
        ) from None


def migrate(data: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    version = data.get("schema_version", SCHEMA_VERSION)
    if not isinstance(version, int) or version < 1:
        warnings.append(
            f"settings schema_version {version!r} is not a positive whole number: treated as {SCHEMA_VERSION}"
        )
        version = SCHEMA_VERSION
    if version > SCHEMA_VERSION:
        warnings.append(
            f"the settings file was written by a newer version (schema {version}); settings this version does not know "
            "are ignored"
        )
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](dict(data))
        version += 1
    data["schema_version"] = min(version, SCHEMA_VERSION)
    return data


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _env_values() -> dict[str, Any]:
    source = EnvSettingsSource(_EnvShape, env_prefix=ENV_PREFIX, env_nested_delimiter="__", case_sensitive=False)
    values = source()
    # CLINIC_CONFIG_FILE names the file; it is not a setting.
    values.pop("config_file", None)
    return values


def _drop(data: dict[str, Any], loc: tuple[Any, ...]) -> None:
    node: Any = data
    for key in loc[:-1]:
        if not isinstance(node, dict) or key not in node:
            return
        node = node[key]
    if isinstance(node, dict):
        node.pop(loc[-1], None)


def _existing_prefix(data: dict[str, Any], loc: tuple[Any, ...]) -> tuple[str, ...]:
    """The part of an error location that names keys in `data` (unions append 'int', "literal['auto']" …)."""
    node: Any = data
    prefix: list[str] = []
    for key in loc:
        if not isinstance(node, dict) or key not in node:
            break
        prefix.append(key)
        node = node[key]
    return tuple(prefix)


def _origin(loc: tuple[Any, ...], env: dict[str, Any]) -> str:
    node: Any = env
    for key in loc:
        if not isinstance(node, dict) or key not in node:
            return "the settings file"
        node = node[key]
    return "environment variable " + ENV_PREFIX + "__".join(str(k) for k in loc).upper()


# Term lists: a term is a word or a short phrase. A pasted paragraph (or a megabyte) as one vocabulary "term" makes
# the recogniser parrot it instead of hearing the speech, so such an item is dropped alone, with a warning.
TERM_MAX_CHARS = 100
_TERM_LISTS = {("asr", "vocabulary"), ("redaction", "allow"), ("redaction", "deny")}


def _unusable_text(value: str) -> bool:
    """A NUL character, or a lone surrogate (bytes in the environment or on the command line that are not UTF-8,
    which pydantic would refuse for the whole list)."""
    return "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value)


def drop_unusable_text(data: dict[str, Any], env: dict[str, Any], warnings: list[str]) -> None:
    """Report and remove string values no engine can use (see `_unusable_text`); a bad item of a list (one
    vocabulary term) is dropped alone, so the doctor's other terms are kept. Never quotes the value."""
    for section, values in data.items():
        if not isinstance(values, dict):
            continue
        for key, value in list(values.items()):
            loc = (section, key)
            name = f"{section}.{key}"
            if isinstance(value, str) and _unusable_text(value):
                warnings.append(
                    f"setting '{name}' from {_origin(loc, env)} holds a NUL character or bytes that are not UTF-8 "
                    "text: using the default"
                )
                del values[key]
            elif isinstance(value, list):
                kept = [v for v in value if not (isinstance(v, str) and _unusable_text(v))]
                if len(kept) != len(value):
                    warnings.append(
                        f"{len(value) - len(kept)} item(s) of setting '{name}' from {_origin(loc, env)} hold a NUL "
                        "character or bytes that are not UTF-8 text and are ignored"
                    )
                if loc in _TERM_LISTS:
                    short = [v for v in kept if not (isinstance(v, str) and len(v) > TERM_MAX_CHARS)]
                    if len(short) != len(kept):
                        warnings.append(
                            f"{len(kept) - len(short)} item(s) of setting '{name}' from {_origin(loc, env)} are longer "
                            f"than {TERM_MAX_CHARS} characters (a term is a word or a short phrase) and are ignored"
                        )
                    kept = short
                if len(kept) != len(value):
                    values[key] = kept


def validate_layers(data: dict[str, Any], env: dict[str, Any], warnings: list[str]) -> Settings:
    """Validate, reporting and dropping each bad field until the rest validates (bounded by the field count)."""
    for _ in range(200):
        try:
            return Settings.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                loc = _existing_prefix(data, err["loc"])
                name = ".".join(loc) or "settings"
                if err["type"] == "extra_forbidden":
                    warnings.append(f"unknown setting '{name}' in {_origin(loc, env)} is ignored")
                else:
                    warnings.append(
                        f"setting '{name}' from {_origin(loc, env)} is invalid ({err['msg']}): using the default"
                    )
                # A non-dict section ("llm = 3") is dropped whole.
                _drop(data, loc if loc else ("",))
    raise ConfigError("The settings could not be validated", "Delete the settings file to start from the defaults")


def load_settings(config_file: Path | None = None, overrides: dict[str, Any] | None = None) -> LoadedSettings:
    """Read file, environment and overrides; never raises for a bad value, only for an unreadable file."""
    explicit = config_file is not None or bool(os.environ.get("CLINIC_CONFIG_FILE"))
    path = config_file or default_config_file()
    warnings: list[str] = []
    data = migrate(_read_file(path), warnings)
    env = _env_values()
    merged = _deep_merge(_deep_merge(data, env), overrides or {})
    drop_unusable_text(merged, env, warnings)
    settings = validate_layers(merged, env, warnings)
    return LoadedSettings(
        settings=settings, path=path, warnings=warnings, file_exists=path.exists(), explicit_path=explicit
    )


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write atomically: a crash mid-write leaves the old file, never half a file. Secrets (`SECRET_FIELDS`) are
    left out: the file never holds the clinic server's API key."""
    path = path or default_config_file()
    data = settings.model_dump(mode="json")
    for section, key in SECRET_FIELDS:
        data.get(section, {}).pop(key, None)
    _write_atomically(path, tomli_w.dumps(data))
    return path


def secret_in_file(path: Path, section: str = "llm", key: str = "server_api_key") -> str:
    """A secret an older version (or a hand edit) left in the settings file; "" when there is none."""
    value = _read_file(path).get(section, {})
    found = value.get(key, "") if isinstance(value, dict) else ""
    return found if isinstance(found, str) else ""


def drop_secret_from_file(path: Path, section: str = "llm", key: str = "server_api_key") -> bool:
    """Rewrite the settings file without the secret, the rest exactly as it was written (not merged with defaults
    or the environment). Returns False when the file holds no such field."""
    data = _read_file(path)
    values = data.get(section)
    if not isinstance(values, dict) or key not in values:
        return False
    del values[key]
    _write_atomically(path, tomli_w.dumps(data))
    return True


def secret_from_env(section: str = "llm", key: str = "server_api_key") -> str | None:
    """The secret given by its CLINIC_* environment variable (names are read case-insensitively, as for every
    setting), or None. Headless use (a CLI on a server) sets the clinic server's key this way."""
    wanted = f"{ENV_PREFIX}{section}__{key}".upper()
    for name, value in os.environ.items():
        if name.upper() == wanted and value:
            return value
    return None


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def data_dir(settings: Settings) -> Path:
    from app.core.paths import default_data_dir

    return Path(settings.storage.data_dir).expanduser() if settings.storage.data_dir else default_data_dir()


def models_dir(settings: Settings) -> Path:
    from app.core.paths import default_models_dir

    return Path(settings.storage.models_dir).expanduser() if settings.storage.models_dir else default_models_dir()
