"""transformers eager beside bench_decode (docs/benchmarks.md, issue 20): the reference
worker's stack (Hugging Face GPTNeoXForCausalLM, DynamicCache, no torch.compile) decoding one
token at a time at batch 1 on the Pythia-70M shape with random weights (transformers' own
init), the same step structure as bench_decode's full-cache case: FULL_TOKENS tokens, the
last TIMED steps timed, median per-token latency. Prints one JSON object.

usage: .venv/bin/python bench/worker/bench_transformers.py [--threads N] [--dtype fp32|bf16]
       [--full-tokens 128] [--timed 119]
"""
import argparse
import json
import os
import statistics
import time

import torch
from transformers import DynamicCache, GPTNeoXConfig, GPTNeoXForCausalLM


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32")
    ap.add_argument("--full-tokens", type=int, default=128)
    ap.add_argument("--timed", type=int, default=119)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = GPTNeoXConfig(vocab_size=50304, hidden_size=512, num_hidden_layers=6,
                        num_attention_heads=8, intermediate_size=2048, rotary_pct=0.25,
                        use_parallel_residual=True, max_position_embeddings=2048,
                        tie_word_embeddings=False)
    dtype = torch.float32 if a.dtype == "fp32" else torch.bfloat16
    model = GPTNeoXForCausalLM(cfg).to(dtype).eval()
    ids = [(i * 7919) % cfg.vocab_size for i in range(a.full_tokens)]
    cache = DynamicCache()
    times = []
    with torch.inference_mode():
        for t, tok in enumerate(ids[:-1]):
            x = torch.tensor([[tok]])
            t0 = time.perf_counter()
            out = model(input_ids=x, past_key_values=cache, use_cache=True)
            out.logits.float()
            times.append((time.perf_counter() - t0) * 1e3)
            cache = out.past_key_values
    timed = times[-a.timed:]
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    print(json.dumps({"stack": "transformers eager", "torch": torch.__version__,
                      "transformers": __import__("transformers").__version__,
                      "threads": a.threads, "dtype": a.dtype, "tokens": a.full_tokens,
                      "timed_steps": len(timed), "tpot_ms_median": statistics.median(timed),
                      "tpot_ms_p10": sorted(timed)[len(timed) // 10], "load_average": load,
                      "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))


if __name__ == "__main__":
    main()
