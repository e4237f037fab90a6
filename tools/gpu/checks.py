#!/usr/bin/env python3
"""The GPU check's bookkeeping (tools/gpu/run.sh): records checks as JSON lines, reads
GoogleTest's JSON, worker result.json files and `orch export --format json`, and writes
summary.json and summary.md. Standard library only: it runs under whatever python3 the
machine has, also where torch is missing (the CPU rehearsal).

  checks.py record CHECKS NAME STATUS [DETAIL] [KEY=NUMBER ...]
  checks.py gtest CHECKS GTEST_JSON [LOG]        one check per test; skipped counts as failed
  checks.py trial CHECKS NAME RESULT_JSON EXPECTED[,EXPECTED...]
  checks.py sweep CHECKS EXPORT_JSON            every cell in its expected class
  checks.py device-le-host CHECKS NAME RESULT_JSON   tpot_device_ms_median <= tpot_ms_median
  checks.py summarize CHECKS OUTDIR META_JSON   -> OUTDIR/summary.json, summary.md; exit 1 if
                                                any check is not pass/refused, or none ran

STATUS is one of pass, fail, skipped, refused (the machine refused a tool, e.g.
compute-sanitizer on gVisor: reported plainly, not counted as a failure).
"""
import json
import os
import sys

STATUSES = ("pass", "fail", "skipped", "refused")


def record(path, name, status, detail="", numbers=None):
    if status not in STATUSES:
        raise SystemExit(f"checks.py: unknown status {status!r}")
    entry = {"name": name, "status": status, "detail": detail, "numbers": numbers or {}}
    with open(path, "a") as f:
        f.write(json.dumps(entry, sort_keys=True) + "\n")


def parse_numbers(args):
    out = {}
    for a in args:
        k, _, v = a.partition("=")
        try:
            out[k] = float(v)
        except ValueError:
            out[k] = v
    return out


def cmd_record(argv):
    path, name, status = argv[:3]
    detail = argv[3] if len(argv) > 3 else ""
    record(path, name, status, detail, parse_numbers(argv[4:]))


def cmd_gtest(argv):
    path, gjson = argv[:2]
    try:
        with open(gjson) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        record(path, "gtest:" + os.path.basename(gjson), "fail", f"no GoogleTest JSON: {e}")
        return
    n = 0
    for suite in data.get("testsuites", []):
        for t in suite.get("testsuite", []):
            n += 1
            name = f"gtest:{suite.get('name')}.{t.get('name')}"
            failures = t.get("failures") or []
            secs = float(str(t.get("time", "0")).rstrip("s") or 0)
            if failures:
                msg = " | ".join(x.get("failure", "").splitlines()[0] for x in failures)[:500]
                record(path, name, "fail", msg, {"seconds": secs})
            elif t.get("result") == "SKIPPED" or t.get("status") == "NOTRUN":
                skipped = t.get("skipped", {})
                msg = skipped.get("message", "") if isinstance(skipped, dict) else ""
                record(path, name, "skipped", ("skipped: " + msg if msg else "skipped (GTEST_SKIP)")[:500], {"seconds": secs})
            else:
                record(path, name, "pass", "", {"seconds": secs})
    if n == 0:
        record(path, "gtest:" + os.path.basename(gjson), "fail", "no tests ran")


def cmd_trial(argv):
    path, name, result_json, expected = argv[:4]
    want = expected.split(",")
    try:
        with open(result_json) as f:
            r = json.load(f)
    except (OSError, ValueError) as e:
        record(path, name, "fail", f"no result.json: {e}")
        return
    m = r.get("metrics", {})
    nums = {k: m[k] for k in ("ppl", "tpot_ms_median", "tpot_device_ms_median",
                              "peak_alloc_bytes", "peak_reserved_bytes") if k in m}
    got = r.get("outcome")
    status = "pass" if got in want else "fail"
    record(path, name, status,
           f"outcome {got} (expected {'/'.join(want)}): {r.get('reason', '')}"[:500], nums)


def cmd_device_le_host(argv):
    """Issue 7, check 7: the device-clock TPOT must cover the same (post-warm-up) steps as the
    host-clock one. Each step's CUDA-event time lies inside its host-clock bracket, so over
    the same steps the device median can never exceed the host median; a device median that
    counts the warm-up steps (cuBLAS handle creation, lazy kernel loading in the first step of
    a fresh process) does."""
    path, name, result_json = argv[:3]
    try:
        with open(result_json) as f:
            m = json.load(f).get("metrics", {})
        dev, host = float(m["tpot_device_ms_median"]), float(m["tpot_ms_median"])
    except (OSError, ValueError, KeyError) as e:
        record(path, name, "fail", f"no tpot_device_ms_median/tpot_ms_median: {e!r}")
        return
    ok = dev <= host * 1.02 + 0.01
    record(path, name, "pass" if ok else "fail",
           "device median within the host median" if ok else
           "tpot_device_ms_median exceeds tpot_ms_median: the device figure counts warm-up steps",
           {"tpot_device_ms_median": dev, "tpot_ms_median": host})


def expected_outcomes(trial):
    c = trial.get("config", {})
    window = c.get("window")
    if isinstance(window, int) and window >= 1 << 30:
        return ["oom"]
    if c.get("quant") == "int8wo-unscaled":
        return ["ok", "nan"]
    return ["ok"]


def cmd_sweep(argv):
    path, ejson = argv[:2]
    try:
        with open(ejson) as f:
            trials = json.load(f)
    except (OSError, ValueError) as e:
        record(path, "sweep:export", "fail", f"cannot read orch export: {e}")
        return
    if not trials:
        record(path, "sweep:export", "fail", "the sweep holds no trials")
        return
    for t in trials:
        c = t.get("config", {})
        label = " ".join(f"{k}={c[k]}" for k in ("quant", "dtype", "window", "compile", "mode") if k in c)
        want = expected_outcomes(t)
        got = t.get("outcome")
        m = t.get("metrics") or {}
        nums = {k: m[k] for k in ("ppl", "tpot_ms_median", "tpot_device_ms_median",
                                  "peak_alloc_bytes") if k in m}
        record(path, f"sweep:{t.get('study')}:{label}", "pass" if got in want else "fail",
               f"outcome {got} (expected {'/'.join(want)}) {t.get('reason') or ''}".strip()[:500], nums)


def load_checks(path):
    out = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    out.append(json.loads(line))
    return out


def cmd_summarize(argv):
    path, outdir, meta_json = argv[:3]
    checks = load_checks(path)
    meta = {}
    if os.path.exists(meta_json):
        with open(meta_json) as f:
            meta = json.load(f)
    counts = {s: sum(1 for c in checks if c["status"] == s) for s in STATUSES}
    bad = [c for c in checks if c["status"] in ("fail", "skipped")]
    green = bool(checks) and not bad
    summary = {"green": green, "counts": counts, "meta": meta, "checks": checks}
    with open(os.path.join(outdir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1, sort_keys=True)
        f.write("\n")
    lines = ["# GPU check summary", ""]
    verdict = "GREEN: every check passed" if green else (
        "NOT GREEN: no check ran" if not checks else
        f"NOT GREEN: {counts['fail']} failed, {counts['skipped']} skipped (a skip is a failure here)")
    lines += [f"**{verdict}**", ""]
    for k in sorted(meta):
        lines.append(f"- {k}: {meta[k]}")
    lines += ["", "| check | status | detail | numbers |", "| --- | --- | --- | --- |"]
    for c in checks:
        nums = ", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}"
                         for k, v in sorted(c["numbers"].items()))
        detail = c["detail"].replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {c['name']} | {c['status']} | {detail} | {nums} |")
    with open(os.path.join(outdir, "summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(verdict)
    return 0 if green else 1


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, argv = sys.argv[1], sys.argv[2:]
    if cmd == "record":
        cmd_record(argv)
    elif cmd == "gtest":
        cmd_gtest(argv)
    elif cmd == "trial":
        cmd_trial(argv)
    elif cmd == "sweep":
        cmd_sweep(argv)
    elif cmd == "device-le-host":
        cmd_device_le_host(argv)
    elif cmd == "summarize":
        return cmd_summarize(argv)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
