#!/usr/bin/env bash
# Run every benchmark on this machine (quietly: nothing else should be running) and record the results.
#   bash bench/run.sh [STAGE...]
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(asr redact llm tts store pipeline gui server)
for stage in "${stages[@]}"; do
  extra=()
  [ "$stage" = redact ] && extra=(--sets all)  # the README's rows per data set (held-out, nursing, ...)
  .venv/bin/python -m app bench "$stage" "${extra[@]}" --json -o "bench/results/$stage.json" > /dev/null
done
.venv/bin/python bench/report.py bench/results
