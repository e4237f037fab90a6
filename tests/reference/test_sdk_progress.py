"""orch_protocol against orch itself (issue 17, F8 and F12): a heartbeat means progress,
so a wedged Python worker ends `hung` after heartbeat_timeout (not `timeout`); and the
SDK refuses, with orch's own wording, every result orch would refuse. No torch needed.
ORCH_BIN (the orch under test) is needed for the end-to-end cases."""

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

from orch_protocol import Events, Heartbeat, Result, run_worker, validate, write_result

PYTHON_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python")
ORCH_BIN = os.environ.get("ORCH_BIN", "")


def beats(path):
    with open(path) as f:
        return [e for e in map(json.loads, f) if e["event"] == "heartbeat"]


class HeartbeatMeansProgress(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self._tmp.cleanup)
        self.path = os.path.join(self._tmp.name, "events.jsonl")
        self.ev = Events(self.path)
        self.addCleanup(self.ev.close)

    def test_no_progress_no_heartbeat(self):
        with Heartbeat(self.ev, interval=0.02):
            time.sleep(0.3)  # wedged: nothing reports progress
        self.assertEqual(beats(self.path), [])

    def test_progress_is_forwarded_at_most_once_per_interval(self):
        with Heartbeat(self.ev, interval=0.05) as hb:
            for token in range(1, 401):
                hb.progress(token, 400)
                time.sleep(0.001)
            time.sleep(0.3)  # then stuck: no more beats
        got = beats(self.path)
        self.assertGreaterEqual(len(got), 2)
        self.assertLess(len(got), 100)  # never one event per token
        self.assertEqual(got[-1]["token"], 400)
        tokens = [b["token"] for b in got]
        self.assertEqual(tokens, sorted(set(tokens)))  # the last beat is not repeated

    def test_busy_beats_for_its_limit_only(self):
        with Heartbeat(self.ev, interval=0.02) as hb:
            with hb.busy(0.2):
                time.sleep(1.6)  # a long call that wedges past its allowance
        got = beats(self.path)
        self.assertGreater(len(got), 2)
        # Beats stop at the 0.2 s allowance; a beat that was due before it may be written
        # late on a loaded machine, so the bound leaves 0.6 s for that, and a heartbeat that
        # ignored the allowance would still beat for the whole 1.6 s.
        self.assertLess(got[-1]["t"] - got[0]["t"], 0.8)


def sample(**kw):
    s = {"repeat": 0, "warmup": 0, "latency_ms": [1.0, 1.2], "nll": [1.0, float("nan")]}
    s.update(kw)
    return s


class ResultsAsOrchReadsThem(unittest.TestCase):
    REFUSED = [
        ({"samples": [sample(), sample()]}, "repeat 0 is given twice"),
        ({"samples": [sample(repeat=True)]}, r"samples\[0\].repeat is true/false"),
        ({"samples": [sample(repeat=2 ** 31)]}, r"samples\[0\].repeat is a number, not an integer"),
        ({"samples": [sample(repeat=1.5)]}, r"samples\[0\].repeat"),
        ({"samples": [sample(warmup="8")]}, r"samples\[0\].warmup is a string"),
        ({"samples": [sample(latency_ms=[1.0, True])]}, r"samples\[0\].latency_ms\[1\] is true/false"),
        ({"samples": [sample(nll="x")]}, r"samples\[0\].nll is a string"),
        ({"samples": ["x"]}, r"samples\[0\] is a string, not an object"),
        ({"samples": {}}, "samples is an object, not a list"),
        ({"metrics": {"ppl": True}}, "metric ppl is true/false"),
        ({"details": []}, "details is a list, not an object"),
        ({"environment": "cpu"}, "environment is a string, not an object"),
        ({"warnings": [1]}, r"warnings\[0\] is a number, not a string"),
        ({"reason": 3}, "reason is a number, not a string"),
    ]

    def test_refused_like_orch(self):
        for extra, why in self.REFUSED:
            with self.subTest(extra=extra):
                with self.assertRaisesRegex(ValueError, why):
                    validate({"protocol": 1, "outcome": "ok", **extra})

    def test_accepted_like_orch(self):
        validate({"protocol": 1, "outcome": "nan", "metrics": {"ppl": float("nan"), "x": None},
                  "samples": [sample(), sample(repeat=1, warmup=2.0)], "warnings": ["w"]})
        self.assertEqual(Result("ok", metrics={"ppl": 2}).to_json()["metrics"], {"ppl": 2.0})

    def test_dicts_are_validated_too(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "result.json")
            with self.assertRaisesRegex(ValueError, "given twice"):
                write_result(path, {"protocol": 1, "outcome": "ok", "samples": [sample(), sample()]})
            self.assertFalse(os.path.exists(path))

    def test_run_worker_records_an_invalid_result_as_an_explained_error(self):
        with tempfile.TemporaryDirectory() as d:
            trial = {"protocol": 1, "trial_key": "k", "attempt": 1, "attempt_dir": d,
                     "events_path": os.path.join(d, "events.jsonl"),
                     "result_path": os.path.join(d, "result.json"), "config": {}, "inputs": {}}
            with open(os.path.join(d, "trial.json"), "w") as f:
                json.dump(trial, f)
            rc = run_worker(lambda t, e: Result("ok", samples=[sample(repeat=True)]),
                            argv=["--trial", os.path.join(d, "trial.json")])
            self.assertEqual(rc, 0)
            with open(trial["result_path"]) as f:
                r = json.load(f)
            self.assertEqual(r["outcome"], "error")
            self.assertIn("invalid result.json: samples[0].repeat is true/false", r["reason"])


@unittest.skipUnless(ORCH_BIN, "ORCH_BIN not set (run through ctest)")
class AgainstOrch(unittest.TestCase):
    def run_sweep(self, worker_body, matrix, timeout=10, heartbeat_timeout=2):
        d = tempfile.mkdtemp(prefix="orch-sdk-")
        worker = os.path.join(d, "w.py")
        with open(worker, "w") as f:
            f.write(f"#!{sys.executable}\nimport os, sys, threading, time\n"
                    f"sys.path.insert(0, {os.path.abspath(PYTHON_DIR)!r})\n"
                    "from orch_protocol import Heartbeat, Result, run_worker\n"
                    + textwrap.dedent(worker_body) + "\nsys.exit(run_worker(run))\n")
        os.chmod(worker, 0o755)
        with open(os.path.join(d, "spec.yaml"), "w") as f:
            f.write(f"name: sdk\nworker: {worker}\ndefaults: {{retries: 0, timeout: {timeout}, "
                    f"heartbeat_timeout: {heartbeat_timeout}}}\nstudies:\n  - id: A\n"
                    f"    matrix: {json.dumps(matrix)}\n")
        t0 = time.monotonic()
        p = subprocess.run([ORCH_BIN, "run", "spec.yaml"], cwd=d, capture_output=True,
                           text=True, timeout=120)
        elapsed = time.monotonic() - t0
        db = sqlite3.connect(os.path.join(d, "results", "orch.db"))
        rows = db.execute("SELECT json_extract(t.config_json, '$.x_kind'), a.outcome, a.reason "
                          "FROM attempts a JOIN trials t ON t.key = a.trial_key").fetchall()
        db.close()
        self.dir = d
        return p, elapsed, rows

    def written_outcomes(self):
        """The outcome in each result.json the workers wrote, by x_kind."""
        out = {}
        runs = os.path.join(self.dir, "results", "runs")
        for key in os.listdir(runs):
            a = os.path.join(runs, key, "attempt-1")
            with open(os.path.join(a, "trial.json")) as f:
                kind = json.load(f)["config"]["x_kind"]
            with open(os.path.join(a, "result.json")) as f:
                out[kind] = json.load(f)["outcome"]
        return out

    def test_a_wedged_worker_ends_hung_not_timeout(self):
        body = """
            def run(trial, events):
                events.phase("decode")
                with Heartbeat(events) as hb:
                    hb.progress(1, 10)
                    threading.Event().wait()  # a deadlock: no progress ever again
                return Result("ok")
            """
        p, elapsed, rows = self.run_sweep(body, {"x_kind": ["wedged"]})
        self.assertEqual([r[1] for r in rows], ["hung"], (rows, p.stdout, p.stderr))
        self.assertLess(elapsed, 9)  # well before the 10 s timeout

    def test_orch_and_the_sdk_agree_on_bad_samples(self):
        body = """
            def run(trial, events):
                s = {"warmup": 0, "latency_ms": [1.0, 1.2], "nll": [1.0, 1.0]}
                kind = trial.config["x_kind"]
                samples = {"dup": [dict(s, repeat=0), dict(s, repeat=0)],
                           "bool": [dict(s, repeat=True)], "good": [dict(s, repeat=0)]}[kind]
                return Result("ok", metrics={"ppl": 2.0}, samples=samples)
            """
        p, _, rows = self.run_sweep(body, {"x_kind": ["dup", "bool", "good"]}, 60, 60)
        got = {k: (o, r) for k, o, r in rows}
        self.assertEqual(got["good"][0], "ok", (rows, p.stderr))
        for kind, why in (("dup", "given twice"), ("bool", "repeat is true/false")):
            self.assertEqual(got[kind][0], "error")
            self.assertIn("invalid result.json: samples[", got[kind][1])
            self.assertIn(why, got[kind][1])
        # The SDK refused them itself: the files say `error`, not an `ok` orch then refused.
        self.assertEqual(self.written_outcomes(), {"dup": "error", "bool": "error", "good": "ok"})


if __name__ == "__main__":
    unittest.main()
