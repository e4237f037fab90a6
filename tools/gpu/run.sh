#!/usr/bin/env bash
# GPU check for orch-worker, for a session that has a CUDA GPU (H100 assumed: sm_90).
#   tools/gpu/run.sh OUTDIR
# Builds the CUDA worker (build-gpu/), runs all worker tests including the CUDA ones
# (tests/worker/cuda_test.cc, skipped elsewhere), the decode benchmark on CPU and GPU, and a small
# CUDA trial matrix of orch-worker on the fixture model (eager vs cuda_graph, quant
# variants, dtypes). Everything lands in OUTDIR: build.log, ctest.log, bench_cpu.json,
# trials/<name>/result.json, nvidia-smi.txt, summary.txt. Needs: cmake, ninja, nvcc
# matching torch.version.cuda, and the project .venv with torch (scripts/install-deps.sh).
set -uo pipefail

out="${1:?usage: tools/gpu/run.sh OUTDIR}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
build="${ORCH_GPU_BUILD_DIR:-$root/build-gpu}"
jobs="${ORCH_GPU_JOBS:-$(nproc)}"
arch="${TORCH_CUDA_ARCH_LIST:-9.0}"
summary="$out/summary.txt"
: >"$summary"
note() { echo "$*" | tee -a "$summary"; }

nvidia-smi >"$out/nvidia-smi.txt" 2>&1 || note "nvidia-smi failed (no GPU?)"
prefix="$("$root/.venv/bin/python" -c 'import torch; print(torch.utils.cmake_prefix_path)')"
note "torch prefix: $prefix"
note "torch cuda: $("$root/.venv/bin/python" -c 'import torch; print(torch.version.cuda)')"
note "nvcc: $(nvcc --version | tail -1)"

# Configure: the whole project when it configures, else only the worker (dev wrapper).
src="$root"
if ! cmake -S "$src" -B "$build" -G Ninja -DBUILD_TESTING=ON -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix" -DTORCH_CUDA_ARCH_LIST="$arch" >"$out/configure.log" 2>&1; then
  note "top-level configure failed; configuring worker/ only"
  wrap="$out/worker-only"
  mkdir -p "$wrap"
  ln -sfn "$root/cmake" "$wrap/cmake"
  cat >"$wrap/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.25)
project(orch VERSION 0.1.0 LANGUAGES C CXX)
set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
option(ORCH_WITH_CUDA "" ON)
list(APPEND CMAKE_MODULE_PATH "$root/cmake")
include(OrchProvenance)
find_package(nlohmann_json REQUIRED)
find_package(fmt REQUIRED)
find_package(Threads REQUIRED)
set(ORCH_VENV_PYTHON "$root/.venv/bin/python")
add_subdirectory($root/worker worker)
include(CTest)
find_package(GTest REQUIRED)
include(GoogleTest)
set(ORCH_TEST_FIXTURES "$root/tests/fixtures")
add_subdirectory($root/tests/worker tests/worker)
add_subdirectory($root/bench/worker bench/worker)
CMAKE
  rm -rf "$build"
  cmake -S "$wrap" -B "$build" -G Ninja -DBUILD_TESTING=ON -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix" -DTORCH_CUDA_ARCH_LIST="$arch" >>"$out/configure.log" 2>&1 \
    || { note "configure failed, see configure.log"; exit 1; }
fi
grep -q "orch-worker: CUDA" "$out/configure.log" || note "WARNING: worker configured without CUDA"
if ! cmake --build "$build" -j"$jobs" --target orch-worker worker_tests bench_decode >"$out/build.log" 2>&1; then
  note "build failed, see build.log"
  exit 1
fi
worker="$(find "$build" -name orch-worker -type f -perm -u+x | head -1)"
note "worker: $("$worker" --version)"

# Tests: all worker tests; the Cuda.* ones must not be skipped here.
(cd "$build" && ctest -L worker --output-on-failure) >"$out/ctest.log" 2>&1
note "ctest: $(grep -E 'tests passed|tests failed' "$out/ctest.log" | tail -1)"
tests_bin="$(find "$build" -name worker_tests -type f -perm -u+x | head -1)"
"$tests_bin" --gtest_filter='Cuda.*' >"$out/cuda_tests.log" 2>&1
note "cuda tests: $(grep -E '^\[  (PASSED|FAILED|SKIPPED) ' "$out/cuda_tests.log" | tr '\n' ' ')"

bench="$(find "$build" -name bench_decode -type f -perm -u+x | head -1)"
"$bench" --json >"$out/bench_cpu.json" 2>&1
note "cpu bench: $out/bench_cpu.json"
"$bench" --device cuda --tokens 256 >"$out/bench_gpu.txt" 2>&1
"$bench" --device cuda --tokens 256 --json >"$out/bench_gpu.json" 2>&1
note "gpu bench: $(cat "$out/bench_gpu.txt")"

# A small CUDA trial matrix on the fixture model through the real protocol.
fx="$root/tests/fixtures/model/tiny-parallel"
run_trial() {  # name dtype quant compile window mode
  local d="$out/trials/$1"
  mkdir -p "$d"
  cat >"$d/trial.json" <<JSON
{"protocol":1,"trial_key":"gpu-$1","attempt":1,"attempt_dir":"$d","events_path":"$d/events.jsonl",
 "result_path":"$d/result.json",
 "config":{"quant":"$3","scope":"all","window":$5,"n_sink":4,"dtype":"$2","compile":"$4","mode":"$6",
           "tokens":40,"warmup":4,"repeats":2,"seed":0,"device":"cuda","timeout":600,
           "heartbeat_timeout":60,"retries":0},
 "inputs":{"model":"$fx","token_ids":"$fx/tokens.ids"}}
JSON
  (cd "$d" && "$worker" --trial "$d/trial.json" >"$d/worker.log" 2>&1)
  local rc=$?
  note "trial $1: rc=$rc $("$root/.venv/bin/python" -c "
import json,sys
r=json.load(open('$d/result.json')); m=r['metrics']
print(r['outcome'], r['reason'][:120], 'ppl=%s tpot_med=%s peak_alloc=%s' % (m.get('ppl'), m.get('tpot_ms_median'), m.get('peak_alloc_bytes')))" 2>&1)"
}
run_trial fp32-eager fp32 none eager 8 eval
run_trial fp32-graph fp32 none cuda_graph 8 eval
run_trial fp32-full-graph fp32 none cuda_graph '"full"' eval
run_trial bf16-eager bf16 none eager 8 eval
run_trial fp16-eager fp16 none eager 8 eval
run_trial bf16-int8wo bf16 int8wo eager 8 eval
run_trial bf16-int8wo-graph bf16 int8wo cuda_graph 8 eval
run_trial bf16-int8da bf16 int8da eager 8 eval
run_trial bf16-int4-g32 bf16 int4wo-g32 eager 8 eval
run_trial fp16-int4-g32 fp16 int4wo-g32 eager 8 eval
run_trial bf16-unscaled fp16 int8wo-unscaled eager 8 eval
run_trial bf16-sanity bf16 none eager 8 sanity
run_trial bf16-profile bf16 none eager 8 profile
note "done: $out"
