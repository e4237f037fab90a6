#!/usr/bin/env bash
# orch-worker beside llama.cpp (docs/benchmarks.md, issue 20), in one run: the same random
# Pythia-70M-shaped weights (bench_transformers.py's: transformers' init, seed 0) as a
# Hugging Face folder; llama.cpp's own converter makes f32 and q8_0 GGUFs of it and
# llama.cpp's quantize API a q4_0 one (output layer q4_0 too); then, for each thread count,
# bench_decode --model on that folder (fp32 dense, int8wo+head, int4wo-g32+head) and
# llama.cpp's decode (f32, q8_0, q4_0), full cache of 128 tokens and 4 sinks + window 60,
# and a table of TPOT medians, MB read per token, ratios to the floor bench_decode measured
# and orch / llama.cpp.
#
# llama.cpp comes from PyPI's llama-cpp-python, built from its sdist (CPU, -DGGML_NATIVE=ON)
# into a benchmark virtualenv of its own, $LLAMA_BENCH_HOME/llama-cpp-venv: never a
# dependency of orch. Generated weights and GGUFs stay under $LLAMA_BENCH_HOME/work, built
# once (delete the folder to redo them). The first run compiles llama.cpp (minutes).
# Usage: [THREADS="1 2"] [REPEATS=1] [LLAMA_BENCH_HOME=~/.cache/orch-bench] [LLAMA_BUILD_JOBS=2]
#        bench/worker/run_llama_cpp.sh BUILD_DIR OUT_DIR
set -euo pipefail
build=${1:?usage: run_llama_cpp.sh BUILD_DIR OUT_DIR}
out=${2:?usage: run_llama_cpp.sh BUILD_DIR OUT_DIR}
home=${LLAMA_BENCH_HOME:-$HOME/.cache/orch-bench}
ver=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
venv=$home/llama-cpp-venv
py=${ORCH_VENV:-.venv}/bin/python  # the project venv: torch + transformers, for the weights
bench=bench/worker/bench_llama_cpp.py
work=$home/work
mkdir -p "$out" "$home" "$work"

if ! "$venv/bin/python" -c "import llama_cpp, gguf" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  CMAKE_ARGS="-DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF" \
    CMAKE_BUILD_PARALLEL_LEVEL=${LLAMA_BUILD_JOBS:-2} \
    "$venv/bin/pip" install --no-binary llama-cpp-python "llama-cpp-python==$ver"
  "$venv/bin/pip" install -q gguf
fi
# The converter of the same llama.cpp commit, from the same sdist (not kept in this repo).
conv=$home/llama_cpp_python-$ver/vendor/llama.cpp/convert_hf_to_gguf.py
if [[ ! -f "$conv" ]]; then
  "$venv/bin/pip" download -q --no-deps --no-binary :all: "llama-cpp-python==$ver" -d "$home/sdist"
  tar xzf "$home/sdist/llama_cpp_python-$ver.tar.gz" -C "$home" \
    "llama_cpp_python-$ver/vendor/llama.cpp/convert_hf_to_gguf.py" \
    "llama_cpp_python-$ver/vendor/llama.cpp/conversion" "llama_cpp_python-$ver/vendor/llama.cpp/gguf-py"
fi
[[ -f "$work/hf/model.safetensors" ]] || "$py" "$bench" hf "$work/hf"
for t in f32 q8_0; do
  [[ -f "$work/$t.gguf" ]] || "$py" "$bench" convert "$conv" "$work/hf" "$work/$t.gguf" "$t" \
    2>"$work/convert_$t.log" || { tail -20 "$work/convert_$t.log"; rm -f "$work/$t.gguf"; exit 1; }
done
[[ -f "$work/q4_0.gguf" ]] || "$venv/bin/python" "$bench" quantize "$work/f32.gguf" "$work/q4_0.gguf" \
  q4_0 2>"$work/quantize_q4_0.log" || { tail -20 "$work/quantize_q4_0.log"; rm -f "$work/q4_0.gguf"; exit 1; }

echo "start $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/load.txt"
# REPEATS rounds, each over every thread count, orch and llama.cpp interleaved; one table per
# round (rN_ file prefix). /usr/bin/time's user+sys of each process (load, quantization and
# every case included) goes to cpu_times.txt beside the per-step CPU medians of the tables.
for r in $(seq 1 "${REPEATS:-1}"); do
  orch=() llama=()
  for t in ${THREADS:-1 2}; do
    echo "round $r threads $t $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)" |
      tee -a "$out/load.txt"
    /usr/bin/time -f "r$r t$t orch %e s wall %U user %S sys" -a -o "$out/cpu_times.txt" \
      "$build/bench/worker/bench_decode" --model "$work/hf" --threads "$t" --dtypes fp32 \
      --quants none,int8wo+head,int4wo-g32+head --windows full,60 --out "$out/r${r}_orch_t$t.json" |
      tee "$out/r${r}_orch_t$t.txt"
    : >"$out/r${r}_llama_t$t.jsonl"
    for f in f32 q8_0 q4_0; do
      /usr/bin/time -f "r$r t$t llama $f %e s wall %U user %S sys" -a -o "$out/cpu_times.txt" \
        "$venv/bin/python" "$bench" time "$work/$f.gguf" --label "$f" --threads "$t" \
        --windows full,60 2>>"$out/llama_stderr.txt" >>"$out/r${r}_llama_t$t.jsonl"
    done
    orch+=("$out/r${r}_orch_t$t.json") llama+=("$out/r${r}_llama_t$t.jsonl")
  done
  "$py" "$bench" table "$out/r${r}_orch_vs_llama_cpp.json" --orch "${orch[@]}" \
    --llama "${llama[@]}" | tee "$out/r${r}_table.txt"
done
echo "end $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.txt"
