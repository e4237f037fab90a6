#!/usr/bin/env python3
"""Builds the tiny GPT-NeoX fixtures of tests/fixtures/model/ with Hugging Face transformers.

For each model: random weights (rounded to fp16, which is how they are stored), config.json,
the weights (single safetensors, sharded safetensors, or pytorch_model.bin), and
reference.safetensors with
  input_ids        int64 [T]          random token ids
  logits_full      fp32  [T, V]       transformers' GPTNeoXForCausalLM logits (eager attention)
  nll_full         fp32  [T-1]        next-token NLL from logits_full
  nll_stream       fp32  [T-1]        StreamingLLM decode loop (n_sink=4, window=8)
  nll_stream_nosink fp32 [T-1]        same with n_sink=0, window=8
plus tokens.ids (little-endian int32 ids, as the orchestrator prepares them).

The StreamingLLM reference follows mit-han-lab/streaming-llm (pos-shift attention +
StartRecentKVCache): one token per step through transformers' own modules, keys cached
before rotary and rotated by their position in the cache at every step, the query at the
last position, and after each step the cache evicted to the first n_sink and last window
tokens. It is checked against transformers' full forward when nothing is evicted.

Usage: .venv/bin/python tools/make_model_fixtures.py [OUT_DIR]   (default tests/fixtures/model)
Deterministic (seeded); rerunning rewrites identical tensors.
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import GPTNeoXConfig, GPTNeoXForCausalLM
from transformers.models.gpt_neox.modeling_gpt_neox import apply_rotary_pos_emb

T = 40
N_SINK, WINDOW = 4, 8


def make_model(parallel: bool, layers: int, seed: int) -> GPTNeoXForCausalLM:
    torch.manual_seed(seed)
    cfg = GPTNeoXConfig(
        vocab_size=512, hidden_size=64, num_hidden_layers=layers, num_attention_heads=4,
        intermediate_size=256, rotary_pct=0.25, rotary_emb_base=10000,
        max_position_embeddings=32, use_parallel_residual=parallel, layer_norm_eps=1e-5,
        # Larger than Pythia's 0.02 so that attention is peaked and eviction changes the NLL.
        initializer_range=0.25, tie_word_embeddings=False, attn_implementation="eager")
    model = GPTNeoXForCausalLM(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():  # layer norms too, so that they are not trivial
            if p.dim() == 1:
                p.add_(torch.randn_like(p) * 0.1)
            p.copy_(p.half().float())  # stored as fp16: the reference uses exactly those values
    return model


@torch.no_grad()
def nll_from_logits(logits, ids):
    return torch.nn.functional.cross_entropy(logits[:-1].float(), ids[1:], reduction="none")


@torch.no_grad()
def streaming_nll(model, ids, n_sink, window):
    """Decode loop with a StreamingLLM cache, using the model's own modules."""
    cfg = model.config
    neox = model.gpt_neox
    nh = cfg.num_attention_heads
    hd = cfg.hidden_size // nh
    keys = [None] * cfg.num_hidden_layers  # [nh, L, hd], before rotary
    values = [None] * cfg.num_hidden_layers
    nll = []
    for i in range(len(ids) - 1):
        x = neox.embed_in(ids[i:i + 1].view(1, 1))  # [1, 1, H]
        cached = 0 if keys[0] is None else keys[0].shape[1]
        length = cached + 1
        dummy = torch.zeros(1, length, hd)
        cos, sin = neox.rotary_emb(dummy, torch.arange(length).view(1, -1))
        for li, layer in enumerate(neox.layers):
            att = layer.attention
            h = layer.input_layernorm(x)
            qkv = att.query_key_value(h).view(1, 1, nh, 3 * hd).transpose(1, 2)
            q, k, v = qkv.chunk(3, dim=-1)  # [1, nh, 1, hd]
            k_all = k[0] if keys[li] is None else torch.cat([keys[li], k[0]], dim=1)
            v_all = v[0] if values[li] is None else torch.cat([values[li], v[0]], dim=1)
            keys[li], values[li] = k_all, v_all
            # Query at the last position in the cache; keys by their position in the cache.
            q_rot, _ = apply_rotary_pos_emb(q, q, cos[:, -1:], sin[:, -1:])
            _, k_rot = apply_rotary_pos_emb(k_all[None], k_all[None], cos, sin)
            scores = (q_rot @ k_rot.transpose(-1, -2)) * att.scaling
            probs = torch.softmax(scores.float(), dim=-1).to(q.dtype)
            out = (probs @ v_all[None]).transpose(1, 2).reshape(1, 1, -1)
            attn_out = att.dense(out)
            if layer.use_parallel_residual:
                x = layer.mlp(layer.post_attention_layernorm(x)) + attn_out + x
            else:
                a = attn_out + x
                x = layer.mlp(layer.post_attention_layernorm(a)) + a
        logits = model.lm_head(neox.final_layer_norm(x))[0, 0]  # saved as embed_out
        nll.append(torch.nn.functional.cross_entropy(logits.float()[None], ids[i + 1:i + 2]))
        # StartRecentKVCache: keep the first n_sink and the last `window` tokens.
        if keys[0].shape[1] > n_sink + window:
            for li in range(len(keys)):
                keys[li] = torch.cat([keys[li][:, :n_sink], keys[li][:, -window:]], dim=1)
                values[li] = torch.cat([values[li][:, :n_sink], values[li][:, -window:]], dim=1)
    return torch.stack(nll)


def write_fixture(out_dir, name, model, weights, seed):
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))
    torch.manual_seed(seed + 1000)
    ids = torch.randint(0, model.config.vocab_size, (T,))
    with torch.no_grad():
        logits = model(ids[None]).logits[0].float()
    nll_full = nll_from_logits(logits, ids)
    # The reference decode loop must reproduce transformers' forward when nothing is evicted.
    check = streaming_nll(model, ids, n_sink=0, window=T)
    assert torch.allclose(check, nll_full, atol=1e-5, rtol=1e-5), (check - nll_full).abs().max()
    nll_stream = streaming_nll(model, ids, N_SINK, WINDOW)
    nll_nosink = streaming_nll(model, ids, 0, WINDOW)
    assert (nll_stream - nll_full).abs().max() > 1e-2, "eviction must matter on the fixture"

    half = model.half()
    if weights == "safetensors":
        half.save_pretrained(d)
    elif weights == "sharded":
        half.save_pretrained(d, max_shard_size="200KB")
    else:  # pytorch_model.bin: torch.save zip format, as older hub checkpoints have
        half.save_pretrained(d)
        state = {k.replace("lm_head.", "embed_out."): v.clone() for k, v in half.state_dict().items()}
        os.remove(os.path.join(d, "model.safetensors"))
        torch.save(state, os.path.join(d, "pytorch_model.bin"))
    for extra in ("generation_config.json",):
        p = os.path.join(d, extra)
        if os.path.exists(p):
            os.remove(p)
    save_file({"input_ids": ids, "logits_full": logits.contiguous(), "nll_full": nll_full,
               "nll_stream": nll_stream, "nll_stream_nosink": nll_nosink},
              os.path.join(d, "reference.safetensors"),
              metadata={"n_sink": str(N_SINK), "window": str(WINDOW), "tokens": str(T),
                        "transformers": __import__("transformers").__version__,
                        "torch": torch.__version__})
    ids.to(torch.int32).numpy().astype("<i4").tofile(os.path.join(d, "tokens.ids"))
    print(f"{name}: nll_full {nll_full.mean():.4f} nll_stream {nll_stream.mean():.4f} "
          f"nll_nosink {nll_nosink.mean():.4f} max|stream-full| {(nll_stream - nll_full).abs().max():.3f}")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "tests", "fixtures", "model")
    torch.set_num_threads(1)
    write_fixture(out, "tiny-parallel", make_model(True, 3, 1), "safetensors", 1)
    write_fixture(out, "tiny-sequential", make_model(False, 2, 2), "sharded", 2)
    write_fixture(out, "tiny-sequential-bin", make_model(False, 2, 2), "bin", 2)
    json.dump({"generator": "tools/make_model_fixtures.py", "tokens": T, "n_sink": N_SINK, "window": WINDOW},
              open(os.path.join(out, "README.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
