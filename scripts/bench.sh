#!/usr/bin/env bash
# Runs the project's benchmarks (results go into docs/benchmarks.md by hand, with the
# machine and date they print). Usage: scripts/bench.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
missing=()
for p in parallel bc; do command -v "$p" >/dev/null || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
echo "## orchestrator overhead"
"$root/bench/orchestrator/run.sh" "$build"
if [ -x "$root/bench/worker/run.sh" ]; then
  echo; echo "## worker decode loop"
  "$root/bench/worker/run.sh" "$build"
fi
