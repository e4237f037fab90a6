"""The eval loop of docs/worker.md: the first `tokens` ids, `tokens - 1` steps, each
feeding token i (one token at a time, through the cache) and scoring token i+1 from that
step's logits in fp32; PPL = exp(mean NLL) of repeat 0. A step's latency is the host
clock around the synchronized step (forward + cache eviction), NLL excluded; on CUDA also
CUDA events. The first `warmup` steps of every repeat are left out of latency statistics
(not of PPL); `repeats` reruns the loop with a fresh cache."""

import math
import time

import numpy as np
import torch
from transformers import DynamicCache

from orch_reference import streaming
from orch_reference.device import sync


class NonFinite(Exception):
    def __init__(self, repeat, token):
        super().__init__(f"non-finite logits at token {token} (repeat {repeat})")
        self.repeat, self.token = repeat, token


def latency_metrics(samples):
    pooled = [x for s in samples for x in s["latency_ms"][s["warmup"]:]]
    if not pooled:
        return {}
    a = np.asarray(pooled, dtype=np.float64)
    return {"tpot_ms_median": float(np.percentile(a, 50)), "tpot_ms_mean": float(a.mean()),
            "tpot_ms_p10": float(np.percentile(a, 10)), "tpot_ms_p90": float(np.percentile(a, 90)),
            "tpot_ms_p99": float(np.percentile(a, 99))}


def run(model, ids, cfg, device, heartbeat, step_hook=None, fault=None):
    """Returns (samples, metrics). Raises NonFinite (samples so far in .samples)."""
    tokens, warmup, repeats = cfg["tokens"], cfg["warmup"], cfg["repeats"]
    window, n_sink = cfg["window"], cfg["n_sink"]
    streaming_cache = window != "full"
    steps = tokens - 1
    x = torch.tensor(ids[:tokens], dtype=torch.long, device=device)
    samples, device_ms = [], []
    cuda = device.type == "cuda"
    t_all = time.perf_counter()
    with torch.inference_mode():
        for r in range(repeats):
            cache = DynamicCache(config=model.config)
            lat, nll = [], []
            samples.append({"repeat": r, "warmup": min(warmup, steps), "latency_ms": lat,
                            "nll": nll})
            for i in range(steps):
                if fault is not None:
                    fault(i)
                if step_hook:
                    step_hook.begin(i)
                sync(device)
                if cuda:
                    ev0, ev1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                    ev0.record()
                t0 = time.perf_counter()
                if r == 0 and i == 0 and hasattr(heartbeat, "busy"):
                    # The first step may compile (cuda_graph): a long call without progress.
                    with heartbeat.busy(600):
                        out = model(input_ids=x[i:i + 1].view(1, 1), cache=cache, use_cache=True)
                else:
                    out = model(input_ids=x[i:i + 1].view(1, 1), cache=cache, use_cache=True)
                if streaming_cache:
                    streaming.evict(cache, n_sink, window)
                if cuda:
                    ev1.record()
                sync(device)
                t1 = time.perf_counter()
                if step_hook:
                    step_hook.end(i, (t1 - t0) * 1e3)
                logits = out.logits[0, -1].float()
                if not bool(torch.isfinite(logits).all()):
                    e = NonFinite(r, i)
                    e.samples = samples
                    raise e
                lat.append((t1 - t0) * 1e3)
                nll.append(float(-torch.log_softmax(logits, dim=-1)[x[i + 1]]))
                if cuda and i >= warmup:
                    device_ms.append(ev0.elapsed_time(ev1))
                heartbeat.progress(r * steps + i + 1, repeats * steps)
    metrics = {"tokens_evaluated": steps, "decode_total_s": time.perf_counter() - t_all}
    nll0 = samples[0]["nll"]
    if nll0:
        metrics["nll_mean"] = math.fsum(nll0) / len(nll0)
        metrics["ppl"] = float(np.exp(metrics["nll_mean"]))
    metrics.update(latency_metrics(samples))
    if device_ms:
        metrics["tpot_device_ms_median"] = float(np.median(device_ms))
    return samples, metrics
