#!/usr/bin/env bash
# The one-shot GPU check (issue 7), for the bare GPU machine: runs what tools/gpu/pack.sh
# put into .gpu/ (built here, nothing is compiled there) and writes at most 4 files to OUT:
#   summary.json  every check with pass/fail/skipped/refused and its numbers
#   summary.md    the same as a table, verdict first
#   report.md     `orch report` of the GPU sweep (experiments/gpu_check.yaml), when it ran
#   logs.tar.gz   everything else (test logs, trial dirs, the sweep database, nvidia-smi)
# Exit status: 0 only if every check passed (a skipped Cuda.* test counts as failed);
# 2 when the machine is not fit to run it at all (no CUDA GPU visible, binaries that do
# not load, no torch), after still writing summary.json and summary.md.
#
#   tools/gpu/run.sh OUT      (tools/gpu/README.md has the exact device call)
#
# Every step runs under `timeout`, sized from ORCH_GPU_BUDGET_S (default 330 s for the
# whole check), so that one hang cannot eat the GPU slot and a rerun fits beside it.
# ORCH_GPU_REHEARSAL=1 runs every step even without a GPU (CPU rehearsal; never green).
set -uo pipefail

out="${1:?usage: tools/gpu/run.sh OUT}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
pack="${ORCH_GPU_PACK:-$root/.gpu}"
py="${ORCH_GPU_PYTHON3:-python3}"
checks_py="$root/tools/gpu/checks.py"
budget="${ORCH_GPU_BUDGET_S:-330}"
start=$SECONDS
work="$(mktemp -d /tmp/orch-gpu-check.XXXXXX)"
checks="$work/checks.jsonl"
meta="$work/meta.json"
: >"$checks"
echo '{}' >"$meta"

log() { echo "[gpu-check $((SECONDS - start))s] $*" | tee -a "$work/run.log"; }
record() { "$py" "$checks_py" record "$checks" "$@"; }
setmeta() {  # KEY VALUE
  "$py" - "$meta" "$1" "$2" <<'PY'
import json, sys
p, k, v = sys.argv[1:]
d = json.load(open(p)); d[k] = v; json.dump(d, open(p, "w"))
PY
}
# Seconds left for a step: at most $1, never more than what remains of the budget.
left() {
  local cap="$1" rem=$((budget - (SECONDS - start)))
  ((rem < 5)) && rem=5
  echo $((cap < rem ? cap : rem))
}
finish() {  # EXIT_CODE_IF_GREEN_IS_IRRELEVANT
  local forced="${1:-}"
  setmeta elapsed_s "$((SECONDS - start))"
  "$py" "$checks_py" summarize "$checks" "$out" "$meta" | tee -a "$work/run.log"
  local rc=${PIPESTATUS[0]}
  tar -C "$work" -czf "$out/logs.tar.gz" . 2>/dev/null || log "could not write logs.tar.gz"
  log "wrote $(ls "$out" | tr '\n' ' ')(logs: $work)"
  if [[ -n "$forced" ]]; then exit "$forced"; fi
  exit "$rc"
}

setmeta date_utc "$(date -u +%FT%TZ)"
setmeta host "$(hostname 2>/dev/null || uname -n)"
[[ -f "$pack/manifest.txt" ]] && cp "$pack/manifest.txt" "$work/manifest.txt"
setmeta pack "$(grep -E '^(git|torch|glibc needed):' "$pack/manifest.txt" 2>/dev/null | tr '\n' ';')"

# --- preflight: refuse to go on unless this can prove something --------------------------
log "preflight"
# nvidia-smi only informs (the driver's folder may be off PATH); torch decides "visible".
smi="$(command -v nvidia-smi || ls /usr/local/nvidia/bin/nvidia-smi /usr/bin/nvidia-smi 2>/dev/null | head -1)"
"${smi:-nvidia-smi}" >"$work/nvidia-smi.txt" 2>&1
smi_rc=$?
gpu_line="$("${smi:-nvidia-smi}" --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"
setmeta gpu "${gpu_line:-none}"

torch_info="$(timeout "$(left 90)" "$py" -c '
import os, glob, torch
lib = os.path.join(os.path.dirname(torch.__file__), "lib")
site = os.path.dirname(os.path.dirname(torch.__file__))
extra = sorted(set(os.path.dirname(p) for p in glob.glob(os.path.join(site, "nvidia", "**", "lib*.so*"), recursive=True)))
print(lib + ":" + ":".join(extra))
print(torch.__version__, torch.version.cuda, torch.cuda.is_available(), torch.cuda.device_count())
' 2>"$work/torch.err")"
if [[ -z "$torch_info" ]]; then
  record preflight:torch fail "python3 ($py) cannot import torch: $(tail -1 "$work/torch.err")"
  record preflight:gpu_visible fail "no CUDA GPU visible (nvidia-smi rc=$smi_rc; torch not importable)"
  log "FAIL: no torch in $py; no CUDA GPU visible"
  finish 2
fi
torch_libs="$(sed -n 1p <<<"$torch_info")"
read -r torch_ver torch_cuda cuda_avail cuda_count <<<"$(sed -n 2p <<<"$torch_info")"
setmeta torch "$torch_ver (CUDA $torch_cuda)"
record preflight:torch pass "torch $torch_ver CUDA $torch_cuda; libs from $(cut -d: -f1 <<<"$torch_libs")"
export LD_LIBRARY_PATH="$pack/lib:$torch_libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export ORCH_TEST_FIXTURES="$root/tests/fixtures"

if [[ "$cuda_avail" != "True" || "${cuda_count:-0}" -lt 1 ]]; then
  record preflight:gpu_visible fail \
    "no CUDA GPU visible: nvidia-smi rc=$smi_rc, torch.cuda.is_available()=$cuda_avail, device_count=$cuda_count"
  log "FAIL: no CUDA GPU visible (nvidia-smi rc=$smi_rc, torch.cuda.is_available()=$cuda_avail)"
  # ORCH_GPU_REHEARSAL=1 (CPU machine only): go on anyway, to rehearse the steps' plumbing;
  # the result stays NOT GREEN (this check failed, every Cuda.* test skips).
  [[ "${ORCH_GPU_REHEARSAL:-}" == 1 ]] || finish 2
  log "ORCH_GPU_REHEARSAL=1: continuing without a GPU to rehearse the remaining steps"
else
  record preflight:gpu_visible pass "${gpu_line:-nvidia-smi rc=$smi_rc}" devices="$cuda_count"
fi

bins=(orch orch-worker worker_tests bench_decode)
# The carried libstdc++/libgcc_s (lib-compat/) only where the machine's own are too old.
if [[ -d "$pack/lib-compat" ]] && ldd "$pack/bin/orch-worker" 2>&1 | grep -qE "version .(GLIBCXX|GCC)_|lib(stdc\+\+|gcc_s)\.so\.[0-9]+ => not found"; then
  export LD_LIBRARY_PATH="$pack/lib-compat:$LD_LIBRARY_PATH"
  setmeta libstdcxx "carried (the machine's is older than the binaries need)"
else
  setmeta libstdcxx "the machine's own"
fi
missing=""
for b in "${bins[@]}"; do
  if [[ ! -x "$pack/bin/$b" ]]; then missing+=" $b(absent)"; continue; fi
  ldd "$pack/bin/$b" >"$work/ldd-$b.txt" 2>&1
  nf="$(grep 'not found' "$work/ldd-$b.txt" | sed 's/^[[:space:]]*//' | cut -c1-120 | tr '\n' ' ')"
  [[ -n "$nf" ]] && missing+=" $b needs: $nf"
done
glibc_need="$(sed -n 's/^glibc needed: //p' "$pack/manifest.txt" 2>/dev/null)"
glibc_have="$(ldd --version 2>/dev/null | head -1 | grep -o '[0-9]*\.[0-9]*$')"
setmeta glibc "here $glibc_have, binaries need ${glibc_need:-?}"
if [[ -n "$missing" ]]; then
  record preflight:binaries_load fail "missing libraries:$missing (glibc here $glibc_have, need ${glibc_need:-?}); see ldd-*.txt; fallback: build the worker targets here (README.md)"
  log "FAIL: carried binaries do not load:$missing"
  finish 2
fi
version="$(timeout "$(left 30)" "$pack/bin/orch-worker" --version 2>&1)"
setmeta worker "$version"
if [[ "$version" != *"cuda=cuda"* ]]; then
  record preflight:worker_cuda fail "orch-worker --version says: $version"
  log "FAIL: orch-worker is not a CUDA build: $version"
  finish 2
fi
record preflight:binaries_load pass "$version"

# --- checks 1-4, 7: the Cuda.* tests (none may skip) -------------------------------------
log "Cuda.* tests"
timeout -k 5 "$(left 150)" "$pack/bin/worker_tests" --gtest_filter='Cuda.*' \
  --gtest_output="json:$work/cuda_tests.json" >"$work/cuda_tests.log" 2>&1
rc=$?
((rc == 124)) && record gtest:timeout fail "worker_tests --gtest_filter=Cuda.* timed out"
"$py" "$checks_py" gtest "$checks" "$work/cuda_tests.json"
log "Cuda.* tests rc=$rc: $(grep -E '^\[  (PASSED|FAILED|SKIPPED) ' "$work/cuda_tests.log" | tr '\n' ' ')"

# --- check 6: real failures classified right, and the GPU usable after them ---------------
trial() {  # NAME EXPECTED WINDOW TOKENS WARMUP [ENV...]
  local name="$1" expected="$2" window="$3" tokens="$4" warmup="$5"; shift 5
  local d="$work/trials/$name" fx="$root/tests/fixtures/model/tiny-parallel"
  mkdir -p "$d"
  cat >"$d/trial.json" <<JSON
{"protocol":1,"trial_key":"gpu-$name","attempt":1,"attempt_dir":"$d","events_path":"$d/events.jsonl",
 "result_path":"$d/result.json",
 "config":{"quant":"none","scope":"all","window":$window,"n_sink":4,"dtype":"bf16","compile":"eager",
           "mode":"eval","tokens":$tokens,"warmup":$warmup,"repeats":1,"seed":0,"device":"cuda","timeout":60,
           "heartbeat_timeout":60,"retries":0},
 "inputs":{"model":"$fx","token_ids":"$fx/tokens.ids"}}
JSON
  (cd "$d" && env "$@" timeout -k 5 "$(left 60)" "$pack/bin/orch-worker" --trial "$d/trial.json" >"$d/worker.log" 2>&1)
  echo "rc=$?" >>"$d/worker.log"
  "$py" "$checks_py" trial "$checks" "trial:$name" "$d/result.json" "$expected"
}
log "failure classification"
trial oom oom 2147483647 40 4
trial after-oom ok 8 40 4
trial kernel-fault cuda_error 8 40 4 ORCH_WORKER_TEST_FAULT=device_assert
trial after-fault ok 8 40 4
# Check 7 (second half): tpot_device_ms_* leaves out the warm-up steps like the host
# figures. Two steps in a fresh process, the first (cuBLAS handles, lazy kernel loading)
# as warm-up: the device median must not exceed the host median of the second alone.
trial warmup-excluded ok 8 3 1
"$py" "$checks_py" device-le-host "$checks" trial:tpot-device-excludes-warmup "$work/trials/warmup-excluded/result.json"

# --- benchmark ----------------------------------------------------------------------------
log "decode benchmark"
if timeout -k 5 "$(left 90)" "$pack/bin/bench_decode" --device cuda --tokens 256 --json \
    >"$work/bench_gpu.json" 2>"$work/bench_gpu.err"; then
  record bench:decode_cuda pass "bench_decode --device cuda --tokens 256 (bench_gpu.json)"
else
  record bench:decode_cuda fail "bench_decode rc=$? $(tail -1 "$work/bench_gpu.err")"
fi

# --- check 8: the GPU sweep through orch run / orch report --------------------------------
log "GPU sweep (experiments/gpu_check.yaml)"
sweep_dir="$work/sweep"
mkdir -p "$sweep_dir"
db="$sweep_dir/gpu_check.db"
(cd "$root/experiments" && timeout -k 10 "$(left 200)" "$pack/bin/orch" run gpu_check.yaml --gpus 0 --db "$db") \
  >"$sweep_dir/run.log" 2>&1
rc=$?
((rc == 0)) || record sweep:run fail "orch run rc=$rc: $(tail -2 "$sweep_dir/run.log" | tr '\n' ' ')"
if timeout "$(left 60)" "$pack/bin/orch" export --db "$db" --format json >"$sweep_dir/export.json" 2>"$sweep_dir/export.err"; then
  "$py" "$checks_py" sweep "$checks" "$sweep_dir/export.json"
else
  record sweep:export fail "orch export failed: $(tail -1 "$sweep_dir/export.err")"
fi
if timeout "$(left 60)" "$pack/bin/orch" report --db "$db" --out "$sweep_dir/report" >"$sweep_dir/report.log" 2>&1 \
    && [[ -f "$sweep_dir/report/report.md" ]]; then
  cp "$sweep_dir/report/report.md" "$out/report.md"
  record sweep:report pass "report.md written"
else
  record sweep:report fail "orch report failed: $(tail -1 "$sweep_dir/report.log")"
fi

# --- issue 12: a few cells of the reference worker (transformers + TorchAO) --------------
log "reference worker cells (tools/gpu/reference_cells.sh)"
"$root/tools/gpu/reference_cells.sh" "$work" "$checks" "$pack" "$(left 120)" >"$work/reference.log" 2>&1 \
  || record reference:script fail "reference_cells.sh rc=$?: $(tail -1 "$work/reference.log")"

# --- check 5: compute-sanitizer memcheck over the CUDA tests (last: the most expendable) ---
log "compute-sanitizer memcheck"
sanitizer="$(command -v compute-sanitizer || ls "$(dirname "$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)")/compute-sanitizer" /usr/local/cuda/bin/compute-sanitizer 2>/dev/null | head -1)"
if [[ -z "$sanitizer" ]]; then
  record sanitizer:memcheck refused "compute-sanitizer not found (PATH, nvcc's folder, /usr/local/cuda/bin)"
else
  # The hand-written int8 GEMV kernel, the decode loop and graph replay, on the tiny
  # fixtures: memcheck slows CUDA code 10-100x, so the small tests only.
  filter='Cuda.Int8GemvMatchesDequantizedReference:Cuda.DecodeMatchesStreamingReference:Cuda.GraphReplayEqualsEagerSteps'
  timeout -k 5 "$(left 150)" "$sanitizer" --tool memcheck --error-exitcode 99 \
    "$pack/bin/worker_tests" --gtest_filter="$filter" >"$work/memcheck.log" 2>&1
  rc=$?
  summary_line="$(grep -E 'ERROR SUMMARY' "$work/memcheck.log" | tail -1)"
  if grep -qE 'Device not supported|not supported on this|Unable to find injection|unsupported' "$work/memcheck.log" && ((rc != 0)); then
    record sanitizer:memcheck refused "the machine refused compute-sanitizer: $(grep -m1 -E 'Device not supported|not supported|injection' "$work/memcheck.log")"
  elif ((rc == 0)); then
    record sanitizer:memcheck pass "${summary_line:-no errors}"
  elif ((rc == 124)); then
    record sanitizer:memcheck fail "timed out ($summary_line)"
  else
    record sanitizer:memcheck fail "rc=$rc ${summary_line}"
  fi
fi

finish
