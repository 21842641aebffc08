from __future__ import annotations

from pathlib import Path

import pytest

from app.core import config
from app.core.config import SECTIONS, Settings, load_settings, save_settings
from app.core.errors import ConfigError


def test_defaults_load_without_a_file(tmp_path: Path) -> None:
    loaded = load_settings(tmp_path / "none.toml")
    assert loaded.warnings == []
    assert loaded.settings.schema_version == config.SCHEMA_VERSION
    assert loaded.settings.asr.model == "whisper-base"


def test_every_field_has_a_description() -> None:
    for section in SECTIONS:
        model = type(getattr(Settings(), section))
        for name, info in model.model_fields.items():
            assert info.description, f"{section}.{name} has no description"


def test_file_then_env_then_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.toml"
    path.write_text('[llm]\ntemperature = 0.5\nmax_tokens = 300\n[gpu]\nsplit_mode = "row"\n')
    monkeypatch.setenv("CLINIC_LLM__TEMPERATURE", "0.1")
    loaded = load_settings(path, {"gpu": {"split_mode": "none"}})
    assert loaded.settings.llm.temperature == 0.1  # env beats file
    assert loaded.settings.llm.max_tokens == 300  # file beats default
    assert loaded.settings.gpu.split_mode == "none"  # override beats all
    assert loaded.warnings == []


def test_invalid_values_are_named_and_fall_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.toml"
    path.write_text('[llm]\nmax_tokens = 5\ntemprature = 1\n[gpu]\nn_gpu_layers = "most"\n')
    monkeypatch.setenv("CLINIC_LLM__TOP_P", "lots")
    loaded = load_settings(path)
    text = "\n".join(loaded.warnings)
    assert "llm.max_tokens" in text and "settings file" in text
    assert "unknown setting 'llm.temprature'" in text
    assert "gpu.n_gpu_layers" in text
    assert "CLINIC_LLM__TOP_P" in text
    s = loaded.settings
    assert s.llm.max_tokens == 1024 and s.llm.top_p == 0.9 and s.gpu.n_gpu_layers == "auto"


def test_n_gpu_layers_accepts_number_all_auto(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLINIC_GPU__N_GPU_LAYERS", "33")
    assert load_settings(tmp_path / "x.toml").settings.gpu.n_gpu_layers == 33
    monkeypatch.setenv("CLINIC_GPU__N_GPU_LAYERS", "all")
    assert load_settings(tmp_path / "x.toml").settings.gpu.n_gpu_layers == "all"


def test_broken_toml_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text("[llm\ntemperature = ")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(path) in info.value.message and "delete it" in info.value.hint


def test_save_round_trip_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLINIC_STORAGE__DATA_DIR")
    monkeypatch.delenv("CLINIC_STORAGE__MODELS_DIR")
    s = Settings()
    s.gpu.tensor_split = [1.0, 1.0]
    s.redaction.allow = ["Graves"]
    path = save_settings(s, tmp_path / "deep" / "settings.toml")
    assert not path.with_name(path.name + ".tmp").exists()
    again = load_settings(path)
    assert again.warnings == []
    assert again.settings.model_dump() == s.model_dump()


def test_migration_path_runs_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A constructed future: version 2 renamed llm.tokens to llm.max_tokens.
    monkeypatch.setattr(config, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(
        config.MIGRATIONS, 1, lambda d: {**d, "llm": {"max_tokens": d.get("llm", {}).pop("tokens", 1024)}}
    )
    monkeypatch.setattr(Settings.model_fields["schema_version"], "default", 2)
    path = tmp_path / "old.toml"
    path.write_text("schema_version = 1\n[llm]\ntokens = 256\n")
    loaded = load_settings(path)
    assert loaded.warnings == []
    assert loaded.settings.llm.max_tokens == 256
    assert loaded.settings.schema_version == 2


def test_newer_schema_warns_but_starts(tmp_path: Path) -> None:
    path = tmp_path / "new.toml"
    path.write_text("schema_version = 99\n")
    loaded = load_settings(path)
    assert any("newer version" in w for w in loaded.warnings)
