#!/usr/bin/env bash
# A few reference-worker cells (worker/reference: transformers + TorchAO) on the GPU
# machine, called by tools/gpu/run.sh after the GPU sweep (issue 12). The machine has
# python3 with torch and transformers but no package registry: TorchAO travels as the
# wheel tools/gpu/pack.sh downloaded into .gpu/wheels/ and is unpacked here (pure
# Python for what the configs need; no pip). Records, through checks.py:
#   reference:setup              the wheel unpacked and transformers importable (else refused)
#   reference:none-fp32          ok, and reference:ppl_matches_orch_worker: fp32 PPL of the
#                                reference worker vs orch-worker, same trial, within 1e-4
#   reference:int8wo|int8da      ok (details record the TorchAO config and its versions)
#   reference:int4wo-g64         ok or blocked (blocked names the kernel import that failed)
#   reference:cuda-graph         torch.compile(mode="reduce-overhead"): ok or error, observed
#
#   tools/gpu/reference_cells.sh WORK CHECKS PACK SECONDS
# ORCH_GPU_REF_DEVICE=cpu rehearses it on the CPU machine (cuda-graph is then blocked).
set -uo pipefail
work="$1" checks="$2" pack="$3" seconds="$4"
root="$(cd "$(dirname "$0")/../.." && pwd)"
py="${ORCH_GPU_PYTHON3:-python3}"
device="${ORCH_GPU_REF_DEVICE:-cuda}"
checks_py="$root/tools/gpu/checks.py"
record() { "$py" "$checks_py" record "$checks" "$@"; }
start=$SECONDS
left() {  # at most $1 seconds, never past this step's share of the budget
  local rem=$((seconds - (SECONDS - start)))
  ((rem < 5)) && rem=5
  echo $(($1 < rem ? $1 : rem))
}

whl="$(ls "$pack"/wheels/torchao-*.whl 2>/dev/null | head -1)"
site="$work/reference-site"
if [[ -z "$whl" ]]; then
  record reference:setup refused "no TorchAO wheel in $pack/wheels (tools/gpu/pack.sh downloads it)"
  exit 0
fi
tf="$("$py" -c 'import transformers; print(transformers.__version__)' 2>"$work/reference-setup.err")"
if [[ -z "$tf" ]]; then
  record reference:setup refused "$py has no transformers: $(tail -1 "$work/reference-setup.err")"
  exit 0
fi
mkdir -p "$site"
"$py" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$whl" "$site"
record reference:setup pass "$(basename "$whl"), transformers $tf"
export ORCH_REFERENCE_PYTHON="$py" PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"

cell() {  # NAME EXPECTED WORKER QUANT DTYPE COMPILE
  local name="$1" expected="$2" exe="$3" quant="$4" dtype="$5" compile="$6"
  local d="$work/reference/$name" fx="$root/tests/fixtures/model/tiny-parallel"
  mkdir -p "$d"
  cat >"$d/trial.json" <<JSON
{"protocol":1,"trial_key":"gpu-ref-$name","attempt":1,"attempt_dir":"$d","events_path":"$d/events.jsonl",
 "result_path":"$d/result.json",
 "config":{"quant":"$quant","scope":"all","window":8,"n_sink":4,"dtype":"$dtype","compile":"$compile",
           "mode":"eval","tokens":40,"warmup":4,"repeats":1,"seed":0,"device":"$device","worker":"reference"},
 "inputs":{"model":"$fx","token_ids":"$fx/tokens.ids"}}
JSON
  (cd "$d" && timeout -k 5 "$(left 90)" "$exe" --trial "$d/trial.json" >"$d/worker.log" 2>&1)
  echo "rc=$?" >>"$d/worker.log"
  [[ "$expected" == - ]] || "$py" "$checks_py" trial "$checks" "reference:$name" "$d/result.json" "$expected"
}
ref="$root/worker/reference/orch-reference-worker"
cell none-fp32 ok "$ref" none fp32 eager
cell orch-none-fp32 - "$pack/bin/orch-worker" none fp32 eager
"$py" - "$checks_py" "$checks" "$work/reference" <<'PY'
import json, os, sys
sys.path.insert(0, os.path.dirname(sys.argv[1]))
import checks
path, d = sys.argv[2], sys.argv[3]
try:
    ref = json.load(open(os.path.join(d, "none-fp32", "result.json")))["metrics"]["ppl"]
    orch = json.load(open(os.path.join(d, "orch-none-fp32", "result.json")))["metrics"]["ppl"]
except (OSError, ValueError, KeyError) as e:
    checks.record(path, "reference:ppl_matches_orch_worker", "fail", f"no PPL to compare: {e}")
else:
    rel = abs(ref - orch) / orch
    checks.record(path, "reference:ppl_matches_orch_worker", "pass" if rel < 1e-4 else "fail",
                  f"fp32 PPL reference {ref:.6f} vs orch-worker {orch:.6f}: relative {rel:.2e} (limit 1e-4)",
                  {"ppl_reference": ref, "ppl_orch_worker": orch, "relative": rel})
PY
cell int8wo ok "$ref" int8wo bf16 eager
cell int8da ok "$ref" int8da bf16 eager
cell int4wo-g64 ok,blocked "$ref" int4wo-g64 bf16 eager
cell cuda-graph ok,error,blocked "$ref" none bf16 cuda_graph
exit 0
