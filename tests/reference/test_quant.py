"""Every `quant` value either runs through TorchAO's public config or is `blocked` with
the reason; the config versions the installed TorchAO accepts are recorded."""

import unittest

import ref_util as u

u.require_stack()

QUANTS = ("none", "int8wo", "int8wo-dequant", "int8wo-unscaled", "int8da", "int4wo-g32",
          "int4wo-g64", "int4wo-g128", "int4wo-g256")


class Quant(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import tempfile
        cls._tmp = tempfile.TemporaryDirectory(prefix="orch-ref-quant-")
        cls.results = {}
        for q in QUANTS:
            trial = u.make_trial(cls._tmp.name, q, quant=q, window=8)
            rc, cls.results[q] = u.run_in_process(trial)
            assert rc == 0

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def test_each_value_runs_or_is_blocked_with_a_reason(self):
        for q, r in self.results.items():
            with self.subTest(quant=q):
                self.assertIn(r["outcome"], ("ok", "blocked"), r.get("reason"))
                if r["outcome"] == "blocked":
                    self.assertIn(q, r["reason"])
                    self.assertGreater(len(r["reason"]), len(q) + 10)

    def test_int8_configs_run_and_stay_close_to_fp32(self):
        base = self.results["none"]["metrics"]["ppl"]
        for q, cls in (("int8wo", "Int8WeightOnlyConfig"),
                       ("int8da", "Int8DynamicActivationInt8WeightConfig")):
            with self.subTest(quant=q):
                r = self.results[q]
                self.assertEqual(r["outcome"], "ok", r.get("reason"))
                d = r["details"]
                self.assertTrue(d["torchao_config"].startswith(cls + "("), d)
                self.assertIn(f"version={d['torchao_default_version']}", d["torchao_config"])
                self.assertIn(str(d["torchao_default_version"]), d["torchao_config_versions"])
                # int8 weights: the model changed, but not beyond a few percent of PPL.
                ppl = r["metrics"]["ppl"]
                self.assertNotEqual(ppl, base)
                self.assertLess(abs(ppl / base - 1), 0.05, (ppl, base))
                self.assertLess(r["metrics"]["weight_bytes"],
                                0.75 * self.results["none"]["metrics"]["weight_bytes"])

    def test_int4_without_its_kernel_is_blocked_with_the_import_error(self):
        for g in (32, 64, 128, 256):
            r = self.results[f"int4wo-g{g}"]
            with self.subTest(group=g):
                if r["outcome"] == "ok":  # a TorchAO with the int4 kernel for this device
                    self.assertIn(f"group_size={g}", r["details"]["torchao_config"])
                    continue
                self.assertIn("Int4WeightOnlyConfig", r["reason"])
                self.assertRegex(r["reason"], r"failed to import: ImportError: |TorchAO refuses")

    def test_orch_worker_only_variants_are_blocked(self):
        for q in ("int8wo-dequant", "int8wo-unscaled"):
            r = self.results[q]
            self.assertEqual(r["outcome"], "blocked")
            self.assertIn("no TorchAO config", r["reason"])

    def test_requested_config_version(self):
        from orch_reference import quant
        import torch
        from torchao.quantization import Int8WeightOnlyConfig
        versions = quant.offered_versions(Int8WeightOnlyConfig, {}, torch.float32,
                                          torch.device("cpu"))
        refused = [v for v, e in versions.items() if e is not None]
        accepted = [v for v, e in versions.items() if e is None]
        self.assertTrue(accepted)
        for v in (accepted[0], refused[0] if refused else None):
            if v is None:
                continue
            trial = u.make_trial(u.tempdir(self), f"v{v}", quant="int8wo", x_torchao_version=str(v))
            rc, r = u.run_in_process(trial)
            with self.subTest(version=v):
                self.assertEqual(r["outcome"], "ok" if v in accepted else "blocked", r.get("reason"))
                self.assertIn(f"version={v}", r["details"]["torchao_config"])

    def test_scope_limits_the_quantized_linears(self):
        from orch_reference import quant
        from transformers import GPTNeoXForCausalLM
        import torch
        for scope, expect in (("attention", ("query_key_value", "dense")),
                              ("mlp", ("dense_h_to_4h", "dense_4h_to_h"))):
            m = GPTNeoXForCausalLM.from_pretrained(u.model_dir(), dtype=torch.float32)
            quant.quantize(m, "int8wo", scope)
            for name, mod in m.named_modules():
                if isinstance(mod, torch.nn.Linear):
                    quantized = type(mod.weight) is not torch.nn.Parameter or \
                        type(mod.weight.data) is not torch.Tensor
                    self.assertEqual(quantized, name.rsplit(".", 1)[-1] in expect and
                                     name.startswith("gpt_neox.layers."), (scope, name))

    def test_quantize_head_adds_the_output_layer(self):
        from transformers import GPTNeoXForCausalLM
        from orch_reference import quant
        import torch
        for head in (False, True):
            m = GPTNeoXForCausalLM.from_pretrained(u.model_dir(), dtype=torch.float32)
            quant.quantize(m, "int8wo", "all", quantize_head=head)
            w = m.lm_head.weight
            quantized = type(w) is not torch.nn.Parameter or type(w.data) is not torch.Tensor
            self.assertEqual(quantized, head)
            self.assertIs(type(m.gpt_neox.embed_in.weight.data), torch.Tensor)


if __name__ == "__main__":
    unittest.main()
