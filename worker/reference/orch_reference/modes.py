"""The sanity and profile modes (docs/worker.md), with forward hooks on transformers'
modules. Module names are reported as orch-worker names them (the checkpoint's names:
transformers' `lm_head` is `embed_out`)."""

import math
import time

import numpy as np
import torch

from orch_reference.device import sync


def report_name(fqn):
    return "embed_out" if fqn == "lm_head" else fqn


def _watched(model):
    """The modules whose outputs sanity checks, in execution order."""
    g = model.gpt_neox
    mods = [("gpt_neox.embed_in", g.embed_in)]
    mods += [(f"gpt_neox.layers.{i}", layer) for i, layer in enumerate(g.layers)]
    mods += [("gpt_neox.final_layer_norm", g.final_layer_norm), ("lm_head", model.lm_head)]
    return mods


def sanity(model, ids, cfg, device):
    """One full causal forward over the first min(tokens, max_position_embeddings) ids.
    Returns (outcome, metrics, details)."""
    n = min(cfg["tokens"], model.config.max_position_embeddings, len(ids))
    first_bad = []
    hooks = []
    for name, mod in _watched(model):
        def hook(_m, _inp, out, name=name):
            t = out[0] if isinstance(out, tuple) else out
            if not first_bad and torch.is_tensor(t) and not bool(torch.isfinite(t).all()):
                first_bad.append(name)
        hooks.append(mod.register_forward_hook(hook))
    try:
        x = torch.tensor(ids[:n], dtype=torch.long, device=device).view(1, n)
        with torch.inference_mode():
            logits = model(input_ids=x, use_cache=False).logits[0].float()
    finally:
        for h in hooks:
            h.remove()
    finite_rows = torch.isfinite(logits).all(dim=-1)
    logits_ok = bool(finite_rows.all())
    nll = -torch.log_softmax(logits[:-1], dim=-1).gather(1, x[0, 1:].view(-1, 1)).view(-1)
    loss = float(nll.double().mean()) if nll.numel() else float("nan")
    loss_ok = math.isfinite(loss)
    metrics = {"sanity_logits_finite": float(logits_ok), "sanity_loss_finite": float(loss_ok),
               "nll_mean": loss, "ppl": float(np.exp(loss)) if loss_ok else float("nan"),
               "tokens_evaluated": n - 1}
    details = {}
    if logits_ok and loss_ok:
        return "ok", metrics, details
    if first_bad:
        details["nan_layer"] = report_name(first_bad[0])
    bad = (~finite_rows).nonzero()
    if bad.numel():
        details["nan_token"] = int(bad[0, 0])
    return "nan", metrics, details


class ProfileHooks:
    """Time shares of a decode step: forward pre/post hooks, device synchronized at each.
    attention = GPTNeoXAttention (qkv, rotary, cache update, output projection);
    mlp = GPTNeoXMLP; norm_residual = layer time outside attention and mlp (layer norms,
    residual adds) + the final layer norm; embedding; head (lm_head); other = the rest of
    the step (framework overhead, cache eviction)."""

    SECTIONS = ("embedding", "attention", "mlp", "norm_residual", "head", "other")

    def __init__(self, model, device, warmup):
        self.device, self.warmup = device, warmup
        self.totals = dict.fromkeys(self.SECTIONS, 0.0)
        self.step_ms = []
        self._active = False
        self._hooks = []
        self._layer_ms = 0.0
        g = model.gpt_neox
        self._watch(g.embed_in, "embedding")
        self._watch(g.final_layer_norm, "norm_residual")
        self._watch(model.lm_head, "head")
        for layer in g.layers:
            self._watch(layer, "layer")
            self._watch(layer.attention, "attention")
            self._watch(layer.mlp, "mlp")
        self._sections_ms = {}

    def _watch(self, mod, section):
        start = {}

        def pre(_m, _inp):
            if self._active:
                sync(self.device)
                start["t"] = time.perf_counter()

        def post(_m, _inp, _out):
            if self._active:
                sync(self.device)
                self._sections_ms[section] = self._sections_ms.get(section, 0.0) + \
                    (time.perf_counter() - start["t"]) * 1e3
        self._hooks.append(mod.register_forward_pre_hook(pre))
        self._hooks.append(mod.register_forward_hook(post))

    def begin(self, step):
        self._active = step >= self.warmup
        self._sections_ms = {}

    def end(self, step, step_ms):
        if not self._active:
            return
        s = self._sections_ms
        layer = s.get("layer", 0.0)
        attn, mlp = s.get("attention", 0.0), s.get("mlp", 0.0)
        parts = {"embedding": s.get("embedding", 0.0), "attention": attn, "mlp": mlp,
                 "norm_residual": max(layer - attn - mlp, 0.0) + s.get("norm_residual", 0.0),
                 "head": s.get("head", 0.0)}
        parts["other"] = max(step_ms - sum(parts.values()), 0.0)
        for k, v in parts.items():
            self.totals[k] += v
        self.step_ms.append(step_ms)
        self._active = False

    def metrics(self):
        total = sum(self.totals.values())
        out = {}
        if total > 0:
            out = {f"profile_share_{k}": v / total for k, v in self.totals.items()}
        if self.step_ms:
            out["profile_step_ms"] = float(np.median(self.step_ms))
        return out

    def remove(self):
        for h in self._hooks:
            h.remove()
