#!/usr/bin/env bash
# Fills data/wikitext-2-raw/wiki.test.raw (git-ignored), the dataset of
# experiments/quant_sweep.yaml: WikiText-2 raw, test split, from the Hugging Face Hub
# (tools/fetch_wikitext2.py). Offline it stops at once and says what to fetch and where.
#   scripts/fetch-wikitext2.sh [OUT]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/data/wikitext-2-raw/wiki.test.raw}"
venv="${ORCH_VENV:-$root/.venv}"
endpoint="${HF_ENDPOINT:-https://huggingface.co}"
cache_hit=$(ls -d "${HF_HUB_CACHE:-${HF_HOME:-$HOME/.cache/huggingface}/hub}"/datasets--Salesforce--wikitext 2>/dev/null || true)
if [ -z "$cache_hit" ] && [ -z "${HF_HUB_OFFLINE:-}" ] && \
   ! python3 -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=10)" "$endpoint" 2>/dev/null; then
  cat >&2 <<MSG
fetch-wikitext2: cannot reach $endpoint (offline?). What is needed:
  the test split of WikiText-2 raw (Hugging Face dataset Salesforce/wikitext, config
  wikitext-2-raw-v1, file wikitext-2-raw-v1/test-00000-of-00001.parquet), its non-empty
  rows concatenated, at
    $out
  (1,287,656 bytes, sha256 bbf94c53a05abe9ee670d3b6343608095822c85e26de37c70b24fc571964574a).
Run this script on a machine with internet and copy the file there.
MSG
  exit 1
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import huggingface_hub, pyarrow' 2>/dev/null || \
  "$venv/bin/python" -m pip install -q --disable-pip-version-check huggingface_hub pyarrow
exec "$venv/bin/python" "$root/tools/fetch_wikitext2.py" --out "$out"
