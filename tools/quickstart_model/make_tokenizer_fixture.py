#!/usr/bin/env python3
"""Writes tests/fixtures/quickstart_tokenizer/cases.json: the ids Hugging Face `tokenizers`
gives with models/quickstart/tokenizer.json, which orch's tokenizer must reproduce
(tests/text/quickstart_tokenizer_test.cc).

Cases: man-page-like sentences written here, the hand-picked and seeded random cases of
tools/make_tokenizer_fixtures.py (Unicode, whitespace, added tokens), and, for the
held-out text that extract_text.py produces (never committed), only its sha256, the id
count, the first ids and the sha256 of all ids (little-endian int32, the token-id file
format).

    .venv/bin/python tools/quickstart_model/make_tokenizer_fixture.py
"""
import hashlib
import json
import os
import random
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import extract_text  # noqa: E402
import make_tokenizer_fixtures as neox  # noqa: E402  (its CASES and random cases)
import tokenizers  # noqa: E402

TOKENIZER_REL = "models/quickstart/tokenizer.json"
OUT = os.path.join(ROOT, "tests/fixtures/quickstart_tokenizer/cases.json")

MAN_CASES = [
    ("man_synopsis", "int open(const char *pathname, int flags, mode_t mode);\n"),
    ("man_errors", "EACCES The requested access to the file is not allowed (see path_resolution(7))."),
    ("man_return", "On success, zero is returned.  On error, -1 is returned, and errno is set to indicate the error."),
    ("man_heading", "\nDESCRIPTION\nThe socket() system call creates an endpoint for communication.\n"),
    ("man_code", "    if (fd == -1) {\n        perror(\"open\");\n        exit(EXIT_FAILURE);\n    }\n"),
    ("man_flags", "O_CLOEXEC | O_NONBLOCK | O_DIRECTORY  /* since Linux 2.6.23 */"),
    ("endoftext_between_pages", "exit(3)\n<|endoftext|>fork(2)\n"),
]


def main():
    tok_path = os.path.join(ROOT, TOKENIZER_REL)
    with open(tok_path, "rb") as f:
        tok_bytes = f.read()
    tok = tokenizers.Tokenizer.from_file(tok_path)
    cases = MAN_CASES + neox.CASES + neox.random_cases(random.Random(20240517), 300)
    out_cases = []
    for name, text in cases:
        ids = tok.encode(text).ids
        assert ids == tok.encode(text, add_special_tokens=False).ids, name
        out_cases.append({"name": name, "text": text, "ids": ids})
    _, held, info = extract_text.split_texts()
    ids = tok.encode(held).ids
    doc = {
        "generator": "tools/quickstart_model/make_tokenizer_fixture.py",
        "tokenizers_version": tokenizers.__version__,
        "tokenizer": TOKENIZER_REL,
        "tokenizer_sha256": hashlib.sha256(tok_bytes).hexdigest(),
        "heldout": {"made_by": "python3 tools/quickstart_model/extract_text.py --heldout FILE",
                    "packages": info["packages"],
                    "text_sha256": hashlib.sha256(held.encode()).hexdigest(),
                    "count": len(ids), "first_ids": ids[:32],
                    "ids_sha256": hashlib.sha256(struct.pack(f"<{len(ids)}i", *ids)).hexdigest()},
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        f.write("{\n")
        for key in ("generator", "tokenizers_version", "tokenizer", "tokenizer_sha256", "heldout"):
            f.write(f"  {json.dumps(key)}: {json.dumps(doc[key])},\n")
        f.write('  "cases": [\n')
        for i, case in enumerate(out_cases):
            sep = "," if i + 1 < len(out_cases) else ""
            f.write(f"    {json.dumps(case, ensure_ascii=True)}{sep}\n")
        f.write("  ]\n}\n")
    print(f"wrote {OUT}: {len(out_cases)} cases, held-out text {len(ids)} ids", file=sys.stderr)


if __name__ == "__main__":
    main()
