#!/usr/bin/env python3
"""Writes tests/fixtures/tokenizer/cases.json: reference token ids from Hugging Face
`tokenizers` for the GPT-NeoX-20B tokenizer.json, which orch_text must reproduce exactly.

The reference is `Tokenizer.from_file(path).encode(text).ids` (its ByteLevel
post-processor adds no special tokens, so this equals add_special_tokens=False).

Run with the project's virtualenv (it has `tokenizers`):
    .venv/bin/python tools/make_tokenizer_fixtures.py [--data ../shared/data]

The shared data files are read, never copied: for WikiText-2 only the token count and
the SHA-256 of the ids (as little-endian int32, the token-id file format) are recorded.

    .venv/bin/python tools/make_tokenizer_fixtures.py --exhaustive-check BUILD/tests/text/text_tokenize_tool
compares, instead of writing the fixture, every Unicode code point in several contexts
(about a minute; docs/tokenizer.md lists the expected differences).
"""
import argparse
import hashlib
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

import tokenizers

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKENIZER_REL = "tokenizers/gpt-neox-20b/tokenizer.json"
WIKITEXT_REL = "wikitext-2-raw/wiki.test.raw"

# Hand-picked cases: each names the behaviour it exercises.
CASES = [
    ("empty", ""),
    ("ascii_sentence", "Hello, world! This is a test."),
    ("leading_trailing_spaces", "  leading and trailing  "),
    ("single_space", " "),
    ("whitespace_runs", "a  b   c    d" + " " * 30 + "e" + " " * 25),
    ("whitespace_run_before_word", "x          word"),
    ("tabs", "col1\tcol2\t\tcol3\t"),
    ("newlines", "line1\nline2\n\n\nline3\n"),
    ("crlf", "line1\r\nline2\r\n\r\n"),
    ("mixed_whitespace", " \t \n  \u00a0 \u3000 \u2028x\u0085y"),
    ("endoftext_inside", "first document<|endoftext|>second document"),
    ("endoftext_spaced", "end. <|endoftext|> start"),
    ("endoftext_repeated", "<|endoftext|><|endoftext|>a<|endoftext|>"),
    ("unk_token_text", "a <|unk|> b"),
    ("partial_special", "<|endoftext| <|endof <|"),
    ("numbers", "In 2024, 3.14159 and 1,000,000 and 0x1F; ٣٤٥ ４５ ²³ Ⅻ"),
    ("contractions", "It's we'll they're I've I'm he'd don't IT'S WE'LL THEY'RE 'RE 's"),
    ("apostrophes", "'''s ''ll rock'n'roll ' s"),
    ("latin_accents", "Café naïve résumé Ångström Łódź façade coöperate"),
    ("decomposed_accents_nfc", "Cafe\u0301 nai\u0308ve A\u030angstro\u0308m"),
    ("combining_sequence_order", "q\u0307\u0323 a\u0323\u0307 e\u0301\u0301"),
    ("hangul_jamo_nfc", "\u1100\u1161\u11a8 \u1112\u1161\u11ab"),
    ("cyrillic", "Привет, мир! Съешь же ещё этих мягких французских булок."),
    ("greek", "Καλημέρα κόσμε· ἀρχή ὦ"),
    ("cjk", "你好，世界。日本語のテキストです。한국어 텍스트"),
    ("arabic", "مرحبا بالعالم، هذا اختبار."),
    ("hindi", "नमस्ते दुनिया, यह एक परीक्षण है।"),
    ("thai_hebrew", "สวัสดีครับ שָׁלוֹם"),
    ("emoji", "I 😀 love 🍕 and 🚀!"),
    ("emoji_zwj", "family 👨‍👩‍👧‍👦 and 👩🏽‍💻 and 🏳️‍🌈"),
    ("emoji_flags", "flags 🇺🇸🇫🇷🇯🇵 end"),
    ("code_python", "def f(x):\n    return x ** 2  # square\n\nprint(f(3))\n"),
    ("code_cpp", "int main() {\n\tstd::vector<int> v{1, 2, 3};\n\treturn v[0] != 1;\n}\n"),
    ("punctuation_runs", "Wait... what?!?! -- (yes) [no] {maybe} ~~~ @@@ ###"),
    ("url_email", "https://example.com/a?b=c&d=e mail@example.org"),
    ("long_word", "Pneumonoultramicroscopicsilicovolcanoconiosis" * 3),
    ("control_chars", "a\x00b\x01c\x1fd\x7fe"),
    ("zero_width", "a\u200bb\u200cc\u200dd\ufeffe"),
    ("nbsp_words", "10\u00a0km and 5\u202fkg"),
    ("surrogate_plane", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𐍈 𠜎"),
    ("only_newlines", "\n\n\n"),
    ("space_newline_mix", "a \n b  \n\n  c"),
    ("trailing_space_before_newline", "word \nnext"),
    # tokenizers' NFC uses Unicode 9.0 data: marks assigned later (U+1DF6, U+1AC0) are
    # not reordered, though current NFC would reorder them.
    ("nfc_unicode9_data", "x\u1df6\u0301y a\u1ac0\u0301 q\u0345\U0001e4ec"),
    # Its split pattern knows letters and digits newer than Debian 12's PCRE2 (Unicode 14):
    # U+1E030 (Lm), U+11F50 (Nd), U+1E4D0 (Lo), all Unicode 15.0.
    ("split_unicode15_letters", "\U0001e030's \U00011f50\U00011f51 x\U0001e4d0y"),
    ("nel_is_whitespace", "a\x85\x85b \x85 x \x85y \x85! (\x85)"),
]

# Characters for the seeded random cases: whitespace of every kind, letters, marks,
# digits of several scripts, symbols, and the strings that interact with added tokens.
RANDOM_ATOMS = (
    list(" \t\n\r\x0b\x0c\x85\xa0\u1680\u2000\u2007\u200a\u2028\u2029\u202f\u205f\u3000"
         "\u180e\u200b\ufeff\x1c\x1d\x1e\x1f")
    + list("aAzZéÉßœŒıİǅﬁ")
    + list("\u0301\u0308\u0323\u0307\u030a\u0345\u05b8\u093c\u0e31\u20dd\ufe0f\u200d")
    + list("0123456789٣۴߅४০๓１²½Ⅻⅻ〇")
    + list("'\"!?.,;:-_()[]{}<>|/\\@#$%^&*+=~`")
    + list("жЖλΣ中文あア한ㄱ국ب\u0627हि")
    + list("😀👍🏽🇺🇸👨")
    + ["<|endoftext|>", "<|unk|>", "'s", "'ll", "'RE", "  ", "    ", " " * 25,
       "e\u0301", "\r\n"]
)


# Added tokens that exercise the flags GPT-NeoX-20B does not use (lstrip, rstrip,
# single_word, normalized matching of a token whose NFC form differs, a raw-text token
# that NFC would change, a token already in the vocabulary). The C++ test appends them to
# the shared tokenizer.json the same way and compares.
EXTRA_ADDED_TOKENS = [
    {"content": "<mask>", "single_word": False, "lstrip": True, "rstrip": False,
     "normalized": False, "special": True},
    {"content": "[SEP]", "single_word": False, "lstrip": False, "rstrip": True,
     "normalized": False, "special": True},
    {"content": "cat", "single_word": True, "lstrip": False, "rstrip": False,
     "normalized": True, "special": False},
    {"content": "\u2126hm", "single_word": False, "lstrip": False, "rstrip": False,
     "normalized": True, "special": False},
    {"content": "cafe\u0301", "single_word": False, "lstrip": False, "rstrip": False,
     "normalized": False, "special": False},
    {"content": "hello world", "single_word": False, "lstrip": False, "rstrip": False,
     "normalized": True, "special": False},
]
EXTRA_CASES = [
    "a<mask>b", "a   <mask> b", "x [SEP]   y", "[SEP]  <mask>", "<mask>   [SEP]",
    "\u00a0\t<mask>", "cat concat cat_ cats, cat! (cat) cat", "catcat cat",
    "\u2126hm \u03a9hm ohm", "cafe\u0301 caf\u00e9 cafe\u0301s", "say hello world  hello   world",
    "[SEP][SEP]<mask><mask>", "   <mask>   <mask>", "\u00e9cat cat\u0301 cat\u00e9",
]


def extra_added_tokens_fixture(tokenizer_bytes):
    """Encodes EXTRA_CASES with EXTRA_ADDED_TOKENS appended to the tokenizer's list."""
    config = json.loads(tokenizer_bytes)
    entries = [dict(token, id=0) for token in EXTRA_ADDED_TOKENS]
    config["added_tokens"] = config["added_tokens"] + entries
    probe = tokenizers.Tokenizer.from_str(json.dumps(config))
    # tokenizers ignores the ids in the file and assigns its own; record those.
    for entry in entries:
        entry["id"] = probe.token_to_id(entry["content"])
    tok = tokenizers.Tokenizer.from_str(json.dumps(config))
    return {
        "added_tokens": entries,
        "cases": [{"text": text, "ids": encode(tok, text)} for text in EXTRA_CASES],
    }


def encode(tok, text):
    return tok.encode(text).ids


def random_cases(rng, count):
    cases = []
    for i in range(count):
        n = rng.randint(1, 40)
        text = "".join(rng.choice(RANDOM_ATOMS) for _ in range(n))
        cases.append((f"random_{i:03d}", text))
    return cases


# Line breaks are left out: the comparison encodes each line on its own. The fixture
# cases cover them.
LINE_BREAKS = {0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029}


def exhaustive_check(tok, tokenizer_path, tool):
    """Encodes every code point in several contexts with tokenizers and with orch."""
    code_points = [cp for cp in range(0x110000)
                   if not 0xD800 <= cp <= 0xDFFF and cp not in LINE_BREAKS]
    lines = []
    for cp in code_points:
        c = chr(cp)
        lines.append(f"a{c}b {c}1 {c}{c}  {c} x{c}\u0301y {c}'s 1{c}2 \t{c}e\u0301{c} ")
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt") as f:
        f.write("\n".join(lines) + "\n")
        f.flush()
        out = subprocess.run([tool, "lines", tokenizer_path, f.name], check=True,
                             capture_output=True, text=True).stdout.split("\n")
    reference = tok.encode_batch(lines)
    bad = [cp for i, cp in enumerate(code_points)
           if [int(x) for x in out[i].split()] != reference[i].ids]
    print(f"checked {len(code_points)} code points, {len(bad)} differ")
    ranges = []
    for cp in bad:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    for first, last in ranges:
        print(f"  U+{first:04X}..U+{last:04X}" if first != last else f"  U+{first:04X}")
    return 0 if not bad else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"),
                        help="shared data directory (default: ../shared/data)")
    parser.add_argument("--out", default=os.path.join(REPO, "tests", "fixtures", "tokenizer",
                                                      "cases.json"))
    parser.add_argument("--exhaustive-check", metavar="TOOL",
                        help="compare all code points using text_tokenize_tool at TOOL")
    args = parser.parse_args()

    tokenizer_path = os.path.join(args.data, TOKENIZER_REL)
    with open(tokenizer_path, "rb") as f:
        tokenizer_bytes = f.read()
    tok = tokenizers.Tokenizer.from_file(tokenizer_path)
    if args.exhaustive_check:
        sys.exit(exhaustive_check(tok, tokenizer_path, args.exhaustive_check))

    cases = CASES + random_cases(random.Random(20240517), 300)
    out_cases = [{"name": name, "text": text, "ids": encode(tok, text)} for name, text in cases]
    # The encode() and encode(add_special_tokens=False) ids must agree for this tokenizer;
    # the C++ side documents that it matches both.
    for name, text in cases:
        assert encode(tok, text) == tok.encode(text, add_special_tokens=False).ids, name

    doc = {
        "generator": "tools/make_tokenizer_fixtures.py",
        "tokenizers_version": tokenizers.__version__,
        "tokenizer": TOKENIZER_REL,
        "tokenizer_sha256": hashlib.sha256(tokenizer_bytes).hexdigest(),
        "cases": out_cases,
        "extra_added_tokens": extra_added_tokens_fixture(tokenizer_bytes),
    }

    wikitext_path = os.path.join(args.data, WIKITEXT_REL)
    with open(wikitext_path, "rb") as f:
        raw = f.read()
    ids = encode(tok, raw.decode("utf-8"))
    packed = struct.pack(f"<{len(ids)}i", *ids)
    doc["wikitext2_test"] = {
        "path": WIKITEXT_REL,
        "text_sha256": hashlib.sha256(raw).hexdigest(),
        "count": len(ids),
        "ids_sha256": hashlib.sha256(packed).hexdigest(),
        "first_ids": ids[:32],
    }

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    # One case per line keeps diffs of the fixture readable.
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("{\n")
        for key in ("generator", "tokenizers_version", "tokenizer", "tokenizer_sha256"):
            f.write(f"  {json.dumps(key)}: {json.dumps(doc[key])},\n")
        f.write(f'  "wikitext2_test": {json.dumps(doc["wikitext2_test"])},\n')
        f.write(f'  "extra_added_tokens": {json.dumps(doc["extra_added_tokens"])},\n')
        f.write('  "cases": [\n')
        for i, case in enumerate(out_cases):
            sep = "," if i + 1 < len(out_cases) else ""
            f.write(f"    {json.dumps(case, ensure_ascii=True)}{sep}\n")
        f.write("  ]\n}\n")
    print(f"wrote {args.out}: {len(out_cases)} cases, WikiText-2 test {len(ids)} tokens",
          file=sys.stderr)


if __name__ == "__main__":
    main()
