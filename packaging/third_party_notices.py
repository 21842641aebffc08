"""Write THIRD_PARTY_NOTICES for a built bundle: every bundled distribution, system library and model package.

Sources of truth, in order:
- bundle-contents.json, written by clinic-assistant.spec: the module names and files that went into the bundle.
  A Python distribution is listed when one of its top-level names (from its RECORD) is in the bundle.
- each distribution's metadata (License-Expression / License / classifiers) and the licence files it installed
  (LICENSE*, COPYING*, NOTICE*, ThirdPartyNotices*, AUTHORS*), plus the libraries auditwheel vendored into it
  (its sboms/*.cdx.json).
- for libraries PyInstaller copied from the system (/usr/lib…), the Debian package that owns them and its
  /usr/share/doc/<package>/copyright.
- the Python runtime's own LICENSE.txt, and PyInstaller's bootloader licence.
- the model catalog (app/core/model_catalog.py) and, when a wheelhouse is given, the licence files in the model
  wheels (models are not in the bundle; they are installed from those wheels).
Identical licence texts are printed once, with the list of components that use them.

Usage: python packaging/third_party_notices.py --contents WORK/bundle-contents.json --version V \
           [--wheelhouse DIR] -o dist/clinic-assistant/THIRD_PARTY_NOTICES
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]
LICENCE_NAME = re.compile(r"^(LICEN[CS]E|COPYING|NOTICE|THIRDPARTYNOTICES|THIRD_PARTY_NOTICES|AUTHORS)", re.IGNORECASE)
MAX_LICENCE_BYTES = 2_000_000
OWN_DISTRIBUTIONS = {"clinic-assistant"}
RULE = "=" * 100
# Upstream authors a wheel's own licence file does not name, though their work ships inside it.
UPSTREAM_NOTES = {
    "zxcvbn": "A Python port of Dropbox's zxcvbn, whose word and password frequency lists it ships: MIT License, "
    "Copyright (c) 2012-2016 Dan Wheeler and Dropbox, Inc. (the MIT text below).",
}


@dataclass
class Component:
    name: str
    version: str
    licence: str
    kind: str  # "python", "system", "runtime", "model"
    url: str = ""
    texts: list[tuple[str, str]] = field(default_factory=list)  # (file label, text)
    vendored: list[str] = field(default_factory=list)  # libraries vendored inside a wheel
    note: str = ""


def _root_name(first_component: str) -> str:
    """`numpy` for numpy/…, `typing_extensions` for typing_extensions.py, `_cffi_backend` for _cffi_backend.*.so."""
    if first_component.endswith(".libs"):
        return first_component
    return first_component.split(".")[0]


def bundled_roots(manifest: dict[str, object]) -> set[str]:
    roots = {str(m).split(".")[0] for m in manifest["modules"]}  # type: ignore[attr-defined]
    for entry in manifest["files"]:  # type: ignore[attr-defined]
        parts = PurePosixPath(entry["dest"]).parts
        if len(parts) > 1 or entry["kind"] != "SYMLINK":  # top-level symlinks only point into package folders
            roots.add(_root_name(parts[0]))
    return roots


def _dist_roots(dist: metadata.Distribution) -> set[str]:
    roots = set()
    for f in dist.files or ():
        parts = PurePosixPath(str(f)).parts
        if not parts or parts[0] in {"..", "bin", "lib", "include", "share"} or parts[0].endswith(".dist-info"):
            continue
        roots.add(_root_name(parts[0]))
    return roots


def _field(meta: metadata.PackageMetadata, key: str) -> str:
    return str(meta[key] or "") if key in meta else ""


def _licence_of(meta: metadata.PackageMetadata) -> str:
    expression = _field(meta, "License-Expression")
    if expression:
        return expression
    text = _field(meta, "License").strip()
    if text and len(text) < 100 and "\n" not in text:
        return text
    classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if c.startswith("License")]
    return "; ".join(classifiers) or (text.splitlines()[0][:100] if text else "not stated in its metadata")


def _url_of(meta: metadata.PackageMetadata) -> str:
    for value in meta.get_all("Project-URL") or []:
        label, _, url = str(value).partition(",")
        if label.strip().lower() in {"homepage", "source", "repository", "source code", "home"}:
            return url.strip()
    return _field(meta, "Home-page")


def _read_text(path: Path) -> str | None:
    try:
        if path.stat().st_size > MAX_LICENCE_BYTES:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _vendored(dist: metadata.Distribution) -> list[str]:
    names = []
    for f in dist.files or ():
        path = PurePosixPath(str(f))
        if path.suffix == ".json" and "sboms" in path.parts:
            try:
                sbom = json.loads(Path(str(dist.locate_file(f))).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            for comp in sbom.get("components", [])[1:]:  # the first is the wheel itself
                names.append(f"{comp.get('name')} {comp.get('version', '')}".strip())
    return sorted(set(names))


def python_components(roots: set[str]) -> list[Component]:
    found: dict[str, Component] = {}
    for dist in metadata.distributions():
        name = str(dist.metadata["Name"] or "")
        if not name or name.lower() in OWN_DISTRIBUTIONS or name in found or not _dist_roots(dist) & roots:
            continue
        comp = Component(name, dist.version, _licence_of(dist.metadata), "python", _url_of(dist.metadata))
        comp.note = UPSTREAM_NOTES.get(name.lower(), "")
        for f in dist.files or ():
            path = PurePosixPath(str(f))
            if LICENCE_NAME.match(path.name) and path.suffix not in {".py", ".pyc"}:
                text = _read_text(Path(str(dist.locate_file(f))))
                if text:
                    comp.texts.append((path.as_posix(), text))
        comp.vendored = _vendored(dist)
        found[name] = comp
    return sorted(found.values(), key=lambda c: c.name.lower())


def _usrmerge_twin(path: str) -> str:
    """dpkg records the /lib/… or the /usr/lib/… spelling, whichever the package installed: try both."""
    if path.startswith("/usr/lib/"):
        return path[4:]
    return "/usr" + path if path.startswith("/lib/") else path


def _dpkg_owners(paths: list[str]) -> dict[str, str]:
    """Debian package owning each path (`dpkg -S`), for the libraries copied from the system."""
    if not paths:
        return {}
    queries = sorted({*paths, *(_usrmerge_twin(p) for p in paths)})
    done = subprocess.run(["dpkg", "-S", *queries], capture_output=True, text=True, check=False)
    owners = {}
    for line in done.stdout.splitlines():
        package, _, path = line.partition(": ")
        owners[path.strip()] = package.split(":")[0].strip()
    return owners


def _dpkg_version(package: str) -> str:
    done = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True, check=False)
    return done.stdout.strip()


def system_components(manifest: dict[str, object]) -> tuple[list[Component], list[str]]:
    """Libraries from outside any Python environment, grouped by owning Debian package; also the unowned ones."""
    # Python packages and the Python runtime (libpython, lib-dynload) are covered by their own sections.
    site = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], sys.base_prefix + "/"}
    sources = sorted(
        {
            str(Path(e["source"]).resolve())
            for e in manifest["files"]  # type: ignore[attr-defined]
            if e["kind"] == "BINARY" and not any(str(Path(e["source"]).resolve()).startswith(s) for s in site)
        }
    )
    owners = _dpkg_owners(sources) if Path("/usr/bin/dpkg").exists() else {}
    by_package: dict[str, list[str]] = {}
    unowned = []
    for src in sources:
        package = owners.get(src) or owners.get(_usrmerge_twin(src))
        if package:
            by_package.setdefault(package, []).append(Path(src).name)
        else:
            unowned.append(src)
    components = []
    for package, libs in sorted(by_package.items()):
        comp = Component(package, _dpkg_version(package), "see the copyright file below", "system")
        comp.vendored = sorted(libs)
        copyright_file = Path("/usr/share/doc") / package / "copyright"
        text = _read_text(copyright_file)
        if text:
            comp.texts.append((str(copyright_file), text))
        components.append(comp)
    return components, unowned


def runtime_components() -> list[Component]:
    python = Component("Python", sys.version.split()[0], "PSF-2.0", "runtime", "https://www.python.org/")
    licence = _read_text(Path(sysconfig.get_paths()["stdlib"]) / "LICENSE.txt")
    if licence:
        python.texts.append(("LICENSE.txt", licence))
    comps = [python]
    try:
        dist = metadata.distribution("pyinstaller")
    except metadata.PackageNotFoundError:
        return comps
    boot = Component(
        "PyInstaller bootloader",
        dist.version,
        "GPL-2.0-or-later WITH Bootloader-exception",
        "runtime",
        "https://pyinstaller.org/",
        note="The clinic-assistant executable's start-up code comes from PyInstaller.",
    )
    for f in dist.files or ():
        if LICENCE_NAME.match(PurePosixPath(str(f)).name):
            text = _read_text(Path(str(dist.locate_file(f))))
            if text:
                boot.texts.append((PurePosixPath(str(f)).name, text))
    comps.append(boot)
    return comps


# Standard licence texts Debian ships, for components that name their licence but ship no text. Checked in order: a
# component offered under several licences (PySide6: LGPL-3.0 or GPL) is used here under the first one listed.
COMMON_LICENCES: tuple[tuple[str, str], ...] = (
    ("LGPL-3", "LGPL-3"),
    ("Apache", "Apache-2.0"),
    ("MPL-2", "MPL-2.0"),
    ("GPL-3", "GPL-3"),
    ("GPL-2", "GPL-2"),
)


def add_common_licence_texts(components: list[Component], folder: Path = Path("/usr/share/common-licenses")) -> None:
    for comp in components:
        if comp.texts:
            continue
        for marker, filename in COMMON_LICENCES:
            if marker.lower() in comp.licence.lower().replace(" ", "-"):
                text = _read_text(folder / filename)
                if text:
                    comp.texts.append((f"standard text of {filename}", text))
                break


def _wheel_licences(wheel: Path) -> list[tuple[str, str]]:
    texts = []
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            name = PurePosixPath(info.filename).name
            if LICENCE_NAME.match(name) and info.file_size < MAX_LICENCE_BYTES and not name.endswith(".py"):
                texts.append((f"{wheel.name}:{info.filename}", zf.read(info).decode("utf-8", errors="replace")))
    return texts


def model_components(wheelhouse: Path | None) -> list[Component]:
    sys.path.insert(0, str(ROOT))
    from app.core.model_catalog import CATALOG

    wheels: dict[tuple[str, str], Path] = {}
    if wheelhouse and wheelhouse.is_dir():
        for wheel in wheelhouse.glob("*.whl"):
            fields = wheel.name.split("-")
            wheels[(re.sub(r"[-_.]+", "_", fields[0]).lower(), fields[1])] = wheel
    comps = []
    for spec in CATALOG.values():
        comp = Component(spec.name, "", spec.licence, "model", note=f"{spec.title}; from {', '.join(spec.packages)}")
        seen_texts: set[str] = set()
        for requirement in spec.packages:
            package, _, version = requirement.partition("==")
            found = wheels.get((re.sub(r"[-_.]+", "_", package).lower(), version))
            for label, text in _wheel_licences(found) if found else []:
                if text not in seen_texts:
                    seen_texts.add(text)
                    comp.texts.append((label, text))
        comps.append(comp)
    return comps


def render(version: str, sections: list[tuple[str, list[Component]]], unowned: list[str]) -> str:
    out = [
        f"Clinic Assistant {version}: third-party notices",
        "",
        "Clinic Assistant is free software under the GNU General Public License, version 3 or later (see LICENSE).",
        "This bundle also contains the software listed below, each under its own licence. The models are not part of",
        "the bundle: they are installed from their packages by `clinic-assistant models install`.",
        "",
    ]
    texts: dict[str, tuple[str, list[str]]] = {}  # digest -> (text, users)
    for title, comps in sections:
        out += [RULE, title, RULE]
        for c in comps:
            out.append(f"- {c.name} {c.version}".rstrip() + f"  [{c.licence}]" + (f"  {c.url}" if c.url else ""))
            if c.note:
                out.append(f"    {c.note}")
            if c.vendored:
                out.append("    contains: " + ", ".join(c.vendored))
            if not c.texts:
                out.append("    (no licence file shipped with it; its licence is named above)")
            for label, text in c.texts:
                digest = hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:12]
                texts.setdefault(digest, (text, []))[1].append(f"{c.name} ({label})")
                out.append(f"    licence text: [{digest}] {label}")
        out.append("")
    if unowned:
        out += [RULE, "Other libraries copied from the build machine (no package owner found)", RULE]
        out += [f"- {path}" for path in unowned] + [""]
    out += [RULE, "Licence texts", RULE]
    for digest, (text, users) in texts.items():
        out += ["", "-" * 100, f"[{digest}] used by: " + "; ".join(users), "-" * 100, text.rstrip()]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contents", type=Path, required=True, help="bundle-contents.json from the spec")
    parser.add_argument("--version", required=True)
    parser.add_argument("--wheelhouse", type=Path, help="folder of the model wheels")
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    manifest = json.loads(args.contents.read_text(encoding="utf-8"))
    system, unowned = system_components(manifest)
    sections = [
        ("Python packages in the bundle", python_components(bundled_roots(manifest))),
        ("Runtime", runtime_components()),
        ("System libraries in the bundle (from Debian packages)", system),
        ("Models (installed beside the bundle from their packages)", model_components(args.wheelhouse)),
    ]
    for _title, comps in sections:
        add_common_licence_texts(comps)
    args.output.write_text(render(args.version, sections, unowned), encoding="utf-8")
    counts = ", ".join(f"{len(comps)} {title.split(' ')[0].lower()}" for title, comps in sections)
    print(f"wrote {args.output} ({counts}; {len(unowned)} unowned libraries)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
