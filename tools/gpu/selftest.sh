#!/usr/bin/env bash
# CPU-side tests of the GPU check's scripts (no GPU, no build needed): pack.sh's library
# classification and checks.py's bookkeeping (a skipped Cuda.* test is a failure; the sweep's
# expected classes; the summary's verdict and exit status).   tools/gpu/selftest.sh
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
t="$(mktemp -d)"
trap 'rm -rf "$t"' EXIT
fails=0
check() {  # DESCRIPTION COMMAND...
  local what="$1"; shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}

# 1. pack.sh --classify on ldd output of the shapes ldd prints.
cat >"$t/ldd.txt" <<'LDD'
	linux-vdso.so.1 (0x00007ffd)
	libtorch_cuda.so => /x/.venv/lib/python3.11/site-packages/torch/lib/libtorch_cuda.so (0x1)
	libcudart.so.13 => /usr/local/cuda/lib64/libcudart.so.13 (0x2)
	libcublas.so.13 => /x/site-packages/torch/lib/../../nvidia/cu13/lib/libcublas.so.13 (0x3)
	libyaml-cpp.so.0.7 => /lib/x86_64-linux-gnu/libyaml-cpp.so.0.7 (0x4)
	libstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x5)
	libm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x6)
	libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x7)
	libgomp.so.1 => /x/site-packages/torch/lib/libgomp.so.1 (0x8)
	libicuuc.so.72 => /lib/x86_64-linux-gnu/libicuuc.so.72 (0x9)
	libfoo.so.1 => not found
	/lib64/ld-linux-x86-64.so.2 (0x10)
LDD
"$here/pack.sh" --classify <"$t/ldd.txt" >"$t/classified.txt"
cat >"$t/want.txt" <<'WANT'
torch /x/.venv/lib/python3.11/site-packages/torch/lib/libtorch_cuda.so
torch /usr/local/cuda/lib64/libcudart.so.13
torch /x/site-packages/torch/lib/../../nvidia/cu13/lib/libcublas.so.13
carry /lib/x86_64-linux-gnu/libyaml-cpp.so.0.7
carry /lib/x86_64-linux-gnu/libstdc++.so.6
glibc /lib/x86_64-linux-gnu/libm.so.6
glibc /lib/x86_64-linux-gnu/libc.so.6
torch /x/site-packages/torch/lib/libgomp.so.1
carry /lib/x86_64-linux-gnu/libicuuc.so.72
missing libfoo.so.1
glibc /lib64/ld-linux-x86-64.so.2
WANT
check "pack.sh --classify: glibc skipped, torch/CUDA left to python3's torch, the rest carried" \
  diff -u "$t/want.txt" "$t/classified.txt"

# 2. checks.py: GoogleTest JSON with a pass, a failure and a skip.
cat >"$t/gtest.json" <<'JSON'
{"testsuites": [{"name": "Cuda", "testsuite": [
  {"name": "A", "status": "RUN", "result": "COMPLETED", "time": "0.5s"},
  {"name": "B", "status": "RUN", "result": "COMPLETED", "time": "0s",
   "failures": [{"failure": "cuda_test.cc:10\nExpected: x < 1e-4", "type": ""}]},
  {"name": "C", "status": "RUN", "result": "SKIPPED", "time": "0s",
   "skipped": {"message": "no CUDA device"}}]}]}
JSON
python3 "$here/checks.py" gtest "$t/c1.jsonl" "$t/gtest.json"
check "gtest: three checks, statuses pass/fail/skipped" \
  test "$(python3 -c "import json;print(' '.join(json.loads(l)['status'] for l in open('$t/c1.jsonl')))")" = "pass fail skipped"
mkdir -p "$t/o1"
python3 "$here/checks.py" summarize "$t/c1.jsonl" "$t/o1" "$t/none.json" >/dev/null
check "summarize exits 1 when a test failed or skipped" test $? -eq 1
check "summary.json says not green" \
  python3 -c "import json,sys; d=json.load(open('$t/o1/summary.json')); sys.exit(d['green'] or d['counts']['skipped']!=1)"
check "summary.md says NOT GREEN" grep -q "NOT GREEN" "$t/o1/summary.md"

# 3. Only skips: still not green.
python3 "$here/checks.py" record "$t/c2.jsonl" gtest:Cuda.X skipped "no CUDA device"
mkdir -p "$t/o2"
python3 "$here/checks.py" summarize "$t/c2.jsonl" "$t/o2" "$t/none.json" >/dev/null
check "summarize: all-skipped is not green" test $? -eq 1

# 4. The sweep's expected classes; refused does not fail; all pass is green.
cat >"$t/export.json" <<'JSON'
[{"study": "A", "config": {"quant": "none", "dtype": "bf16", "window": "full"}, "outcome": "ok", "metrics": {"ppl": 12.5}},
 {"study": "A", "config": {"quant": "int8wo-unscaled", "dtype": "bf16", "window": "full"}, "outcome": "nan", "metrics": {}},
 {"study": "E", "config": {"quant": "none", "dtype": "bf16", "window": 2147483647}, "outcome": "oom", "reason": "CUDA out of memory", "metrics": {}}]
JSON
python3 "$here/checks.py" sweep "$t/c3.jsonl" "$t/export.json"
python3 "$here/checks.py" record "$t/c3.jsonl" sanitizer:memcheck refused "Device not supported"
mkdir -p "$t/o3"
python3 "$here/checks.py" summarize "$t/c3.jsonl" "$t/o3" "$t/none.json" >/dev/null
check "sweep: ok, unscaled nan and the oom cell pass; refused is no failure" test $? -eq 0
sed 's/"outcome": "oom"/"outcome": "error"/' "$t/export.json" >"$t/export-bad.json"
python3 "$here/checks.py" sweep "$t/c4.jsonl" "$t/export-bad.json"
mkdir -p "$t/o4"
python3 "$here/checks.py" summarize "$t/c4.jsonl" "$t/o4" "$t/none.json" >/dev/null
check "sweep: the oom cell ending error fails" test $? -eq 1

# 5. trial: result.json outcome against the expected class.
echo '{"outcome":"cuda_error","reason":"CUDA error: device-side assert triggered","metrics":{}}' >"$t/r.json"
python3 "$here/checks.py" trial "$t/c5.jsonl" trial:fault "$t/r.json" cuda_error
python3 "$here/checks.py" trial "$t/c5.jsonl" trial:missing "$t/absent.json" ok
check "trial: cuda_error expected passes, a missing result fails" \
  test "$(python3 -c "import json;print(' '.join(json.loads(l)['status'] for l in open('$t/c5.jsonl')))")" = "pass fail"

# 6. device-le-host: the device median over the same steps never exceeds the host median.
echo '{"outcome":"ok","metrics":{"tpot_ms_median":1.2,"tpot_device_ms_median":0.9}}' >"$t/good.json"
echo '{"outcome":"ok","metrics":{"tpot_ms_median":1.2,"tpot_device_ms_median":40.0}}' >"$t/bad.json"
echo '{"outcome":"ok","metrics":{"tpot_ms_median":1.2}}' >"$t/cpu.json"
for f in good bad cpu; do python3 "$here/checks.py" device-le-host "$t/c6.jsonl" "d:$f" "$t/$f.json"; done
check "device-le-host: within passes, warm-up-inflated and absent fail" \
  test "$(python3 -c "import json;print(' '.join(json.loads(l)['status'] for l in open('$t/c6.jsonl')))")" = "pass fail fail"

echo "selftest: $fails failure(s)"
exit $((fails > 0))
