#!/usr/bin/env bash
# Runs the project's benchmarks (results go into docs/benchmarks.md by hand, with the
# machine and date they print). Usage: scripts/bench.sh BUILD_DIR
# Exits non-zero when orch's per-trial overhead exceeds its target relative to GNU
# parallel measured in the same run (bench/orchestrator/run.sh), so `make bench` catches
# a regression. SCALE_SIZES (default "1000 10000") are the sweep sizes of
# bench/orchestrator/scale.sh; "1000 10000 100000" is the full growth table (~20 min).
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
missing=()
for p in parallel bc time; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
echo "## orchestrator overhead"
"$root/bench/orchestrator/run.sh" "$build"
echo; echo "## orchestrator at scale"
"$root/bench/orchestrator/scale.sh" "$build" "${SCALE_SIZES:-1000 10000}"
if [ -x "$root/bench/worker/run.sh" ]; then
  echo; echo "## worker decode loop"
  "$root/bench/worker/run.sh" "$build"
fi
