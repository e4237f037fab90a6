#!/usr/bin/env python3
"""The quickstart's text: English prose from the Linux man-pages project (Debian packages
`manpages` and `manpages-dev`, installed by scripts/install-deps.sh), roff stripped.
Python 3 standard library only, so `make demo` runs it without any ML package.

The pages are those of sections 2, 4, 5 and 7 that the two packages install (from
`dpkg-query -L`), sorted by path; `.so` redirections (aliases of another page) are skipped.
Every 20th page (index % 20 == 7 in that order) is HELD OUT: the model never trains on it,
and the quickstart evaluates on their concatenation. The split is by whole page (the
boilerplate many pages share, such as section headings, occurs on both sides).

    python3 tools/quickstart_model/extract_text.py --heldout OUT.txt [--train OUT.txt]

prints the package versions, the page counts and the sha256 of what it wrote. The output is
a function of the package versions alone (manpages 6.03-2 on Debian 12 for the committed
model; tools/quickstart_model/README.md has the sha256 to compare).
"""
import argparse
import gzip
import hashlib
import re
import subprocess
import sys

PACKAGES = ("manpages", "manpages-dev")
SECTIONS = ("2", "4", "5", "7")
HELDOUT_EVERY, HELDOUT_AT = 20, 7

# roff named characters (\(xx and \[xx]) that occur in man-pages, spelled in ASCII
NAMED = {"em": "--", "en": "-", "aq": "'", "dq": '"', "lq": '"', "rq": '"', "oq": "'",
         "cq": "'", "bu": "*", "co": "(C)", "rg": "(R)", "mu": "x", "ti": "~", "ha": "^",
         "rs": "\\", "ga": "`", "hy": "-", "pl": "+", "mi": "-", "eq": "=", "<=": "<=",
         ">=": ">=", "!=": "!=", "->": "->", "<-": "<-", "de": " degrees", "sc": "S",
         "tm": "(TM)", "dg": "+", "ps": "#", "Fo": "<<", "Fc": ">>", "fo": "<", "fc": ">",
         "aa": "'", "at": "@", "sh": "#", "sl": "/", "ul": "_", "lB": "[", "rB": "]",
         "lC": "{", "rC": "}", "la": "<", "ra": ">", "ba": "|", "or": "|", "Aq": "'",
         "ss": "ss", "a\"": "a", "o\"": "o", "u\"": "u", "e'": "e", "e`": "e"}

ESCAPE = re.compile(r"""\\(?:
    f(?:\[[^\]]*\]|\(..|.)          # font change
  | s(?:[-+]?\d|\(\d\d|\[[^\]]*\])   # size change
  | \*(?:\[[^\]]*\]|\(..|.)         # string
  | n(?:\[[^\]]*\]|\(..|.)          # number register
  | \((..)                          # named character \(xx
  | \[([^\]]*)\]                    # named character \[xx]
  | [&%c:|^,/!)]                    # zero-width
  | [ ~0]                           # spaces
  | e                               # backslash
  | -                               # minus
  | (.)                             # anything else: the character itself
)""", re.VERBOSE)


def unescape(s):
    def repl(m):
        whole = m.group(0)
        if m.group(1) or m.group(2):
            return NAMED.get(m.group(1) or m.group(2), "")
        if whole in ("\\ ", "\\~", "\\0"):
            return " "
        if whole == "\\e":
            return "\\"
        if whole == "\\-":
            return "-"
        if m.group(3) is not None:
            return m.group(3)
        return ""
    return ESCAPE.sub(repl, s)


def macro_args(rest):
    """roff arguments: blank-separated, "quoted" ones may hold blanks."""
    return [a[1:-1] if a.startswith('"') else a
            for a in re.findall(r'"(?:[^"]|"")*"?|\S+', rest)]


FONT_ALTERNATING = {"BR", "RB", "BI", "IB", "IR", "RI"}
FONT_SINGLE = {"B", "I", "SM", "SB"}
BREAKS = {"PP", "P", "LP", "sp", "br", "HP", "RS", "RE", "in", "ti", "SY", "YS"}


def strip_roff(src):
    """Plain text of one man page: one line per filled paragraph, no-fill blocks
    (examples) kept line by line; tables (.TS/.TE) dropped."""
    out, para = [], []
    nofill = in_table = tag_next = False

    def flush():
        if para:
            out.append(" ".join(para))
            para.clear()

    for line in src.split("\n"):
        if line.startswith(('.\\"', "'\\\"", '\\"')) or line in (".", "'"):
            continue
        if line.startswith((".", "'")):
            m = re.match(r"[.'][ \t]*(\S*)[ \t]*(.*)", line)
            name, rest = m.group(1), m.group(2)
            if in_table:
                in_table = name != "TE"
                continue
            if name == "TS":
                flush(); in_table = True; continue
            if name == "TH":
                a = macro_args(rest)
                flush(); out.append(f"{a[0]}({a[1]})" if len(a) > 1 else " ".join(a)); continue
            if name in ("SH", "SS"):
                flush(); out.append(""); out.append(unescape(" ".join(macro_args(rest)))); continue
            if name in ("nf", "EX"):
                flush(); nofill = True; continue
            if name in ("fi", "EE"):
                nofill = False; continue
            if name in FONT_ALTERNATING:
                text = unescape("".join(macro_args(rest)))
            elif name in FONT_SINGLE:
                text = unescape(" ".join(macro_args(rest)))
            elif name == "TP":
                flush(); tag_next = True; continue
            elif name == "IP":
                flush()
                a = macro_args(rest)
                if a and a[0]:
                    para.append(unescape(a[0]))
                continue
            elif name in BREAKS:
                flush(); continue
            else:  # .UR/.UE/.MT/.ME/.ad/.hy/.ne/.ft/.ta/.de/... : no text of their own
                continue
        else:
            if in_table:
                continue
            text = unescape(line)
        text = text.replace("\t", " ")
        if nofill:
            out.append(text.rstrip())
        elif tag_next:
            para.append(text.strip()); flush(); tag_next = False
        elif text.strip():
            para.append(text.strip())
        else:
            flush()
    flush()
    # collapse runs of blank lines, strip leading/trailing blank lines
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n")
    return text + "\n"


def package_versions():
    return {p: subprocess.run(["dpkg-query", "-W", "-f", "${Version}", p], check=True,
                              capture_output=True, text=True).stdout for p in PACKAGES}


def pages():
    listed = subprocess.run(["dpkg-query", "-L", *PACKAGES], check=True,
                            capture_output=True, text=True).stdout.split("\n")
    want = re.compile(r"^/usr/share/man/man(%s)/[^/]+\.gz$" % "|".join(SECTIONS))
    return sorted({p for p in listed if want.match(p)})


def split_texts():
    """(train_text, heldout_text, info) for the installed packages."""
    train, held, n_pages = [], [], 0
    for path in pages():
        with gzip.open(path, "rb") as f:
            src = f.read().decode("utf-8", errors="replace")
        if re.match(r"\s*\.so\s", src):
            continue
        (held if n_pages % HELDOUT_EVERY == HELDOUT_AT else train).append(strip_roff(src))
        n_pages += 1
    info = {"packages": package_versions(), "sections": list(SECTIONS),
            "pages": n_pages, "heldout_pages": len(held)}
    return "\n".join(train), "\n".join(held), info


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--heldout", required=True, help="write the held-out text here")
    p.add_argument("--train", help="also write the training text here")
    args = p.parse_args()
    try:
        train, held, info = split_texts()
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit(f"extract_text: cannot read the man pages of {' '.join(PACKAGES)} ({e}); "
                 f"install them: apt-get install {' '.join(PACKAGES)} (scripts/install-deps.sh does)")
    if info["pages"] == 0:
        sys.exit(f"extract_text: no man pages found; apt-get install {' '.join(PACKAGES)}")
    for path, text in ((args.heldout, held), (args.train, train)):
        if path:
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            print(f"extract_text: {path}: {len(text.encode())} bytes, sha256 "
                  f"{hashlib.sha256(text.encode()).hexdigest()}")
    print(f"extract_text: {info}")


if __name__ == "__main__":
    main()
