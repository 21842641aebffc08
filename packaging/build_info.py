"""What a bundle was built from: a fingerprint of the sources and installed packages, written as BUILD-INFO.json.

build.sh writes BUILD-INFO.json into the bundle; the packaging test reuses an existing dist/clinic-assistant only
when its fingerprint equals the current one (same app sources, resources, packaging files and installed packages),
so a stale bundle is never tested.

Usage:
  python packaging/build_info.py fingerprint
  python packaging/build_info.py write BUNDLE_DIR --version V --llama-report FILE.json --seconds N
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FINGERPRINTED = ("app", "resources", "packaging")
FINGERPRINTED_FILES = ("pyproject.toml", "LICENSE")
SKIPPED_PARTS = {"__pycache__", ".mypy_cache", ".ruff_cache"}


def _source_files(root: Path) -> list[Path]:
    files = [root / name for name in FINGERPRINTED_FILES if (root / name).is_file()]
    for folder in FINGERPRINTED:
        files += [
            p
            for p in (root / folder).rglob("*")
            if p.is_file() and not SKIPPED_PARTS.intersection(p.parts) and p.suffix != ".pyc"
        ]
    return sorted(files)


def installed_packages() -> list[str]:
    return sorted({f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions() if d.metadata["Name"]})


def source_fingerprint(root: Path = ROOT) -> str:
    digest = hashlib.sha256()
    for path in _source_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for line in installed_packages():
        digest.update(line.encode() + b"\n")
    return digest.hexdigest()


def write_build_info(bundle: Path, version: str, llama_report: dict[str, object], seconds: float) -> Path:
    info = {
        "name": "clinic-assistant",
        "version": version,
        "fingerprint": source_fingerprint(),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "build_seconds": round(seconds, 1),
        "python": platform.python_version(),
        "platform": f"{platform.system().lower()}-{platform.machine()}",
        "glibc": "-".join(platform.libc_ver()),
        "llama_cpp": {key: llama_report.get(key) for key in ("version", "native", "gpu", "cpu_features", "evidence")},
        "packages": installed_packages(),
    }
    target = bundle / "BUILD-INFO.json"
    target.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("fingerprint")
    write = sub.add_parser("write")
    write.add_argument("bundle", type=Path)
    write.add_argument("--version", required=True)
    write.add_argument("--llama-report", type=Path, required=True)
    write.add_argument("--seconds", type=float, default=0.0)
    args = parser.parse_args(argv)
    if args.action == "fingerprint":
        print(source_fingerprint())
        return 0
    report = json.loads(args.llama_report.read_text(encoding="utf-8"))
    print(write_build_info(args.bundle, args.version, report, args.seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
