#!/usr/bin/env bash
# The CPU quickstart (`make demo`, docs/quickstart.md): runs experiments/quickstart.yaml on
# the repository's own small GPT-NeoX (models/quickstart/) through the real orch-worker and
# writes the report. Trains nothing and needs no Python ML package: the evaluation text is
# extracted from the Debian man pages (packages manpages, manpages-dev) with python3's
# standard library. Usage: scripts/demo.sh BUILD_DIR   (default: build)
#
# Generated files: results/quickstart/ (held-out text, database) and reports/quickstart/
# (the report); both are git-ignored. A second run runs no trial (every trial has its
# result) and rewrites the same report byte for byte.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-build}"
case "$build" in /*) ;; *) build="$root/$build" ;; esac
spec="experiments/quickstart.yaml"
model="models/quickstart"
heldout="results/quickstart/heldout.txt"
db="results/quickstart/orch.db"
out="reports/quickstart"
cd "$root"

t0=$(date +%s)
step_start=$t0
step() {  # step NAME: prints the time the previous step took and announces the next
  local now; now=$(date +%s)
  [ -z "${step_name:-}" ] || echo "demo: ${step_name} took $((now - step_start)) s"
  step_name="$1"; step_start=$now
  echo; echo "== demo: $1"
}

if [ ! -x "$build/orch" ]; then
  echo "demo: $build/orch not found; build first (make demo does: make build)" >&2
  exit 1
fi

step "held-out text: python3 tools/quickstart_model/extract_text.py --heldout $heldout"
mkdir -p results/quickstart
python3 tools/quickstart_model/extract_text.py --heldout "$heldout.tmp"
if [ -f "$heldout" ] && cmp -s "$heldout" "$heldout.tmp"; then
  rm "$heldout.tmp"  # unchanged: keep the file (and its mtime) as it is
else
  mv "$heldout.tmp" "$heldout"
fi
python3 - "$model/stamp.json" "$heldout" <<'EOF_PY'
import hashlib, json, sys
stamp = json.load(open(sys.argv[1]))
want = stamp["text"]["heldout_sha256"]
have = hashlib.sha256(open(sys.argv[2], "rb").read()).hexdigest()
if have == want:
    print(f"demo: held-out text is the one the model was evaluated on (sha256 {want[:12]}...)")
else:
    print(f"demo: warning: held-out text sha256 {have[:12]}... differs from the model's "
          f"stamp ({want[:12]}..., man-pages {stamp['text']['packages']}): other package "
          f"versions; the sweep still runs, but its PPLs are not the README's")
EOF_PY

step "orch plan $spec"
if [ ! -x "$build/orch-worker" ]; then
  "$build/orch" plan "$spec" || true
  echo
  echo "demo: $build/orch-worker does not exist (a build without LibTorch), so the sweep"
  echo "demo: cannot run; stopping after 'orch plan' (it warns about the missing worker and"
  echo "demo: shows provisional keys). Build the worker (make build with LibTorch, see docs/worker.md)"
  echo "demo: and rerun scripts/demo.sh ${1:-build}."
  exit 0
fi
"$build/orch" plan "$spec"

step "orch run $spec --db $db"
# One trial at a time (orch's default -j 1), and one intra-op thread per worker unless
# ORCH_WORKER_THREADS says otherwise: on a shared 2-core machine a 2-thread decode step
# stalls whenever another process takes one of the cores.
export ORCH_WORKER_THREADS="${ORCH_WORKER_THREADS:-1}"
"$build/orch" run "$spec" --db "$db"

step "orch status --db $db"
"$build/orch" status --db "$db"

step "orch report --db $db --out $out"
"$build/orch" report --db "$db" --out "$out"

step "perplexity: orch-worker's decode loop against transformers (the model's stamp.json)"
"$build/orch" export --db "$db" --format json > results/quickstart/export.json
python3 - "$model/stamp.json" results/quickstart/export.json <<'EOF_PY'
import json, sys
stamp = json.load(open(sys.argv[1]))["metrics"]
trials = json.load(open(sys.argv[2]))
trials = trials.get("trials", trials) if isinstance(trials, dict) else trials
shown = set()
for t in trials:
    c, m = t.get("config", {}), t.get("metrics", {}) or {}
    if c.get("window") != "full" or c.get("quant") != "none" or c.get("dtype") != "fp32" \
            or c.get("mode", "eval") != "eval":
        continue
    n = c.get("tokens")
    ref = stamp.get(f"heldout_ppl_first_{n}")
    if n in shown or ref is None or "ppl" not in m:
        continue
    shown.add(n)
    print(f"  first {n} held-out tokens, full attention, fp32: orch-worker PPL {m['ppl']:.3f},"
          f" transformers PPL {ref:.3f} (relative difference {m['ppl'] / ref - 1:+.2e})")
if not shown:
    print("  no ok fp32 / quant none / window full trial to compare")
EOF_PY
now=$(date +%s)
echo "demo: ${step_name} took $((now - step_start)) s"

echo
echo "demo: done in $((now - t0)) s. Report: $root/$out/report.md"
echo "demo: (LaTeX tables, snippet and figures beside it; database: $root/$db)"
