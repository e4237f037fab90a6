"""Two independent implementations agree: the reference worker (transformers' GPT-NeoX,
StreamingLLM pos-shift from worker/reference) and orch-worker (LibTorch C++) give the same
fp32 perplexity, within 1e-4 relative, on the fixture models, with the full cache and with
a StreamingLLM cache whose window is shorter than the text."""

import math
import unittest

import ref_util as u

u.require_stack()


class TwoStacks(unittest.TestCase):
    def setUp(self):
        u.require_orch_worker()
        self.root = u.tempdir(self)

    def both(self, name, **config):
        ref_trial = u.make_trial(self.root, f"{name}-ref", **config)
        orch_trial = u.make_trial(self.root, f"{name}-orch", **config)
        rc, ref = u.run_in_process(ref_trial)
        self.assertEqual(rc, 0)
        rc, orch, out = u.run_worker_exe(u.ORCH_WORKER, orch_trial)
        self.assertEqual(rc, 0, out)
        self.assertEqual(ref["outcome"], "ok", ref.get("reason"))
        self.assertEqual(orch["outcome"], "ok", orch.get("reason"))
        return ref, orch

    def assert_agree(self, ref, orch):
        p_ref, p_orch = ref["metrics"]["ppl"], orch["metrics"]["ppl"]
        self.assertLess(abs(p_ref - p_orch) / p_orch, 1e-4, (p_ref, p_orch))
        n_ref, n_orch = ref["samples"][0]["nll"], orch["samples"][0]["nll"]
        self.assertEqual(len(n_ref), len(n_orch))
        worst = max(abs(a - b) for a, b in zip(n_ref, n_orch))
        self.assertLess(worst, 1e-4, f"per-token NLL differs by {worst}")
        self.assertEqual(ref["metrics"]["tokens_evaluated"], orch["metrics"]["tokens_evaluated"])

    def test_full_cache_agrees(self):
        for model in ("tiny-parallel", "tiny-sequential"):
            with self.subTest(model=model):
                ref, orch = self.both(f"full-{model}", model=model, window="full")
                self.assert_agree(ref, orch)

    def test_streaming_cache_agrees_and_eviction_matters(self):
        # 40 tokens, 4 sinks + window 8: most steps evict, positions shift in the cache.
        for model in ("tiny-parallel", "tiny-sequential"):
            for n_sink in (4, 0):
                with self.subTest(model=model, n_sink=n_sink):
                    ref, orch = self.both(f"stream-{model}-{n_sink}", model=model, window=8,
                                          n_sink=n_sink)
                    self.assert_agree(ref, orch)
                    full, _ = self.both(f"full-{model}-{n_sink}", model=model, window="full")
                    ratio = ref["metrics"]["ppl"] / full["metrics"]["ppl"]
                    # Not vacuous: eviction changes the perplexity far beyond the tolerance.
                    self.assertGreater(abs(math.log(ratio)), 1e-3)

    def test_sanity_mode_agrees(self):
        ref, orch = self.both("sanity", mode="sanity")
        for k in ("nll_mean", "tokens_evaluated", "sanity_logits_finite", "sanity_loss_finite"):
            self.assertAlmostEqual(ref["metrics"][k], orch["metrics"][k], delta=1e-4, msg=k)

    def test_same_latency_protocol(self):
        ref, orch = self.both("latency", window=8, warmup=3, repeats=2)
        for r in (ref, orch):
            self.assertEqual([s["repeat"] for s in r["samples"]], [0, 1])
            self.assertEqual([s["warmup"] for s in r["samples"]], [3, 3])
            self.assertEqual(len(r["samples"][1]["latency_ms"]), 39)
            for k in ("tpot_ms_median", "tpot_ms_p10", "tpot_ms_p90", "peak_rss_bytes",
                      "weight_bytes"):
                self.assertGreater(r["metrics"][k], 0, k)
        self.assertEqual(ref["metrics"]["weight_bytes"], orch["metrics"]["weight_bytes"])


if __name__ == "__main__":
    unittest.main()
