#!/usr/bin/env bash
# A/A validation of the report's speed verdicts (issue 13): PAIRS studies, each two cells
# with identical configurations told apart only by an `x_arm` axis (a, b; a is the
# baseline), run through the real pipeline — orch run with the real orch-worker on the
# committed quickstart model (fp32, CPU, full attention) — then `orch report`. Every b
# cell has the same true TPOT as its a cell, so every verdict other than "no measurable
# difference" is a false claim. Prints the verdict counts and the rate of "no measurable
# difference" (the issue asks for >= 95%). Writes nothing outside a temporary directory
# (kept with KEEP=1, its path printed).
#
# Usage: bench/aa/run.sh ORCH WORKER HELDOUT [PAIRS] [REPEATS] [TOKENS] [MIN_EFFECT]
#   ORCH      an orch binary (its report is the one under test)
#   WORKER    orch-worker built with LibTorch (build/orch-worker)
#   HELDOUT   the quickstart's held-out text (tools/quickstart_model/extract_text.py)
#   PAIRS     A/A comparisons (default 40), REPEATS `repeats` per cell (default 5): with an
#             orch since issue 13 these are replicates, each a fresh worker process claimed
#             interleaved across all cells; with an older orch, repeats in one process
#   TOKENS    decoded tokens per replicate (default 128), MIN_EFFECT (default 0.02)
# Env: ORCH_WORKER_THREADS (default 1, as scripts/demo.sh), OLD_ORCH: a second orch whose
# report is scored on the same database (e.g. a build before issue 13); ORDER
# (interleaved, default, or random) and ORDER_SEED (default 1) for the claim order.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
orch=$(realpath "$1")
worker=$(realpath "$2")
heldout=$(realpath "$3")
pairs=${4:-40}
repeats=${5:-5}
tokens=${6:-128}
min_effect=${7:-0.02}
order=${ORDER:-interleaved}
order_seed=${ORDER_SEED:-1}
export ORCH_WORKER_THREADS="${ORCH_WORKER_THREADS:-1}"
for b in "$orch" "$worker"; do [ -x "$b" ] || { echo "missing $b" >&2; exit 2; }; done
[ -f "$heldout" ] || { echo "missing $heldout" >&2; exit 2; }
work=$(mktemp -d)
if [ "${KEEP:-0}" = 1 ]; then echo "work dir: $work"; else trap 'rm -rf "$work"' EXIT; fi

{
  cat <<YAML
name: aa
context: A/A test of orch report's speed verdicts (bench/aa/run.sh).
model: $repo/models/quickstart
tokenizer: $repo/models/quickstart/tokenizer.json
dataset: $heldout
device: cpu
worker: $worker
order: $order
YAML
  [ "$order" = random ] && echo "order_seed: $order_seed"
  cat <<YAML
defaults:
  tokens: $tokens
  warmup: 8
  repeats: $repeats
  seed: 0
  timeout: 5m
  heartbeat_timeout: 60s
  retries: 1
  window: full
  quant: none
  dtype: fp32
studies:
YAML
  for i in $(seq -w 1 "$pairs"); do
    printf '  - id: p%s\n    x_pair: %d\n    matrix:\n      x_arm: [a, b]\n    baseline: {x_arm: a}\n' \
      "$i" "$((10#$i))"
  done
} > "$work/aa.yaml"

start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$(date +%s)
"$orch" run "$work/aa.yaml" --db "$work/aa.db" > "$work/run.log" 2>&1 || {
  tail -20 "$work/run.log" >&2; exit 1; }
t1=$(date +%s)

# The verdict of study pNN is the list its "TPOT against the baseline" claim puts b in.
score() {  # report.md -> "no-diff slower faster no-claim other"
  awk '/^- Study p[0-9]+: TPOT against the baseline/ {
         if ($0 ~ /: no measurable difference: /) n++;
         else if ($0 ~ /: slower: /) s++;
         else if ($0 ~ /: faster/) f++;
         else if ($0 ~ /no faster\/slower claim/) c++;
         else o++ }
       END { printf "%d %d %d %d %d\n", n, s, f, c, o }' "$1"
}
report() {  # orch-binary out-dir [args]
  local bin=$1 out=$2; shift 2
  "$bin" report --db "$work/aa.db" --out "$out" "$@" > /dev/null
  read -r n s f c o < <(score "$out/report.md")
  echo "no measurable difference $n, slower $s, faster $f, no claim $c, other $o;" \
       "rate $(awk -v n="$n" -v p="$pairs" 'BEGIN { printf "%.1f%%", 100 * n / p }')"
}

echo "A/A: $pairs pairs x 2 cells, repeats $repeats, tokens $tokens (+8 warm-up), fp32 CPU,"
echo "  order $order$([ "$order" = random ] && echo " seed $order_seed"),"\
     "ORCH_WORKER_THREADS=$ORCH_WORKER_THREADS, started $start, sweep took $((t1 - t0)) s"
echo "  host: $(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}'),"\
     "$(nproc) CPUs, load average at start: $load_start, at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  worker processes: $(find "$work" -name trial.json 2>/dev/null | wc -l)"
echo "orch report (min effect $min_effect): $(report "$orch" "$work/rep" --min-effect "$min_effect")"
echo "orch report (min effect 0):    $(report "$orch" "$work/rep0" --min-effect 0)"
if [ -n "${OLD_ORCH:-}" ]; then
  echo "OLD_ORCH report:              $(report "$OLD_ORCH" "$work/rep_old")"
fi
# The ratios, for the spread: one line per pair.
grep -oE '^- Study p[0-9]+: TPOT against.*\(([0-9.]+x \[[0-9.]+, [0-9.]+\])' "$work/rep/report.md" |
  sed -E 's/^- Study (p[0-9]+):.*\(([0-9.]+x \[[0-9.]+, [0-9.]+\])$/\1 \2/' > "$work/ratios.txt" || true
echo "ratios b/a [95% CI]: $(tr '\n' ';' < "$work/ratios.txt")"
