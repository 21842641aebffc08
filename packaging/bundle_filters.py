"""Trimming and tidying of the PyInstaller TOCs, used by clinic-assistant.spec (kept here so tests can call them).

A TOC entry is `(dest_name, src_name, typecode)`. Everything here is plain Python with no PyInstaller import, so the
unit tests run without building anything.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

TocEntry = tuple[str, str, str]

# Files the app never opens, by destination path inside the bundle (fnmatch patterns).
UNUSED_DATA_PATTERNS: tuple[str, ...] = (
    # Source and typing files shipped inside wheels: nothing reads them at run time (thinc's *.cu kernels are read at
    # import, so they are not listed here).
    "*.pyx",
    "*.pxd",
    "*.pyi",
    "*.cpp",
    "*.c",
    "*.h",
    "*.hh",
    "*/py.typed",
    # Piper's Arabic diacritiser and Hebrew vowel models are loaded only for Arabic and Hebrew voices.
    "piper/tashkeel/model.onnx",
    "piper/hebrew/*.onnx",
    # Piper's training templates and web-server assets.
    "piper/train/*",
    "piper/templates/*",
    "piper/img/*",
    # spaCy's own test data.
    "spacy/tests/*",
    # The app ships its own prose; Qt's UI translations for other languages are not loaded.
    "PySide6/Qt/translations/*",
)

# Qt's virtual keyboard (for touch kiosks) arrives as a platform input-context plugin; nothing else needs its libraries.
# It is also why Qt Quick and QML (16 MB) were collected: the plugin links them, and PyInstaller gathers a plugin's
# libraries before this filter drops the plugin. No plugin the widget GUI loads links them.
UNUSED_QT_BINARIES: tuple[str, ...] = (
    "*libQt6VirtualKeyboard*",
    "*/platforminputcontexts/libqtvirtualkeyboardplugin.so",
    "*libQt6Quick*.so*",
    "*libQt6Qml*.so*",
)

# ROCm/HIP runtime libraries: taken from the workstation's ROCm install, never bundled, because rocBLAS and hipBLAS
# find their kernel files relative to their own location under /opt/rocm.
ROCM_LIBRARY_PATTERNS: tuple[str, ...] = (
    "libamdhip64.so*",
    "libhipblas*.so*",
    "librocblas.so*",
    "librocsolver.so*",
    "librocsparse.so*",
    "libhsa-runtime64.so*",
    "libamd_comgr.so*",
    "libhiprtc*.so*",
    "librocm_smi64.so*",
    "librocprofiler-register.so*",
    "libroctx64.so*",
    "libdrm_amdgpu.so*",
)


def _symlink_target(entry: TocEntry) -> str:
    """The bundle path a SYMLINK entry points at (its source is relative to the link's folder)."""
    return os.path.normpath(PurePosixPath(entry[0]).parent / entry[1]).replace(os.sep, "/")


def drop_matching(toc: Iterable[TocEntry], patterns: Iterable[str]) -> list[TocEntry]:
    """The entries whose destination path matches none of the patterns, without links left pointing at nothing."""
    pats = tuple(patterns)
    kept: list[TocEntry] = []
    dropped: set[str] = set()
    for entry in toc:
        dest = PurePosixPath(entry[0]).as_posix()
        if any(fnmatch(dest, p) or fnmatch(PurePosixPath(dest).name, p) for p in pats):
            dropped.add(dest)
            continue
        kept.append(entry)
    return [e for e in kept if e[2] != "SYMLINK" or _symlink_target(e) not in dropped]


def drop_rocm_runtime(toc: Iterable[TocEntry]) -> list[TocEntry]:
    """Remove ROCm runtime libraries (by name, or by coming from /opt/rocm*) so the system's are used."""
    kept: list[TocEntry] = []
    dropped: set[str] = set()
    for entry in toc:
        name = PurePosixPath(entry[0]).name
        from_rocm = entry[2] != "SYMLINK" and entry[1].startswith("/opt/rocm")
        if from_rocm or any(fnmatch(name, p) for p in ROCM_LIBRARY_PATTERNS):
            dropped.add(PurePosixPath(entry[0]).as_posix())
            continue
        kept.append(entry)
    return [e for e in kept if e[2] != "SYMLINK" or _symlink_target(e) not in dropped]


def _digest(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def link_identical_copies(toc: Iterable[TocEntry], under: str) -> list[TocEntry]:
    """Replace byte-identical copies of a binary in one folder by symbolic links to one of them.

    Wheels cannot hold symlinks, so llama-cpp-python ships libllama.so, libllama.so.0 and libllama.so.0.5.0 as three
    full copies (and the same for each ggml library). The longest name (the fully versioned file) stays a file;
    the others become links, which PyInstaller writes as SYMLINK entries and tar preserves.
    """
    entries = list(toc)
    groups: dict[tuple[str, str, int], list[int]] = {}
    for index, (dest, src, typecode) in enumerate(entries):
        dest_path = PurePosixPath(dest)
        if typecode != "BINARY" or not dest_path.as_posix().startswith(under) or not os.path.isfile(src):
            continue
        key = (dest_path.parent.as_posix(), _digest(src), os.path.getsize(src))
        groups.setdefault(key, []).append(index)
    for indices in groups.values():
        if len(indices) < 2:
            continue
        keep = max(indices, key=lambda i: (len(entries[i][0]), entries[i][0]))
        target = PurePosixPath(entries[keep][0]).name
        for i in indices:
            if i != keep:
                entries[i] = (entries[i][0], target, "SYMLINK")
    return entries


def resource_datas(resources: Path) -> list[tuple[str, str]]:
    """`(source, dest_dir)` pairs for the shipped resources, without developer scripts and caches."""
    pairs = []
    for path in sorted(resources.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix in {".py", ".pyc"}:
            continue
        dest = Path("resources") / path.parent.relative_to(resources)
        pairs.append((str(path), dest.as_posix()))
    return pairs


def write_contents_manifest(
    path: Path, pure: Iterable[TocEntry], binaries: Iterable[TocEntry], datas: Iterable[TocEntry]
) -> None:
    """What went into the bundle (module names, and destination + source of every file), for the notices generator."""
    manifest = {
        "modules": sorted({entry[0] for entry in pure}),
        "files": sorted(
            [{"dest": e[0], "source": e[1], "kind": e[2]} for e in [*binaries, *datas]], key=lambda f: f["dest"]
        ),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
