#!/usr/bin/env bash
# How orch's commands grow with the size of a sweep (issue 18: "orch at 100,000 trials").
# For each size N it writes a sweep of about N trials — 10 studies, each a matrix of
# quant (5) x dtype (2) x window (2) x a custom axis x_i, every cell one trial — runs it
# through `orch run -j JOBS` with bench/sample_worker (a no-op worker whose result is
# shaped like orch-worker's: TOKENS latencies and NLLs per trial, after 8 warm-up steps;
# int8da cells at window 256 are `blocked` and int4wo-g128 fp16 cells with x_i = 0 `nan`,
# so the failure sections have rows), and times, with peak resident memory:
#   orch plan, orch run, orch status, orch export --format json, orch report,
# and the database's size per trial. Each figure is printed beside its target and their
# ratio (targets at 100,000 trials, from the issue); the slope between two sizes is
# log(t2/t1) / log(N2/N1): 1 is linear, 0 flat.
#
# Usage: bench/orchestrator/scale.sh BUILD_DIR [SIZES] [JOBS]
#   SIZES  space-separated trial counts (default "1000 10000 100000"), JOBS (default 2)
# Env: TOKENS (default 128), KEEP=1 keeps the work folder (its path is printed),
#      SKIP_REPORT=1 skips `orch report` (for sizes where it does not fit the machine).
# Writes nothing outside a temporary folder. Not part of `make test`.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
sizes=${2:-"1000 10000 100000"}
jobs=${3:-2}
tokens=${TOKENS:-128}
orch=$build/orch
worker=$build/bench/sample_worker
for b in "$orch" "$worker" /usr/bin/time; do
  [ -x "$b" ] || { echo "missing $b (build first: make build; /usr/bin/time: apt-get install time)" >&2; exit 2; }
done
work=$(mktemp -d)
if [ "${KEEP:-0}" = 1 ]; then echo "work folder: $work"; else trap 'rm -rf "$work"' EXIT; fi

# time_cmd NAME COMMAND...: runs COMMAND, records "NAME seconds max_rss_kb" in $work/times.
time_cmd() {
  local name=$1; shift
  /usr/bin/time -o "$work/t.$$" -f "%e %M" "$@" >"$work/out.$name" 2>"$work/err.$name" || {
    echo "$name failed (exit $?): $(tail -3 "$work/err.$name")" >&2; return 1; }
  echo "$name $(tail -1 "$work/t.$$")" >>"$work/times"
}

write_spec() {  # write_spec N FILE: a sweep of about N trials in 10 studies
  local n=$1 file=$2 per_study=$(( $1 / 10 )) xs
  local k=$(( (per_study + 19) / 20 ))  # 5 x 2 x 2 = 20 cells per x_i value
  xs=$(seq -s, 0 $((k - 1)) | sed 's/,/", "/g')
  {
    echo "name: scale$n"
    echo "context: bench/orchestrator/scale.sh, $n trials of a no-op worker."
    echo "worker: $worker"
    echo "defaults: {tokens: $tokens, warmup: 8}"
    echo "studies:"
    for s in $(seq 0 9); do
      echo "  - id: S$s"
      echo "    matrix: {quant: [none, int8wo, int8wo-dequant, int4wo-g128, int8da], dtype: [fp16, bf16], window: [full, 256], x_i: [\"$xs\"], x_study: [\"$s\"]}"
    done
  } >"$file"
}

for n in $sizes; do
  dir=$work/n$n
  mkdir -p "$dir"
  write_spec "$n" "$dir/spec.yaml"
  db=$dir/orch.db
  cd "$dir"
  time_cmd "plan.$n" "$orch" plan spec.yaml --db "$dir/plan.db"
  time_cmd "run.$n" "$orch" run spec.yaml -j "$jobs" --db "$db"
  time_cmd "status.$n" "$orch" status --db "$db"
  time_cmd "export.$n" "$orch" export --format json --db "$db"
  if [ "${SKIP_REPORT:-0}" != 1 ]; then
    time_cmd "report.$n" "$orch" report --db "$db" --out "$dir/report"
  fi
  bytes=$(du -cb "$db"* | tail -1 | cut -f1)
  echo "db.$n $bytes" >>"$work/sizes"
  cd "$work"
  rm -rf "$dir/results" "$dir/plan.db"
done

calc() { LC_ALL=C printf "$1" "$(echo "scale=6; $2" | bc -l)"; }  # calc FORMAT EXPR

# Targets at 100,000 trials (seconds, MB): the issue's.
declare -A target_s=([plan]=1 [status]=0.2 [export]=2 [report]=5)
declare -A target_mb=([report]=500)
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; $(date -u '+%F %H:%M') UTC; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "sample_worker, $tokens tokens + 8 warm-up per trial, orch run -j $jobs"
echo
echo "| command | trials | time s | per trial ms | peak RSS MB | target (at 100k) | ratio to target |"
echo "|---|---:|---:|---:|---:|---|---:|"
for cmd in plan run status export report; do
  for n in $sizes; do
    line=$(grep "^$cmd.$n " "$work/times" || true)
    [ -n "$line" ] || continue
    read -r _ s kb <<<"$line"
    mb=$(calc "%.1f" "$kb / 1024")
    per=$(calc "%.3f" "$s * 1000 / $n")
    tgt="" ratio=""
    if [ -n "${target_s[$cmd]:-}" ]; then
      tgt="< ${target_s[$cmd]} s"
      ratio=$(calc "%.2f" "$s / ${target_s[$cmd]}")
      if [ -n "${target_mb[$cmd]:-}" ]; then
        tgt="$tgt, < ${target_mb[$cmd]} MB"
        ratio="$ratio, $(calc "%.2f" "$mb / ${target_mb[$cmd]}")"
      fi
    fi
    echo "| orch $cmd | $n | $s | $per | $mb | $tgt | $ratio |"
  done
done
echo
echo "| trials planned | database bytes | bytes per trial |"
echo "|---:|---:|---:|"
for n in $sizes; do
  b=$(grep "^db.$n " "$work/sizes" | cut -d' ' -f2)
  echo "| $n | $b | $(( b / n )) |"
done
echo
# Slopes between consecutive sizes: log(t2/t1)/log(n2/n1) for time and for peak memory.
echo "| command | sizes | time slope | memory slope |"
echo "|---|---|---:|---:|"
prev=""
for n in $sizes; do
  if [ -n "$prev" ]; then
    for cmd in plan run status export report; do
      a=$(grep "^$cmd.$prev " "$work/times" || true); b=$(grep "^$cmd.$n " "$work/times" || true)
      [ -n "$a" ] && [ -n "$b" ] || continue
      read -r _ s1 m1 <<<"$a"; read -r _ s2 m2 <<<"$b"
      slope() { python3 -c "import math,sys; a,b,x,y=map(float,sys.argv[1:]); print('%.2f' % (math.log(max(b,1e-3)/max(a,1e-3))/math.log(y/x)))" "$@"; }
      echo "| orch $cmd | $prev -> $n | $(slope "$s1" "$s2" "$prev" "$n") | $(slope "$m1" "$m2" "$prev" "$n") |"
    done
  fi
  prev=$n
done
