#!/usr/bin/env bash
# Build the installable bundle of Clinic Assistant (PyInstaller, one folder) from the project's .venv.
#   bash packaging/build.sh                           # dist/clinic-assistant/ + dist/clinic-assistant-<v>-linux-x86_64.tar.gz
#   bash packaging/build.sh --with-models-wheelhouse  # ... plus dist/clinic-assistant/wheelhouse/ (the model wheels) and
#                                                     #     dist/clinic-assistant-models-<v>.tar (for offline installs)
# Options:
#   --no-archive     only the folder (the packaging test uses this)
#   --dist DIR       output folder (default: dist/)          --work DIR   PyInstaller's work folder (default: build/)
#   --allow-native   bundle a llama-cpp-python built for this CPU only (-march=native): for this machine only
# Environment: PYTHON (default .venv/bin/python), CLINIC_CACHE (model wheels in $CLINIC_CACHE/wheelhouse,
#   default ~/.cache/clinic-assistant).
# Exit codes: 0 built, 2 bad usage or missing input, 3 llama-cpp-python is a native build (see docs/packaging.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VPY=${PYTHON:-$ROOT/.venv/bin/python}
DIST=$ROOT/dist
WORK=$ROOT/build
ARCHIVE=1
WITH_MODELS=0
ALLOW_NATIVE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --with-models-wheelhouse) WITH_MODELS=1 ;;
    --no-archive) ARCHIVE=0 ;;
    --allow-native) ALLOW_NATIVE=1 ;;
    --dist) DIST=$(realpath -m "$2"); shift ;;
    --work) WORK=$(realpath -m "$2"); shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "error: unknown option $1. Run 'bash packaging/build.sh --help' for the options." >&2; exit 2 ;;
  esac
  shift
done

STEP_START=$(date +%s)
say() { printf '==> [%4ds] %s\n' "$(( $(date +%s) - STEP_START ))" "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
[ -x "$VPY" ] || { echo "error: $VPY not found. Run 'bash packaging/setup.sh' first." >&2; exit 2; }
"$VPY" -c "import PyInstaller" 2>/dev/null || { echo "error: PyInstaller is not installed in $VPY. Run 'bash packaging/setup.sh'." >&2; exit 2; }

START=$(date +%s)
VERSION=$("$VPY" -c 'import app; print(app.__version__)')
ARCH=$(uname -m)
mkdir -p "$DIST" "$WORK"

# 1. A bundle goes to other machines: its llama.cpp must not be tuned to this CPU.
say "Checking how llama-cpp-python was built"
set +e
"$VPY" packaging/llama_portability.py > "$WORK/llama-build.json"
LLAMA_RC=$?
set -e
LLAMA_SUMMARY=$("$VPY" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r.get("error") or "{} build, {}".format(r["gpu"], r["evidence"]))' "$WORK/llama-build.json")
case $LLAMA_RC in
  0) say "llama-cpp-python is portable: $LLAMA_SUMMARY" ;;
  3) if [ $ALLOW_NATIVE = 1 ]; then
       warn "llama-cpp-python was built for this CPU only ($LLAMA_SUMMARY): the bundle may crash elsewhere"
     else
       echo "error: llama-cpp-python was built for this CPU only ($LLAMA_SUMMARY). Rebuild it portable:" \
            "CLINIC_LLAMA_CMAKE_ARGS=-DGGML_NATIVE=OFF bash packaging/setup.sh (or pass --allow-native for a" \
            "bundle used on this machine only)." >&2
       exit 3
     fi ;;
  *) warn "could not prove llama-cpp-python is portable ($LLAMA_SUMMARY)" ;;
esac
GPU=$("$VPY" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("gpu", "cpu"))' "$WORK/llama-build.json")
VARIANT=""
if [ "$GPU" = hip ]; then
  export CLINIC_BUNDLE_GPU=hip  # the spec leaves ROCm's own libraries out: the workstation's ROCm provides them
  VARIANT="-rocm"
elif [ "$GPU" != cpu ]; then
  warn "llama-cpp-python is a $GPU build; only CPU and HIP bundles are tested"
  VARIANT="-$GPU"
fi

# 2. PyInstaller.
say "Running PyInstaller (one folder) into $DIST/clinic-assistant"
if ! "$VPY" -m PyInstaller --noconfirm --log-level WARN --distpath "$DIST" --workpath "$WORK" \
    packaging/clinic-assistant.spec > "$WORK/pyinstaller.log" 2>&1; then
  tail -40 "$WORK/pyinstaller.log" >&2
  echo "error: PyInstaller failed; the whole log is $WORK/pyinstaller.log" >&2
  exit 1
fi
BUNDLE=$DIST/clinic-assistant

# 3. Debug information is most of some wheels' libraries (CTranslate2: 65 of 68 MB); nothing at run time reads it.
#    Only libraries inside _internal/: the executable carries the bundle's archive after its ELF image.
if command -v strip >/dev/null; then
  say "Removing debug information from bundled libraries"
  find "$BUNDLE/_internal" -type f -name '*.so*' -print0 | while IFS= read -r -d '' lib; do
    if readelf -S --wide "$lib" 2>/dev/null | grep -q '\.debug_'; then strip --strip-debug "$lib"; fi
  done
else
  warn "strip not found (Debian package binutils): the bundle keeps its debug information (~250 MB more)"
fi

# 4. Licences, notices, the end-user read-me and what the bundle was built from.
say "Writing LICENSE, THIRD_PARTY_NOTICES, README.txt, BUILD-INFO.json"
MODEL_WHEELS=${CLINIC_CACHE:-$HOME/.cache/clinic-assistant}/wheelhouse
cp LICENSE "$BUNDLE/LICENSE"
cp packaging/bundle-readme.txt "$BUNDLE/README.txt"
NOTICE_ARGS=()
[ -d "$MODEL_WHEELS" ] && NOTICE_ARGS=(--wheelhouse "$MODEL_WHEELS")
"$VPY" packaging/third_party_notices.py --contents "$WORK/clinic-assistant/bundle-contents.json" \
  --version "$VERSION" "${NOTICE_ARGS[@]}" -o "$BUNDLE/THIRD_PARTY_NOTICES"

# 5. The model wheels beside the executable: `models install` finds wheelhouse/ there by itself.
if [ $WITH_MODELS = 1 ]; then
  say "Copying the model wheels from $MODEL_WHEELS into $BUNDLE/wheelhouse"
  mkdir -p "$BUNDLE/wheelhouse"
  "$VPY" - "$MODEL_WHEELS" <<'PYEOF' | while IFS= read -r wheel; do cp -l "$wheel" "$BUNDLE/wheelhouse/" 2>/dev/null || cp "$wheel" "$BUNDLE/wheelhouse/"; done
import re, sys
from pathlib import Path
from app.core.model_catalog import CATALOG
folder = Path(sys.argv[1])
norm = lambda s: re.sub(r"[-_.]+", "_", s).lower()
have = {(norm(w.name.split("-")[0]), w.name.split("-")[1]): w for w in folder.glob("*.whl")}
need = sorted({p for spec in CATALOG.values() for p in spec.packages})
missing = [p for p in need if (norm(p.split("==")[0]), p.split("==")[1]) not in have]
if missing:
    sys.exit(f"error: model wheels missing from {folder}: {', '.join(missing)}. Run 'bash packaging/setup.sh' to fetch them.")
for p in need:
    print(have[(norm(p.split("==")[0]), p.split("==")[1])])
PYEOF
  [ "$(ls "$BUNDLE/wheelhouse" | wc -l)" -gt 0 ] || { echo "error: no model wheels copied" >&2; exit 2; }
fi

ELAPSED=$(( $(date +%s) - START ))
"$VPY" packaging/build_info.py write "$BUNDLE" --version "$VERSION" --llama-report "$WORK/llama-build.json" \
  --seconds "$ELAPSED" >/dev/null

# 6. Size: what dominates the bundle.
APP_MB=$(du -sm --exclude=wheelhouse "$BUNDLE" | cut -f1)
say "Bundle: $APP_MB MB (without models). Largest parts:"
# awk reads all of sort's output (`head` would exit early, and under pipefail sort's broken pipe fails the build).
du -sm "$BUNDLE"/_internal/* 2>/dev/null | sort -rn | awk 'NR <= 12 {printf "      %5d MB  %s\n", $1, substr($2, match($2, /_internal/) + 10)}' >&2

# 7. Archives: the app, and (with --with-models-wheelhouse) the models as a second archive that unpacks beside it.
if [ $ARCHIVE = 1 ]; then
  APP_ARCHIVE=$DIST/clinic-assistant-$VERSION$VARIANT-linux-$ARCH.tar.gz
  say "Writing $APP_ARCHIVE"
  tar -C "$DIST" --sort=name --owner=0 --group=0 --numeric-owner --exclude='clinic-assistant/wheelhouse' \
    -cf - clinic-assistant | gzip -6 > "$APP_ARCHIVE.partial"
  mv "$APP_ARCHIVE.partial" "$APP_ARCHIVE"
  if [ $WITH_MODELS = 1 ]; then
    MODELS_ARCHIVE=$DIST/clinic-assistant-models-$VERSION.tar  # wheels are zip files already: no compression
    say "Writing $MODELS_ARCHIVE"
    tar -C "$DIST" --sort=name --owner=0 --group=0 --numeric-owner -cf "$MODELS_ARCHIVE.partial" clinic-assistant/wheelhouse
    mv "$MODELS_ARCHIVE.partial" "$MODELS_ARCHIVE"
  fi
  ls -la "$DIST"/clinic-assistant-*"$VERSION"*.tar* | awk '{printf "      %6d MB  %s\n", $5 / 1048576, $9}' >&2
fi
say "Built clinic-assistant $VERSION$VARIANT in $(( $(date +%s) - START )) s: $BUNDLE"
