"""Shared helpers of the reference-worker tests: trial directories, running a worker,
and the loud failure when the stack is missing (CI installs it; a skip would hide it)."""

import json
import os
import subprocess
import tempfile

SOURCE = os.environ.get("ORCH_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
FIXTURES = os.environ.get("ORCH_TEST_FIXTURES", os.path.join(SOURCE, "tests/fixtures"))
REFERENCE_WORKER = os.path.join(SOURCE, "worker/reference/orch-reference-worker")
ORCH_WORKER = os.environ.get("ORCH_TEST_ORCH_WORKER", "")
ORCH_BIN = os.environ.get("ORCH_BIN", "")

BASE_CONFIG = {"quant": "none", "scope": "all", "window": "full", "n_sink": 4, "dtype": "fp32",
               "compile": "eager", "mode": "eval", "tokens": 40, "warmup": 2, "repeats": 1,
               "seed": 0, "device": "cpu", "worker": "reference"}


def require_stack():
    """Fails (not skips) with what to run when transformers or TorchAO is missing."""
    missing = []
    for mod in ("torch", "transformers", "torchao"):
        try:
            __import__(mod)
        except ImportError as e:
            missing.append(f"{mod} ({e})")
    if missing:
        raise AssertionError(
            "the reference-worker tests need " + ", ".join(missing) + " in the Python "
            f"running them ({os.sys.executable}); install the pinned versions with "
            "scripts/install-deps.sh")


def require_orch_worker():
    if not ORCH_WORKER or not os.access(ORCH_WORKER, os.X_OK):
        raise AssertionError(
            f"orch-worker not found ({ORCH_WORKER!r}): build it (ORCH_BUILD_WORKER=ON) or "
            "configure -DORCH_REFERENCE_TEST_ORCH_WORKER=/path/to/orch-worker")


def model_dir(name="tiny-parallel"):
    return os.path.join(FIXTURES, "model", name)


def make_trial(root, name, model="tiny-parallel", **config):
    d = os.path.join(root, name)
    os.makedirs(d, exist_ok=True)
    cfg = dict(BASE_CONFIG, **config)
    m = model_dir(model)
    trial = {"protocol": 1, "trial_key": name, "attempt": 1, "attempt_dir": d,
             "events_path": os.path.join(d, "events.jsonl"),
             "result_path": os.path.join(d, "result.json"), "config": cfg,
             "inputs": {"model": m, "token_ids": os.path.join(m, "tokens.ids")}}
    path = os.path.join(d, "trial.json")
    with open(path, "w") as f:
        json.dump(trial, f)
    return path


def run_worker_exe(exe, trial_path, env=None, timeout=600):
    """Runs a worker executable; returns (exit code, result dict or None, output)."""
    e = dict(os.environ, **(env or {}))
    p = subprocess.run([exe, "--trial", trial_path], env=e, capture_output=True, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    result_path = os.path.join(os.path.dirname(trial_path), "result.json")
    result = None
    if os.path.exists(result_path):
        with open(result_path) as f:
            result = json.load(f)
    return p.returncode, result, p.stdout + p.stderr


def run_in_process(trial_path):
    """Runs the reference worker in this process (no Python start-up per trial)."""
    from orch_protocol import run_worker
    from orch_reference.outcomes import classify
    from orch_reference.trial_runner import run_trial
    rc = run_worker(run_trial, argv=["--trial", trial_path], classify=classify)
    with open(os.path.join(os.path.dirname(trial_path), "result.json")) as f:
        return rc, json.load(f)


def events(trial_path):
    with open(os.path.join(os.path.dirname(trial_path), "events.jsonl")) as f:
        return [json.loads(l) for l in f if l.strip()]


def tempdir(test):
    d = tempfile.TemporaryDirectory(prefix="orch-ref-")
    test.addCleanup(d.cleanup)
    return d.name
