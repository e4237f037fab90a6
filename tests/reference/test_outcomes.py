"""Exceptions and injected faults end in the outcome classes of docs/protocol.md, with a
complete result.json (exit 0) and a failure event; bad invocations exit 2."""

import json
import os
import signal
import unittest

import ref_util as u

u.require_stack()

import torch  # noqa: E402

from orch_reference.outcomes import Blocked, classify  # noqa: E402


class Classify(unittest.TestCase):
    def test_mapping(self):
        cases = [
            (torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"), "oom"),
            (MemoryError(), "oom"),
            (RuntimeError("CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling cublasCreate"), "oom"),
            (RuntimeError("CUDA error: an illegal memory access was encountered"), "cuda_error"),
            (RuntimeError("CUBLAS_STATUS_EXECUTION_FAILED when calling cublasGemmEx"), "cuda_error"),
            (ImportError("Requires mslk >= 1.0.0"), "blocked"),
            (NotImplementedError("aten::_weight_int4pack_mm is not implemented"), "blocked"),
            (RuntimeError("\"addmm_impl_cpu_\" not implemented for 'Half'"), "blocked"),
            (Blocked("int4wo-g32: why"), "blocked"),
            (ValueError("bad value"), "error"),
            (RuntimeError("shape mismatch"), "error"),
            (KeyError("x"), "error"),
        ]
        for exc, outcome in cases:
            with self.subTest(exc=repr(exc)):
                got, reason = classify(exc)
                self.assertEqual(got, outcome, reason)
                self.assertTrue(reason)


class Injected(unittest.TestCase):
    def setUp(self):
        self.root = u.tempdir(self)
        self.addCleanup(os.environ.pop, "ORCH_REFERENCE_FAULT", None)

    def run_fault(self, fault, **config):
        trial = u.make_trial(self.root, fault or "plain", **config)
        if fault:
            os.environ["ORCH_REFERENCE_FAULT"] = fault
        rc, r = u.run_in_process(trial)
        os.environ.pop("ORCH_REFERENCE_FAULT", None)
        self.assertEqual(rc, 0)
        ev = u.events(trial)
        self.assertEqual(ev[0]["event"], "started")
        if r["outcome"] != "ok":
            self.assertEqual(ev[-1]["event"], "failure")
            self.assertEqual(ev[-1]["outcome"], r["outcome"])
        return r

    def test_oom_and_cuda_error(self):
        r = self.run_fault("oom")
        self.assertEqual(r["outcome"], "oom")
        self.assertIn("OutOfMemoryError", r["reason"])
        r = self.run_fault("cuda_error")
        self.assertEqual(r["outcome"], "cuda_error")
        self.assertIn("illegal memory access", r["reason"])

    def test_nan_in_decode_names_the_token(self):
        r = self.run_fault("nan_layer=1", window=8)
        self.assertEqual(r["outcome"], "nan")
        self.assertEqual(r["details"]["nan_token"], 0)
        self.assertEqual(r["details"]["nan_repeat"], 0)

    def test_sanity_names_the_first_non_finite_layer(self):
        r = self.run_fault(None, mode="sanity")
        self.assertEqual(r["outcome"], "ok")
        self.assertEqual(r["metrics"]["sanity_logits_finite"], 1.0)
        for layer in (0, 2):
            r = self.run_fault(f"nan_layer={layer}", mode="sanity")
            self.assertEqual(r["outcome"], "nan")
            self.assertEqual(r["details"]["nan_layer"], f"gpt_neox.layers.{layer}")
            self.assertEqual(r["details"]["nan_token"], 0)

    def test_profile_shares_sum_to_one(self):
        r = self.run_fault(None, mode="profile", window=8)
        self.assertEqual(r["outcome"], "ok")
        shares = {k: v for k, v in r["metrics"].items() if k.startswith("profile_share_")}
        self.assertEqual(len(shares), 6)
        self.assertAlmostEqual(sum(shares.values()), 1.0, places=6)
        self.assertGreater(shares["profile_share_attention"], 0)
        self.assertGreater(shares["profile_share_mlp"], 0)

    def test_blocked_before_loading(self):
        r = self.run_fault(None, compile="cuda_graph")
        self.assertEqual(r["outcome"], "blocked")
        self.assertIn("reduce-overhead", r["reason"])
        if not torch.cuda.is_available():
            r = self.run_fault(None, device="cuda")
            self.assertEqual(r["outcome"], "blocked")
            self.assertIn("no CUDA device", r["reason"])

    def test_missing_model_is_an_error(self):
        trial = u.make_trial(self.root, "nomodel")
        with open(trial) as f:
            t = json.load(f)
        t["inputs"]["model"] = os.path.join(self.root, "no-such-model")
        with open(trial, "w") as f:
            json.dump(t, f)
        rc, r = u.run_in_process(trial)
        self.assertEqual((rc, r["outcome"]), (0, "error"))
        self.assertIn("no-such-model", r["reason"])

    def test_full_window_past_max_positions_warns(self):
        r = self.run_fault(None, window="full", tokens=40)  # fixture: max_position_embeddings 32
        self.assertEqual(r["outcome"], "ok")
        self.assertTrue(any("max_position_embeddings=32" in w for w in r["warnings"]))


class Executable(unittest.TestCase):
    """The entry point itself: exit codes, a crash by signal, --build-id."""

    def setUp(self):
        self.root = u.tempdir(self)

    def test_ok_then_crash_then_bad_trial(self):
        trial = u.make_trial(self.root, "ok", window=8, tokens=12)
        rc, r, out = u.run_worker_exe(u.REFERENCE_WORKER, trial)
        self.assertEqual((rc, r["outcome"]), (0, "ok"), out)
        self.assertTrue(r["environment"]["worker_build"].startswith("orch-reference-worker"))
        trial = u.make_trial(self.root, "crash", window=8, tokens=12)
        rc, r, out = u.run_worker_exe(u.REFERENCE_WORKER, trial, {"ORCH_REFERENCE_FAULT": "crash"})
        self.assertEqual(rc, -signal.SIGABRT, out)
        self.assertIsNone(r)
        bad = os.path.join(self.root, "bad.json")
        with open(bad, "w") as f:
            f.write("{not json")
        rc, r, out = u.run_worker_exe(u.REFERENCE_WORKER, bad)
        self.assertEqual(rc, 2, out)
        self.assertIn("bad.json", out)

    def test_build_id_covers_sources_and_versions(self):
        import subprocess
        from orch_reference import build_id
        line = subprocess.run([u.REFERENCE_WORKER, "--build-id"], capture_output=True,
                              text=True, check=True).stdout.strip()
        import torchao
        import transformers
        self.assertIn(f"transformers={transformers.__version__}", line)
        self.assertIn(f"torchao={torchao.__version__}", line)
        self.assertIn(f"src={build_id.source_hash()[:16]}", line)
        files = [os.path.relpath(p, u.SOURCE) for p in build_id.source_files()]
        self.assertIn("worker/reference/orch_reference/streaming.py", files)
        self.assertIn("python/orch_protocol/events.py", files)
        self.assertIn("worker/reference/orch-reference-worker", files)


if __name__ == "__main__":
    unittest.main()
