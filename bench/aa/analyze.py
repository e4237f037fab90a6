#!/usr/bin/env python3
"""Analysis of an A/A database from bench/aa/run.sh (issue 22), read-only unless asked.

  analyze.py position DB      the position effect: each ok worker process's median TPOT
                              against its cell's geometric mean, by its position within
                              its round (claim order: attempts are claimed one at a time
                              with -j 1, so attempt id order is claim order); meant
                              for random-order sweeps: under `order: interleaved` a
                              position is always the same cell, and centring on the
                              cell cancels it
  analyze.py subset DB OUT K  copies DB to OUT keeping replicates 1..K of every trial (the
                              first K rounds: what a `repeats: K` sweep would have
                              measured), so `orch report` can score them

A bench tool: it reads the store's tables directly (the orch binaries never do outside
store/), with Python's standard library only.
"""
import math
import shutil
import sqlite3
import statistics
import sys


def process_medians(con):
    rows = con.execute(
        "SELECT a.id, a.trial_key, a.replicate FROM attempts a "
        "WHERE a.outcome = 'ok' ORDER BY a.id").fetchall()
    out = []
    for attempt_id, key, replicate in rows:
        lat = [r[0] for r in con.execute(
            "SELECT latency_ms FROM samples WHERE attempt_id = ? AND warmup = 0 "
            "AND latency_ms IS NOT NULL", (attempt_id,))]
        if lat:
            out.append((attempt_id, key, replicate, statistics.median(lat)))
    return out


def position(db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    procs = process_medians(con)
    by_cell = {}
    for _, key, _, med in procs:
        by_cell.setdefault(key, []).append(math.log(med))
    centre = {k: statistics.fmean(v) for k, v in by_cell.items()}
    by_round = {}
    for attempt_id, key, replicate, med in procs:
        by_round.setdefault(replicate, []).append((attempt_id, key, med))
    first, second, third, rest, last, after_first = [], [], [], [], [], []
    for rnd in by_round.values():
        rnd.sort()
        for pos, (_, key, med) in enumerate(rnd):
            dev = math.log(med) - centre[key]
            ([first, second, third][pos] if pos < 3 else rest).append(dev)
            if pos > 0:
                after_first.append(dev)
            if pos == len(rnd) - 1:
                last.append(dev)

    def describe(name, xs):
        if len(xs) < 2:
            return f"{name}: n={len(xs)}"
        m, s = statistics.fmean(xs), statistics.stdev(xs)
        return (f"{name}: n={len(xs)}, mean log deviation {m:+.4f} "
                f"(x{math.exp(m):.3f}, se {s / math.sqrt(len(xs)):.4f})")

    print(f"{len(procs)} ok worker processes in {len(by_cell)} cells, {len(by_round)} rounds")
    print(describe("position 1 in its round", first))
    print(describe("position 2", second))
    print(describe("position 3", third))
    print(describe("positions 4 and later", rest))
    print(describe("last in its round", last))
    if len(first) > 1 and len(after_first) > 1:
        d = statistics.fmean(first) - statistics.fmean(after_first)
        se = math.sqrt(statistics.variance(first) / len(first) +
                       statistics.variance(after_first) / len(after_first))
        print(f"position 1 vs others: {d:+.4f} in log (x{math.exp(d):.3f}), "
              f"95% CI x[{math.exp(d - 1.96 * se):.3f}, {math.exp(d + 1.96 * se):.3f}]")
    sds = [statistics.stdev(v) for v in by_cell.values() if len(v) > 1]
    if sds:
        print(f"between-process sd of log median within a cell: median "
              f"{statistics.median(sds):.3f} over {len(sds)} cells")


def subset(db, out, k):
    shutil.copyfile(db, out)
    con = sqlite3.connect(out)
    drop = "SELECT id FROM attempts WHERE replicate > ?"
    con.execute(f"DELETE FROM samples WHERE attempt_id IN ({drop})", (k,))
    con.execute(f"DELETE FROM metrics WHERE attempt_id IN ({drop})", (k,))
    con.execute("DELETE FROM attempts WHERE replicate > ?", (k,))
    con.execute(
        "UPDATE trials SET replicates = ?, "
        "final_attempt_id = (SELECT MAX(id) FROM attempts a WHERE a.trial_key = trials.key)",
        (k,))
    con.commit()
    con.close()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "position":
        position(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "subset":
        subset(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(__doc__)
