#!/usr/bin/env bash
# Orchestrator overhead benchmark (issue: "orch must cost next to nothing beside the
# trials it runs"). Measures, in one run on this machine:
#   1. per-trial cost beyond a bare fork/exec, for orch (-j1, no-op worker) and for GNU
#      parallel (-j1) running the same worker with the same trial file;
#   2. `orch plan` of a 10,000-cell matrix;
#   3. `orch resume` of a 10,000-trial database until its first worker launch.
# Medians of REPEATS runs. Usage: bench/orchestrator/run.sh BUILD_DIR [N_TRIALS] [REPEATS]
#
# The check (`make bench` runs it): exits 1, saying so, when orch's per-trial cost beyond
# the bare exec exceeds MAX_RATIO (default 0.5, issue 18's target) times GNU parallel's
# measured in the same run — a ratio within one run, so a slower or loaded machine does not
# fail it and a regression like the 14x of 2026-12 does.
set -euo pipefail
max_ratio=${MAX_RATIO:-0.5}
build=$(cd "${1:-build}" && pwd)
n=${2:-200}
repeats=${3:-5}
orch=$build/orch
fake=$build/tests/fake_worker
bare=$build/bench/bare_spawn
stamp_worker=$build/bench/stamp_worker
for b in "$orch" "$fake" "$bare" "$stamp_worker"; do
  [ -x "$b" ] || { echo "missing $b: build first (make build)" >&2; exit 2; }
done
command -v parallel >/dev/null || { echo "GNU parallel missing: apt-get install parallel" >&2; exit 2; }
work=$(mktemp -d)
trap 'sleep 1; rm -rf "$work"' EXIT

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# One trial file for the bare and parallel runs: same worker, same work as under orch.
mkdir -p "$work/solo"
cat > "$work/solo/trial.json" <<JSON
{"protocol":1,"trial_key":"bench","attempt":1,"attempt_dir":"$work/solo",
 "events_path":"/dev/null","result_path":"$work/solo/result.json",
 "config":{"tokens":16,"x_behavior":"ok"},"inputs":{}}
JSON

items=$(seq -s, 1 "$n" | sed 's/,/", "/g')
cat > "$work/spec.yaml" <<YAML
name: overhead
worker: $fake
defaults: {tokens: 16}
studies:
  - id: A
    matrix: {x_behavior: [ok], x_i: ["$items"]}
YAML

bare_t=() ; par_t=() ; orch_t=()
for r in $(seq "$repeats"); do
  bare_t+=("$("$bare" "$n" "$fake" --trial "$work/solo/trial.json")")
  t0=$(now); seq "$n" | parallel -j1 -N0 "$fake" --trial "$work/solo/trial.json" >/dev/null; t1=$(now)
  par_t+=("$(echo "$t1 - $t0" | bc -l)")
  rm -rf "$work/results"
  t0=$(now); (cd "$work" && "$orch" run spec.yaml >/dev/null); t1=$(now)
  orch_t+=("$(echo "$t1 - $t0" | bc -l)")
done
bare_m=$(printf '%s\n' "${bare_t[@]}" | median)
par_m=$(printf '%s\n' "${par_t[@]}" | median)
orch_m=$(printf '%s\n' "${orch_t[@]}" | median)
per() { echo "scale=3; ($1 - $bare_m) * 1000 / $n" | bc -l; }

# 10,000-cell plan.
ten=$(seq -s, 0 9 | sed 's/,/", "/g')
cat > "$work/big.yaml" <<YAML
name: big
worker: $stamp_worker
studies:
  - id: A
    matrix: {x_a: ["$ten"], x_b: ["$ten"], x_c: ["$ten"], x_d: ["$ten"]}
YAML
plan_t=()
for r in $(seq "$repeats"); do
  t0=$(now); (cd "$work" && "$orch" plan big.yaml --db "$work/none.db" >/dev/null); t1=$(now)
  plan_t+=("$(echo "$t1 - $t0" | bc -l)")
done
plan_m=$(printf '%s\n' "${plan_t[@]}" | median)

# 10,000-trial database, resumed: time from `orch resume` start to first worker launch.
resume_t=()
export ORCH_BENCH_STAMP="$work/stamp"
# (orch itself in the background, not a subshell around it, so that $! is orch's pid)
"$orch" run "$work/big.yaml" --db "$work/big.db" >/dev/null 2>&1 &
pid=$!
while [ ! -s "$work/stamp" ]; do sleep 0.01; done
kill -9 $pid; wait $pid 2>/dev/null || true
for r in $(seq "$repeats"); do
  rm -f "$work/stamp"
  t0=$(date +%s%N)
  "$orch" resume --db "$work/big.db" >/dev/null 2>&1 &
  pid=$!
  until grep -q " $pid\$" "$work/stamp" 2>/dev/null; do sleep 0.002; done
  kill -9 $pid; wait $pid 2>/dev/null || true
  t1=$(awk -v p="$pid" '$2 == p {print $1; exit}' "$work/stamp")
  sleep 0.5  # let the killed run's last worker finish before the next measurement
  resume_t+=("$(echo "($t1 - $t0) / 1000000000" | bc -l)")
done
resume_m=$(printf '%s\n' "${resume_t[@]}" | median)

cat <<EOF
machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; $(date -u +%F)
trials per run: $n, repeats: $repeats (medians)

| measurement | median | per trial beyond bare fork/exec |
|---|---|---|
| bare posix_spawn+wait of the worker, $n times | $(printf '%.3f' "$bare_m") s | (floor: $(echo "scale=3; $bare_m * 1000 / $n" | bc -l) ms per exec) |
| GNU parallel -j1, $n jobs | $(printf '%.3f' "$par_m") s | $(per "$par_m") ms |
| orch run -j1, $n trials (claim, spawn, events, result transaction, logs) | $(printf '%.3f' "$orch_m") s | $(per "$orch_m") ms |
| orch plan, 10,000 cells | $(printf '%.3f' "$plan_m") s | |
| orch resume, 10,000-trial database, start to first worker launch | $(printf '%.3f' "$resume_m") s | |
EOF

# The regression check: orch's per-trial cost against GNU parallel's, same run.
orch_per=$(per "$orch_m"); par_per=$(per "$par_m")
fmt() { LC_ALL=C printf "$1" "$(echo "scale=6; $2" | bc -l)"; }  # fmt FORMAT EXPR
ratio=$(fmt %.3f "$orch_per / $par_per")
echo
echo "per-trial cost, orch / GNU parallel (same run): $ratio (target <= $max_ratio: $(fmt %.2f "$ratio / $max_ratio")x the target)"
echo "orch resume to first worker launch: $(printf '%.3f' "$resume_m") s (target < 0.1 s: $(fmt %.2f "$resume_m / 0.1")x the target)"
if [ "$(echo "$ratio > $max_ratio" | bc -l)" = 1 ]; then
  echo "FAIL: orch's per-trial overhead is ${ratio}x GNU parallel's, above the target ${max_ratio}x (bench/orchestrator/run.sh)" >&2
  exit 1
fi
