"""One trial: validate (answer `blocked` before loading where possible), load the model
with transformers, quantize with TorchAO, optionally torch.compile, run the mode."""

import os
import time

import torch

from orch_protocol import Heartbeat, Result, WorkerFailure, read_token_ids
from orch_reference import decode_loop, device as dev, modes, quant, streaming
from orch_reference.build_id import build_id, package_version
from orch_reference.outcomes import Blocked

_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def _environment(device, threads):
    env = {"torch": torch.__version__, "transformers": package_version("transformers"),
           "torchao": package_version("torchao"), "device_name": dev.device_name(device),
           "threads": threads, "worker_build": build_id()}
    if torch.version.cuda:
        env["cuda_runtime"] = torch.version.cuda
    return env


def _fault_injector(model):
    """ORCH_REFERENCE_FAULT (tests only; no effect unless set): `oom` and `cuda_error`
    raise what torch raises for them at decode step 1; `nan_layer=N` poisons layer N's
    MLP output weights with NaN (a real non-finite forward); `crash` aborts the process."""
    fault = os.environ.get("ORCH_REFERENCE_FAULT", "")
    if fault.startswith("nan_layer="):
        w = model.gpt_neox.layers[int(fault.split("=", 1)[1])].mlp.dense_4h_to_h.weight
        with torch.no_grad():
            w.fill_(float("nan"))
        return None

    def inject(step):
        if step != 1:
            return
        if fault == "oom":
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB "
                                         "(injected by ORCH_REFERENCE_FAULT)")
        if fault == "cuda_error":
            raise RuntimeError("CUDA error: an illegal memory access was encountered "
                               "(injected by ORCH_REFERENCE_FAULT)")
        if fault == "crash":
            os.abort()
    return inject if fault in ("oom", "cuda_error", "crash") else None


def _validate(cfg):
    if cfg["compile"] == "cuda_graph":
        if not str(cfg["device"]).startswith("cuda"):
            raise Blocked("compile: cuda_graph is torch.compile(mode=\"reduce-overhead\"), which "
                          f"captures CUDA graphs; device is {cfg['device']}")
        if cfg["mode"] != "eval":
            raise Blocked(f"compile: cuda_graph runs only in mode eval, not {cfg['mode']}")
    if cfg["dtype"] not in _DTYPES:
        raise WorkerFailure("error", f"unknown dtype {cfg['dtype']!r}")
    if cfg["mode"] not in ("eval", "sanity", "profile"):
        raise WorkerFailure("error", f"unknown mode {cfg['mode']!r}")
    if cfg["window"] != "full" and (not isinstance(cfg["window"], int) or cfg["window"] < 1):
        raise WorkerFailure("error", f"window must be a positive integer or full, not {cfg['window']!r}")


# The longest single call (loading weights, quantizing, the sanity forward, the first
# compiled step) the heartbeat covers without progress (orch_protocol.Heartbeat.busy): a
# call wedged for longer stops the heartbeats and orch's heartbeat_timeout ends it `hung`.
_BUSY_S = 600


def run_trial(trial, events):
    cfg = {"quant": "none", "scope": "all", "window": "full", "n_sink": 4, "dtype": "fp32",
           "compile": "eager", "mode": "eval", "tokens": 512, "warmup": 8, "repeats": 1,
           "seed": 0, "device": "cpu", **trial.config}
    threads = dev.set_threads()
    torch.manual_seed(int(cfg["seed"]))
    _validate(cfg)
    device = dev.parse_device(str(cfg["device"]))
    environment = _environment(device, threads)
    warnings = []
    with Heartbeat(events) as hb:
        if not trial.inputs.get("model"):
            raise WorkerFailure("error", "trial.json has no inputs.model (the spec names no model)")
        if not trial.inputs.get("token_ids"):
            raise WorkerFailure("error", "trial.json has no inputs.token_ids (the spec names no dataset)")
        if not os.path.isdir(trial.inputs["model"]):
            raise WorkerFailure("error", f"model {trial.inputs['model']} is not a directory "
                                "(orch resolves hub ids to local snapshots; nothing is downloaded)")
        ids = read_token_ids(trial.inputs["token_ids"])
        if len(ids) < 2:
            raise WorkerFailure("error", f"{trial.inputs['token_ids']}: {len(ids)} token(s), need 2")
        if cfg["tokens"] > len(ids):
            raise WorkerFailure("error", f"tokens={cfg['tokens']} but the dataset has only "
                                f"{len(ids)} tokens")

        events.phase("load_model")
        t0 = time.perf_counter()
        with hb.busy(_BUSY_S):  # one long call: beats for it, for at most _BUSY_S
            from transformers import GPTNeoXForCausalLM
            from transformers.utils import logging as hf_logging
            hf_logging.set_verbosity_error()
            hf_logging.disable_progress_bar()
            model = GPTNeoXForCausalLM.from_pretrained(trial.inputs["model"], dtype=_DTYPES[cfg["dtype"]])
            model = model.to(device).eval()
        load_s = time.perf_counter() - t0
        max_pos = model.config.max_position_embeddings
        if cfg["window"] == "full" and cfg["tokens"] > max_pos and cfg["mode"] != "sanity":
            w = (f"window=full with tokens={cfg['tokens']} > max_position_embeddings={max_pos}: "
                 "positions beyond the trained range")
            warnings.append(w)
            events.warning(w)

        events.phase("quantize")
        t0 = time.perf_counter()
        with hb.busy(_BUSY_S):
            details = quant.quantize(model, cfg["quant"], cfg["scope"], cfg.get("x_torchao_version"),
                                     cfg.get("quantize_head") in (True, "true"))
        quantize_s = time.perf_counter() - t0
        dev.sync(device)
        dev.reset_peaks(device)
        fault = _fault_injector(model)

        if cfg["window"] != "full" and cfg["mode"] != "sanity":
            streaming.enable_pos_shift(model)
        if cfg["compile"] == "cuda_graph":
            model = torch.compile(model, mode="reduce-overhead")
            details["compile"] = 'torch.compile(mode="reduce-overhead")'

        metrics = {"load_s": load_s, "quantize_s": quantize_s,
                   "weight_bytes": quant.weight_bytes(model)}
        outcome, reason, samples = "ok", "", []
        if cfg["mode"] == "sanity":
            events.phase("sanity")
            with hb.busy(_BUSY_S):
                outcome, m, d = modes.sanity(model, ids, cfg, device)
            metrics.update(m)
            details.update(d)
            if outcome != "ok":
                reason = f"non-finite {'logits' if not m['sanity_logits_finite'] else 'loss'}" + \
                    (f", first at {d['nan_layer']}" if "nan_layer" in d else "")
        else:
            events.phase("decode")
            profiler = modes.ProfileHooks(model, device, cfg["warmup"]) if cfg["mode"] == "profile" else None
            try:
                samples, m = decode_loop.run(model, ids, cfg, device, hb, profiler, fault)
                metrics.update(m)
            except decode_loop.NonFinite as e:
                outcome, reason, samples = "nan", str(e), e.samples
                details.update({"nan_token": e.token, "nan_repeat": e.repeat})
                metrics.update({"ppl": float("nan"), "tokens_evaluated": cfg["tokens"] - 1})
            finally:
                if profiler:
                    metrics.update(profiler.metrics())
                    profiler.remove()
        metrics.update(dev.peak_memory(device))
    return Result(outcome, reason=reason, metrics=metrics, samples=samples, details=details,
                  warnings=warnings, environment=environment)
