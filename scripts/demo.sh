#!/usr/bin/env bash
# The CPU quickstart (`make demo`, docs/quickstart.md): trains a tiny GPT-NeoX on
# WikiText-2, runs experiments/quickstart.yaml through the real orch-worker and writes the
# report. Usage: scripts/demo.sh BUILD_DIR   (default: build)
#
# Needs the test data beside the checkout: ../shared/data (or $ORCH_DATA) with
#   tokenizers/gpt-neox-20b/tokenizer.json and wikitext-2-raw/wiki.test.raw.
# Generated files: results/quickstart/ (model, held-out text, database) and
# reports/quickstart/ (the report); both are git-ignored. Rerunning is cheap: the model is
# kept while its stamp matches, and orch runs only trials without a result.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-build}"
case "$build" in /*) ;; *) build="$root/$build" ;; esac
data="${ORCH_DATA:-$root/../shared/data}"
tokenizer="$data/tokenizers/gpt-neox-20b/tokenizer.json"
text="$data/wikitext-2-raw/wiki.test.raw"
spec="experiments/quickstart.yaml"
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

missing=()
[ -f "$tokenizer" ] || missing+=("$tokenizer")
[ -f "$text" ] || missing+=("$text")
if [ "${#missing[@]}" -gt 0 ]; then
  cat >&2 <<EOF
demo: the quickstart needs two data files that are not in the repository:
$(printf '  missing: %s\n' "${missing[@]}")
Put them under ../shared/data beside the checkout (or point ORCH_DATA at a directory
with the same layout):
  tokenizers/gpt-neox-20b/tokenizer.json   the GPT-NeoX-20B tokenizer (Hugging Face
                                           EleutherAI/gpt-neox-20b, file tokenizer.json)
  wikitext-2-raw/wiki.test.raw             WikiText-2 raw, test split: the non-empty rows
                                           joined with LF (Hugging Face Salesforce/wikitext,
                                           config wikitext-2-raw-v1)
See ../shared/data/README.md (sizes and sha256) where that directory exists.
EOF
  exit 1
fi
if [ ! -x "$build/orch" ]; then
  echo "demo: $build/orch not found; build first (make demo does: make build)" >&2
  exit 1
fi

step "Python tools (transformers, tokenizers, safetensors) in .venv"
scripts/install-deps.sh --tools
python="${ORCH_VENV:-$root/.venv}/bin/python"

step "train the quickstart model (tools/make_quickstart_model.py; skipped when up to date)"
"$python" tools/make_quickstart_model.py --tokenizer "$tokenizer" --text "$text" \
  --out results/quickstart/model --heldout results/quickstart/heldout.txt

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
# ORCH_WORKER_THREADS says otherwise: this model's decode step is too small to gain from
# a second thread (median TPOT the same within noise at 1 and 2 threads on a 2-core VM),
# and a 2-thread step stalls for 100+ ms whenever another process takes one of two cores.
export ORCH_WORKER_THREADS="${ORCH_WORKER_THREADS:-1}"
"$build/orch" run "$spec" --db "$db"

step "orch status --db $db"
"$build/orch" status --db "$db"

step "orch report --db $db --out $out"
"$build/orch" report --db "$db" --out "$out"

step "perplexity: orch-worker's decode loop against transformers"
"$build/orch" export --db "$db" --format json > results/quickstart/export.json
"$python" - <<'EOF'
import json
stamp = json.load(open("results/quickstart/model/stamp.json"))["metrics"]
trials = json.load(open("results/quickstart/export.json"))
trials = trials.get("trials", trials) if isinstance(trials, dict) else trials
shown = set()
for t in trials:
    c, m = t.get("config", {}), t.get("metrics", {}) or {}
    if c.get("window") != "full" or c.get("quant") != "none" or c.get("dtype") != "fp32":
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
EOF
step_name_done="$step_name"; now=$(date +%s)
echo "demo: ${step_name_done} took $((now - step_start)) s"

echo
echo "demo: done in $((now - t0)) s. Report: $root/$out/report.md"
echo "demo: (LaTeX tables, snippet and figures beside it; database: $root/$db)"
