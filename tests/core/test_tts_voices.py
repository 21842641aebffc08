"""Voice discovery in models/piper/ and WAV export (no synthesis: the chunks are made here)."""

from __future__ import annotations

import json
import shutil
import wave
from pathlib import Path

import numpy as np
import pytest

from app.core.errors import AudioError, InputError, ModelError
from app.core.tts.base import AudioChunk
from app.core.tts.voices import list_voices, resolve_voice
from app.core.tts.wav import write_wav

CONFIG = {"audio": {"sample_rate": 16000, "quality": "low"}, "language": {"code": "en_GB"}, "num_speakers": 1}


def _voice(folder: Path, name: str, config: object | None = CONFIG) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model = folder / f"{name}.onnx"
    model.write_bytes(b"not really a model")
    if config is not None:
        Path(f"{model}.json").write_text(config if isinstance(config, str) else json.dumps(config), encoding="utf-8")
    return model


def test_voices_in_the_piper_folder_are_listed_with_their_details_and_problems(tmp_path: Path) -> None:
    piper = tmp_path / "piper"
    _voice(piper, "en_GB-alba-low")
    _voice(piper, "no-config", config=None)
    _voice(piper, "broken-config", config="{not json")
    voices = {v.name: v for v in list_voices(tmp_path)}
    assert sorted(voices) == ["broken-config", "en_GB-alba-low", "no-config"]
    alba = voices["en_GB-alba-low"]
    assert alba.usable and alba.sample_rate == 16000 and alba.language == "en_GB" and alba.quality == "low"
    assert "missing" in voices["no-config"].problem
    assert "not valid" in voices["broken-config"].problem
    assert list_voices(tmp_path / "elsewhere") == []


def test_resolve_voice_by_name_by_path_and_failures(tmp_path: Path) -> None:
    piper = tmp_path / "piper"
    model = _voice(piper, "en_GB-alba-low")
    _voice(piper, "no-config", config=None)
    assert resolve_voice("en_GB-alba-low", tmp_path).model_path == model
    assert resolve_voice(str(model), tmp_path / "other").name == "en_GB-alba-low"
    with pytest.raises(ModelError) as unknown:
        resolve_voice("nobody", tmp_path)
    assert "en_GB-alba-low" in unknown.value.hint and "no-config" not in unknown.value.hint
    with pytest.raises(ModelError, match="cannot be used"):
        resolve_voice("no-config", tmp_path)


def test_the_default_voice_missing_points_to_models_install(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as info:
        resolve_voice("en_US-joe-medium", tmp_path)
    assert "models install" in info.value.hint


def test_the_installed_default_voice_resolves(models_dir: Path) -> None:
    voice = resolve_voice("en_US-joe-medium", models_dir)
    assert voice.sample_rate == 22050 and voice.language == "en_US"
    assert resolve_voice("piper-en_US-joe-medium", models_dir) == voice  # the catalog name works too


def _chunks(rate: int = 22050) -> list[AudioChunk]:
    tone = np.sin(np.linspace(0, 200 * np.pi, rate // 2)).astype(np.float32)
    return [AudioChunk(tone, rate, 0, "a"), AudioChunk(tone * 2.0, rate, 1, "b")]  # the second one clips


def test_wav_export_is_16_bit_mono_at_the_voice_rate(tmp_path: Path) -> None:
    out = tmp_path / "answer.wav"
    export = write_wav(_chunks(), out, 22050)
    assert export.duration_s == pytest.approx(1.0, abs=0.001) and export.sentences == 2
    with wave.open(str(out)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), wav.getnframes()) == (1, 2, 22050, 22050)
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    assert samples.max() == 32767 and samples.min() == -32767  # clipped, not wrapped around


def test_wav_export_refuses_bad_targets_and_leaves_no_partial_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        write_wav(_chunks(), tmp_path / "missing" / "a.wav", 22050)
    with pytest.raises(InputError, match=r"\.wav"):
        write_wav(_chunks(), tmp_path / "a.mp3", 22050)
    with pytest.raises(InputError, match="nothing to say"):
        write_wav([], tmp_path / "empty.wav", 22050)
    assert not (tmp_path / "empty.wav").exists()
    with pytest.raises(AudioError):
        write_wav(_chunks(16000), tmp_path / "rate.wav", 22050)
    assert not (tmp_path / "rate.wav").exists()

    def failing() -> object:
        yield _chunks()[0]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_wav(failing(), tmp_path / "cancelled.wav", 22050)  # type: ignore[arg-type]
    assert not (tmp_path / "cancelled.wav").exists()


def test_a_real_voice_copied_into_piper_is_listed(tmp_path: Path, models_dir: Path) -> None:
    source = models_dir / "piper" / "en_US-joe-medium.onnx"
    (tmp_path / "piper").mkdir()
    shutil.copy(Path(f"{source}.json"), tmp_path / "piper" / "clinic-voice.onnx.json")
    (tmp_path / "piper" / "clinic-voice.onnx").symlink_to(source)
    assert [v.name for v in list_voices(tmp_path) if v.usable] == ["clinic-voice"]
