"""orch_protocol, the protocol library for Python workers (no torch needed)."""

import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import unittest

from orch_protocol import (Events, Heartbeat, Result, Trial, TrialError, WorkerFailure,
                           read_token_ids, run_worker, write_result)


def trial_file(d, **extra):
    t = {"protocol": 1, "trial_key": "k", "attempt": 1, "attempt_dir": d,
         "events_path": os.path.join(d, "events.jsonl"),
         "result_path": os.path.join(d, "result.json"), "config": {"tokens": 3}, "inputs": {}}
    t.update(extra)
    path = os.path.join(d, "trial.json")
    with open(path, "w") as f:
        json.dump(t, f)
    return path


def lines(path):
    with open(path) as f:
        return [json.loads(l) for l in f]


class ProtocolLib(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self._tmp.cleanup)
        self.d = self._tmp.name

    def test_trial_load_and_errors(self):
        t = Trial.load(trial_file(self.d))
        self.assertEqual((t.trial_key, t.config["tokens"]), ("k", 3))
        with self.assertRaisesRegex(TrialError, "protocol 2 is not 1"):
            Trial.load(trial_file(self.d, protocol=2))
        with open(os.path.join(self.d, "bad.json"), "w") as f:
            f.write("{")
        with self.assertRaisesRegex(TrialError, "bad.json"):
            Trial.load(os.path.join(self.d, "bad.json"))

    def test_result_is_validated_and_written_atomically(self):
        path = os.path.join(self.d, "result.json")
        write_result(path, Result("nan", reason="x", metrics={"ppl": float("nan")},
                                  samples=[{"repeat": 0, "warmup": 1, "latency_ms": [1.0],
                                            "nll": [2.0]}]))
        self.assertEqual(os.listdir(self.d), ["result.json"])  # no temporary left
        with open(path) as f:
            text = f.read()
        self.assertIn("NaN", text)  # bare NaN: accepted by orch (docs/protocol.md)
        self.assertEqual(json.loads(text)["outcome"], "nan")
        with self.assertRaisesRegex(ValueError, "crash"):
            write_result(path, Result("crash"))
        with self.assertRaisesRegex(ValueError, "repeat"):
            write_result(path, Result("ok", samples=[{"repeat": -1, "warmup": 0}]))
        with self.assertRaisesRegex(ValueError, "metric ppl"):
            write_result(path, Result("ok", metrics={"ppl": "12"}))

    def test_events_and_heartbeat_thread(self):
        path = os.path.join(self.d, "events.jsonl")
        ev = Events(path)
        ev.started()
        with Heartbeat(ev, interval=0.02) as hb:
            for token in range(1, 6):  # a heartbeat means progress (test_sdk_progress.py)
                hb.progress(token, 10)
                time.sleep(0.05)
        ev.warning("w")
        ev.close()
        got = lines(path)
        self.assertEqual(got[0]["event"], "started")
        self.assertEqual(got[0]["pid"], os.getpid())
        beats = [e for e in got if e["event"] == "heartbeat"]
        self.assertGreater(len(beats), 2)
        self.assertEqual((beats[-1]["token"], beats[-1]["total"]), (5, 10))
        self.assertTrue(all(isinstance(e["t"], float) for e in got))
        self.assertEqual(got[-1], {"event": "warning", "message": "w", "t": got[-1]["t"]})

    def test_run_worker_outcomes_and_exit_codes(self):
        path = trial_file(self.d)
        self.assertEqual(run_worker(lambda t, e: Result("ok", metrics={"ppl": 1.5}),
                                    argv=["--trial", path]), 0)
        with open(os.path.join(self.d, "result.json")) as f:
            self.assertEqual(json.load(f)["metrics"], {"ppl": 1.5})

        def blocked(t, e):
            raise WorkerFailure("blocked", "no kernel\nfor this", {"why": 1})
        self.assertEqual(run_worker(blocked, argv=["--trial", path]), 0)
        with open(os.path.join(self.d, "result.json")) as f:
            r = json.load(f)
        self.assertEqual((r["outcome"], r["reason"], r["details"]),
                         ("blocked", "no kernel | for this", {"why": 1}))
        self.assertEqual(lines(os.path.join(self.d, "events.jsonl"))[-1]["event"], "failure")

        def boom(t, e):
            raise KeyError("x")
        self.assertEqual(run_worker(boom, argv=["--trial", path]), 0)
        with open(os.path.join(self.d, "result.json")) as f:
            self.assertEqual(json.load(f)["outcome"], "error")
        self.assertEqual(run_worker(boom, argv=["--trial", os.path.join(self.d, "none.json")]), 2)
        self.assertEqual(run_worker(boom, argv=[]), 2)

    def test_orphaned_worker_dies_on_its_next_event(self):
        # The event pipe's reader is gone (orch died): the next event kills the worker by
        # SIGPIPE, as it would a C worker, instead of computing on.
        code = ("import sys, time\nfrom orch_protocol import run_worker, Result\n"
                "def run(t, e):\n    sys.stdin.close()\n    for i in range(200):\n"
                "        e.heartbeat(i); time.sleep(0.01)\n    return Result('ok')\n"
                "sys.exit(run_worker(run))\n")
        r, w = os.pipe()
        path = trial_file(self.d, events_path=f"/dev/fd/{w}")
        p = subprocess.Popen([sys.executable, "-c", code, "--trial", path], pass_fds=(w,))
        os.close(w)
        os.read(r, 64)  # the started event arrived
        os.close(r)
        self.assertEqual(p.wait(timeout=60), -13)  # SIGPIPE
        self.assertFalse(os.path.exists(os.path.join(self.d, "result.json")))

    def test_token_ids(self):
        path = os.path.join(self.d, "t.ids")
        with open(path, "wb") as f:
            f.write(struct.pack("<3i", 1, 70000, -1))
        self.assertEqual(list(read_token_ids(path)), [1, 70000, -1])
        with open(path, "ab") as f:
            f.write(b"\0")
        with self.assertRaisesRegex(ValueError, "multiple of 4"):
            read_token_ids(path)


if __name__ == "__main__":
    unittest.main()
