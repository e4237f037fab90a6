#!/usr/bin/env python3
"""Builds tests/fixtures/model/tiny-parallel/long_reference.safetensors: the StreamingLLM
(pos-shift) reference of tools/make_model_fixtures.py over a text ten times longer than the
model's max_position_embeddings (32), so that the worker's absolute-position rotary is
checked far beyond its rotary table.

  input_ids          int64 [T]    random ids (seeded)
  nll_stream         fp32 [T-1]   decode loop, n_sink=4, window=8
  nll_stream_nosink  fp32 [T-1]   same with n_sink=0

The reference keeps keys before rotary and rotates them by their position in the cache at
every step, so its positions never exceed n_sink + window; the worker rotates keys once at
their absolute position (up to T-1).

Usage: .venv/bin/python tools/make_long_reference.py   (after tools/make_model_fixtures.py)
"""
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import GPTNeoXForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_model_fixtures import N_SINK, WINDOW, streaming_nll  # noqa: E402

T = 320


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    d = os.path.join(root, "tests", "fixtures", "model", "tiny-parallel")
    torch.set_num_threads(1)
    model = GPTNeoXForCausalLM.from_pretrained(d, dtype=torch.float32).eval()
    assert T > 4 * model.config.max_position_embeddings
    torch.manual_seed(2024)
    ids = torch.randint(0, model.config.vocab_size, (T,))
    nll_stream = streaming_nll(model, ids, N_SINK, WINDOW)
    nll_nosink = streaming_nll(model, ids, 0, WINDOW)
    save_file({"input_ids": ids, "nll_stream": nll_stream, "nll_stream_nosink": nll_nosink},
              os.path.join(d, "long_reference.safetensors"),
              metadata={"n_sink": str(N_SINK), "window": str(WINDOW), "tokens": str(T),
                        "transformers": __import__("transformers").__version__,
                        "torch": torch.__version__})
    print(f"long reference: {T} tokens, nll_stream {nll_stream.mean():.4f}, "
          f"nll_nosink {nll_nosink.mean():.4f}")


if __name__ == "__main__":
    main()
