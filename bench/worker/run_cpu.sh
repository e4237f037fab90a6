#!/usr/bin/env bash
# The CPU decode measurements of docs/benchmarks.md ("CPU kernels of our own", issue 20) in
# one run: the GEMV kernels alone, then the decode loop on the Pythia-70M shape (random
# weights) with 1 and 2 threads, full cache of 128 tokens and 4 sinks + window 60: fp32 and
# bf16 dense, int8wo (with and without the int8 head), int4wo-g128 and -g32 (with the head);
# then the fp32 cases again on the tensor path (--fused-cpu-step 0: the fused CPU step's
# before/after), then transformers eager on the same shape and threads (bench_transformers.py,
# project venv). llama.cpp beside orch-worker: run_llama_cpp.sh.
# Each bench_decode measures its own bandwidth floor; the load average is recorded at start
# and end of every part.
# Usage: [THREADS="1 2"] bench/worker/run_cpu.sh BUILD_DIR OUT_DIR [BEFORE_BENCH_DECODE]
#   BEFORE_BENCH_DECODE: an older bench_decode binary to run first on the same cases it
#   knows (fp32/bf16 none + int8wo), for a before/after in the same session.
set -euo pipefail
build=${1:?usage: run_cpu.sh BUILD_DIR OUT_DIR [BEFORE_BENCH_DECODE]}
out=${2:?usage: run_cpu.sh BUILD_DIR OUT_DIR [BEFORE_BENCH_DECODE]}
before=${3:-}
mkdir -p "$out"
echo "start $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/load.txt"
"$build/bench/worker/bench_gemv" 1 21 | tee "$out/gemv_t1.txt"
if [[ -n "$before" ]]; then
  "$before" --threads 1 --out "$out/before_t1.json" | tee "$out/before_t1.txt"
fi
quants=none,int8wo,int8wo+head,int4wo-g128,int4wo-g128+head,int4wo-g32+head
for t in ${THREADS:-1 2}; do
  echo "threads $t $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.txt"
  "$build/bench/worker/bench_decode" --threads "$t" --dtypes fp32,bf16 --quants "$quants" \
    --windows full,60 --out "$out/decode_t$t.json" | tee "$out/decode_t$t.txt"
  # The same fp32 cases on the tensor path (ATen per layer), for the fused step's before/after.
  "$build/bench/worker/bench_decode" --threads "$t" --dtypes fp32 --quants "$quants" \
    --windows full,60 --fused-cpu-step 0 --out "$out/decode_t${t}_tensorpath.json" |
    tee "$out/decode_t${t}_tensorpath.txt"
  py=${ORCH_VENV:-.venv}/bin/python
  if [[ -x "$py" ]]; then  # transformers eager, same shape, same threads (the reference stack)
    for d in fp32 bf16; do
      "$py" bench/worker/bench_transformers.py --threads "$t" --dtype "$d" 2>/dev/null |
        tee -a "$out/transformers_t$t.jsonl"
    done
  fi
done
echo "end $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.txt"
