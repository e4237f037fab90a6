#!/usr/bin/env python3
"""Fetches WikiText-2 (raw), test split, from the Hugging Face Hub and writes the text the
paper's sweep (experiments/quant_sweep.yaml) evaluates: the non-empty rows of
Salesforce/wikitext, config wikitext-2-raw-v1, split test, concatenated (each row already
ends with a line feed). Expected result: 1,287,656 bytes, 2,891 lines, sha256
bbf94c53a05abe9ee670d3b6343608095822c85e26de37c70b24fc571964574a
(285,831 GPT-NeoX-20B tokens). Licence: CC BY-SA 3.0 / GFDL (Merity et al., 2016).

    .venv/bin/python tools/fetch_wikitext2.py [--out data/wikitext-2-raw/wiki.test.raw]

Needs huggingface_hub and pyarrow (scripts/fetch-wikitext2.sh installs them into .venv) and
internet access, or the parquet file already in the Hugging Face cache.
"""
import argparse
import hashlib
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO, FILE = "Salesforce/wikitext", "wikitext-2-raw-v1/test-00000-of-00001.parquet"
EXPECTED_SHA256 = "bbf94c53a05abe9ee670d3b6343608095822c85e26de37c70b24fc571964574a"
HOW = (f"fetch the file {FILE} of the Hugging Face dataset {REPO} on a machine with internet "
       f"(e.g. `hf download --repo-type dataset {REPO} {FILE}`), or copy the joined text "
       f"(sha256 {EXPECTED_SHA256}) to")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=os.path.join(ROOT, "data/wikitext-2-raw/wiki.test.raw"))
    args = p.parse_args()
    try:
        import pyarrow.parquet as pq
        from huggingface_hub import hf_hub_download
    except ImportError as e:
        sys.exit(f"fetch_wikitext2: {e}; install huggingface_hub and pyarrow "
                 f"(scripts/fetch-wikitext2.sh does)")
    try:
        path = hf_hub_download(REPO, FILE, repo_type="dataset", etag_timeout=10)
    except Exception as e:  # offline, DNS, proxy, hub errors: say what to fetch and where
        sys.exit(f"fetch_wikitext2: cannot download {REPO}/{FILE}: {type(e).__name__}: {e}\n"
                 f"fetch_wikitext2: {HOW} {args.out}")
    rows = pq.read_table(path, columns=["text"]).column("text").to_pylist()
    text = "".join(r if r.endswith("\n") else r + "\n" for r in rows if r.strip())
    data = text.encode("utf-8")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out + ".tmp", "wb") as f:
        f.write(data)
    os.replace(args.out + ".tmp", args.out)
    sha = hashlib.sha256(data).hexdigest()
    print(f"fetch_wikitext2: wrote {args.out}: {len(data)} bytes, {text.count(chr(10))} lines, sha256 {sha}")
    if sha != EXPECTED_SHA256:
        print(f"fetch_wikitext2: warning: sha256 differs from the expected {EXPECTED_SHA256}; "
              f"the dataset on the Hub may have changed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
