"""One sweep, two stacks: a spec with a `worker` axis runs orch-worker and the reference
worker through `orch run`, keeps them apart in the trial key, and rejects unknown worker
names with file:line:col. A worker declared under `workers:` (the orch_protocol example
of docs/protocol.md) runs too."""

import json
import os
import subprocess
import unittest

import ref_util as u

u.require_stack()

SPEC = """\
name: two-stacks
model: {model}
dataset: {model}/tokens.ids
worker: {orch_worker}
defaults: {{tokens: 24, warmup: 2, dtype: fp32, device: cpu, n_sink: 4}}
studies:
  - id: stacks
    matrix:
      worker: [orch, reference]
      window: [full, 8]
"""


def orch(*args, check=True):
    p = subprocess.run([u.ORCH_BIN, *args], capture_output=True, text=True, timeout=900,
                       stdin=subprocess.DEVNULL)
    if check and p.returncode != 0:
        raise AssertionError(f"orch {' '.join(args)} exited {p.returncode}:\n{p.stdout}{p.stderr}")
    return p


class Sweep(unittest.TestCase):
    def setUp(self):
        u.require_orch_worker()
        self.root = u.tempdir(self)

    def write(self, name, text):
        path = os.path.join(self.root, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_both_stacks_run_in_one_sweep_and_agree(self):
        spec = self.write("spec.yaml", SPEC.format(model=u.model_dir(), orch_worker=u.ORCH_WORKER))
        plan = json.loads(orch("plan", spec, "--json").stdout)
        keys = {(t["config"]["worker"], t["config"]["window"]): t["key"] for t in plan["trials"]}
        self.assertEqual(len(set(keys.values())), 4)
        db = os.path.join(self.root, "results", "orch.db")
        orch("run", spec, "--db", db)
        rows = json.loads(orch("export", "--db", db, "--format", "json").stdout)
        rows = rows["trials"] if isinstance(rows, dict) else rows
        by = {}
        for r in rows:
            cfg = r["config"] if isinstance(r["config"], dict) else json.loads(r["config"])
            by[(cfg["worker"], cfg["window"])] = r
        self.assertEqual(set(by), set(keys))
        for (worker, window), r in by.items():
            self.assertEqual(r["outcome"], "ok", r)
            self.assertEqual(r["key"] if "key" in r else r.get("trial_key"), keys[(worker, window)])
        for window in ("full", 8):
            p_orch = by[("orch", window)]["metrics"]["ppl"]
            p_ref = by[("reference", window)]["metrics"]["ppl"]
            self.assertLess(abs(p_orch - p_ref) / p_orch, 1e-4, (window, p_orch, p_ref))
        # Each cell ran its own worker command: the worker's build line is in its result.
        runs = os.path.join(self.root, "results", "runs")
        builds = {}
        for key in os.listdir(runs):
            with open(os.path.join(runs, key, "attempt-1", "result.json")) as f:
                builds[key] = json.load(f)["environment"]["worker_build"].split()[0]
        for (worker, _), key in keys.items():
            self.assertEqual(builds[key], {"orch": "orch-worker",
                                           "reference": "orch-reference-worker"}[worker])

    def test_keys_of_the_default_worker_are_unchanged_and_stacks_differ(self):
        plain = self.write("plain.yaml", SPEC.replace("      worker: [orch, reference]\n", "")
                           .format(model=u.model_dir(), orch_worker=u.ORCH_WORKER))
        axis = self.write("axis.yaml", SPEC.format(model=u.model_dir(), orch_worker=u.ORCH_WORKER))
        p = json.loads(orch("plan", plain, "--json").stdout)
        a = json.loads(orch("plan", axis, "--json").stdout)
        plain_keys = {t["config"]["window"]: t["key"] for t in p["trials"]}
        for t in a["trials"]:
            if t["config"]["worker"] == "orch":
                self.assertEqual(t["key"], plain_keys[t["config"]["window"]])
            else:
                self.assertNotIn(t["key"], plain_keys.values())

    def test_unknown_worker_names_point_at_file_line_column(self):
        spec = self.write("bad.yaml", SPEC.replace("[orch, reference]", "[orch, refrence]")
                          .format(model=u.model_dir(), orch_worker=u.ORCH_WORKER))
        p = orch("plan", spec, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(f"{spec}:9:22: studies[0].matrix.worker: unknown worker 'refrence' "
                      "(known: orch, reference", p.stderr)
        spec = self.write("bad2.yaml", SPEC.format(model=u.model_dir(), orch_worker=u.ORCH_WORKER)
                          + "workers:\n  orch: /bin/true\n")
        p = orch("plan", spec, check=False)
        self.assertIn(f"{spec}:12:3: workers.orch: 'orch' is built in", p.stderr)
        spec = self.write("bad3.yaml", SPEC.format(model=u.model_dir(), orch_worker=u.ORCH_WORKER)
                          + "workers:\n  mine: {command: /bin/true, build_id: sometimes}\n")
        p = orch("plan", spec, check=False)
        self.assertIn(f"{spec}:12:40: workers.mine.build_id: must be `file`", p.stderr)

    def test_a_probed_worker_gets_its_build_id_into_the_key(self):
        # The same executable, two probe answers: two keys (the file hash alone would not move).
        probe = self.write("probe.sh", "#!/bin/sh\necho \"mine $(cat $(dirname $0)/version)\"\n")
        os.chmod(probe, 0o755)
        spec = self.write("probe.yaml", SPEC.format(model=u.model_dir(), orch_worker=u.ORCH_WORKER)
                          .replace("[orch, reference]", "[mine]")
                          + "workers:\n  mine: {command: probe.sh, build_id: probe}\n")
        keys = []
        for version in ("1", "2"):
            self.write("version", version)
            plan = json.loads(orch("plan", spec, "--json").stdout)
            keys.append(sorted(t["key"] for t in plan["trials"]))
        self.assertNotEqual(keys[0], keys[1])
        os.remove(os.path.join(self.root, "version"))
        self.write("probe.sh", "#!/bin/sh\nexit 3\n")
        p = orch("plan", spec, check=False)
        self.assertIn("probe.sh --build-id failed", p.stderr)

    def test_a_declared_python_worker_runs(self):
        # The example of docs/protocol.md, verbatim from the docs.
        with open(os.path.join(u.SOURCE, "docs", "protocol.md")) as f:
            doc = f.read()
        start = doc.index("```python\n#!/usr/bin/env python3\n# my_worker.py") + len("```python\n")
        code = doc[start:doc.index("```", start)]
        import sys
        worker = self.write("my_worker.py", code.replace("#!/usr/bin/env python3",
                                                         "#!" + sys.executable, 1))
        os.chmod(worker, 0o755)
        spec = self.write("mine.yaml", SPEC.format(model=u.model_dir(), orch_worker=u.ORCH_WORKER)
                          .replace("[orch, reference]", "[orch, mine]")
                          + "workers:\n  mine: my_worker.py\n")
        db = os.path.join(self.root, "r2", "orch.db")
        env_pp = os.environ.get("PYTHONPATH", "")
        self.assertIn("python", env_pp)  # orch_protocol importable by the worker
        orch("run", spec, "--db", db)
        rows = json.loads(orch("export", "--db", db, "--format", "json").stdout)
        rows = rows["trials"] if isinstance(rows, dict) else rows
        mine = [r for r in rows if (r["config"] if isinstance(r["config"], dict)
                                    else json.loads(r["config"]))["worker"] == "mine"]
        self.assertEqual(len(mine), 2)
        for r in mine:
            self.assertEqual(r["outcome"], "ok", r)
            self.assertEqual(r["metrics"]["tokens_seen"], 24)


if __name__ == "__main__":
    unittest.main()
