#!/usr/bin/env bash
# A/A validation of the report's speed verdicts (issues 13, 22): PAIRS studies, each ARMS
# cells with identical configurations told apart only by an `x_arm` axis (a, b, ...; a is
# the baseline), run through the real pipeline — orch run with the real orch-worker on the
# committed quickstart model (fp32, CPU, full attention) — then `orch report`. Every other
# cell has the same true TPOT as its a cell, so every verdict other than "no measurable
# difference" is a false claim. Prints the verdict counts per comparison and the rate of
# false claims, and the position effect (analyze.py). Writes nothing outside a temporary
# directory (kept with KEEP=1, its path printed).
#
# Usage: bench/aa/run.sh ORCH WORKER HELDOUT [PAIRS] [REPEATS] [TOKENS] [MIN_EFFECT]
#   ORCH      an orch binary (its report is the one under test)
#   WORKER    orch-worker built with LibTorch (build/orch-worker)
#   HELDOUT   the quickstart's held-out text (tools/quickstart_model/extract_text.py)
#   PAIRS     A/A studies (default 40; (ARMS - 1) comparisons each), REPEATS `repeats` per
#             cell (default 5): with an
#             orch since issue 13 these are replicates, each a fresh worker process claimed
#             interleaved across all cells; with an older orch, repeats in one process
#   TOKENS    decoded tokens per replicate (default 128), MIN_EFFECT (default 0.02)
# Env: ORCH_WORKER_THREADS (default 1, as scripts/demo.sh), OLD_ORCH: a second orch whose
# report is scored on the same database (e.g. a build before issue 22); ARMS (default 2)
# cells per study; ORDER (unset: orch's default, random since issue 22; interleaved;
# random) and ORDER_SEED (unset: orch's default 0) for the claim order; SUBSETS (e.g. "3"):
# also score the first K replicates of every cell (analyze.py subset: what `repeats: K`
# would have measured, rounds 1..K).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
orch=$(realpath "$1")
worker=$(realpath "$2")
heldout=$(realpath "$3")
pairs=${4:-40}
repeats=${5:-5}
tokens=${6:-128}
min_effect=${7:-0.02}
arms=${ARMS:-2}
order=${ORDER:-}
order_seed=${ORDER_SEED:-}
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
YAML
  [ -n "$order" ] && echo "order: $order"
  [ -n "$order_seed" ] && echo "order_seed: $order_seed"
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
  arm_list=$(echo a b c d e f g h i j k l | cut -d' ' -f1-"$arms" | sed 's/ /, /g')
  for i in $(seq -w 1 "$pairs"); do
    printf '  - id: p%s\n    x_pair: %d\n    matrix:\n      x_arm: [%s]\n    baseline: {x_arm: a}\n' \
      "$i" "$((10#$i))" "$arm_list"
  done
} > "$work/aa.yaml"

start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$(date +%s)
"$orch" run "$work/aa.yaml" --db "$work/aa.db" > "$work/run.log" 2>&1 || {
  tail -20 "$work/run.log" >&2; exit 1; }
t1=$(date +%s)

# One verdict per compared cell: its observation line ends "...the baseline's median, 95%
# CI [lo, hi]: VERDICT".
score() {  # report.md -> "no-diff slower faster no-claim other"
  grep -oE "x the baseline's median, 95% CI \[[^]]*\]: [a-z/ ]+" "$1" |
    awk -F': ' '{ v = $2
         if (v ~ /^no measurable difference/) n++;
         else if (v ~ /^slower/) s++;
         else if (v ~ /^faster/) f++;
         else if (v ~ /^no faster\/slower claim/) c++;
         else o++ }
       END { printf "%d %d %d %d %d\n", n, s, f, c, o }'
}
report() {  # orch-binary db out-dir [args]
  local bin=$1 db=$2 out=$3; shift 3
  "$bin" report --db "$db" --out "$out" "$@" > /dev/null
  read -r n s f c o < <(score "$out/report.md")
  echo "no measurable difference $n, slower $s, faster $f, no claim $c, other $o;" \
       "false claims $((s + f))/$((n + s + f + c + o))"
}

echo "A/A: $pairs studies x $arms cells, repeats $repeats, tokens $tokens (+8 warm-up), fp32 CPU,"
echo "  order ${order:-default} seed ${order_seed:-default}"\
     "(recorded: $("$orch" status --db "$work/aa.db" 2>/dev/null | grep -oE '(random:[0-9]+|interleaved)' | head -1)),"\
     "ORCH_WORKER_THREADS=$ORCH_WORKER_THREADS, started $start, sweep took $((t1 - t0)) s"
echo "  host: $(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}'),"\
     "$(nproc) CPUs, load average at start: $load_start, at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  worker processes: $(find "$work" -name trial.json 2>/dev/null | wc -l)"
echo "orch report (min effect $min_effect): $(report "$orch" "$work/aa.db" "$work/rep" --min-effect "$min_effect")"
echo "orch report (min effect 0):    $(report "$orch" "$work/aa.db" "$work/rep0" --min-effect 0)"
if [ -n "${OLD_ORCH:-}" ]; then
  echo "OLD_ORCH report:              $(report "$OLD_ORCH" "$work/aa.db" "$work/rep_old")"
fi
for k in ${SUBSETS:-}; do
  python3 "$repo/bench/aa/analyze.py" subset "$work/aa.db" "$work/aa_$k.db" "$k"
  echo "first $k replicates, orch report: $(report "$orch" "$work/aa_$k.db" "$work/rep_$k" --min-effect "$min_effect")"
  if [ -n "${OLD_ORCH:-}" ]; then
    echo "first $k replicates, OLD_ORCH:    $(report "$OLD_ORCH" "$work/aa_$k.db" "$work/rep_old_$k")"
  fi
done
echo "position effect (analyze.py position):"
python3 "$repo/bench/aa/analyze.py" position "$work/aa.db" | sed 's/^/  /'
# The ratios, for the spread: one per comparison.
grep -oE "[0-9.]+x the baseline's median, 95% CI \[[0-9.]+, [0-9.]+\]" "$work/rep/report.md" |
  sed -E "s/x the baseline's median, 95% CI / /" > "$work/ratios.txt" || true
echo "ratios x/a [95% CI]: $(tr '\n' ';' < "$work/ratios.txt")"
