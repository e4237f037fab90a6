"""llama.cpp beside orch-worker (docs/benchmarks.md, issue 20): the steps of run_llama_cpp.sh,
one subcommand each, each run by the interpreter that has what it needs.

  hf DIR                  (project venv: torch, transformers, safetensors) writes the random
                          Pythia-70M-shaped GPTNeoXForCausalLM of bench_transformers.py
                          (transformers' init, torch.manual_seed(0)) as a Hugging Face folder,
                          fp32 safetensors, with models/quickstart's byte-level BPE tokenizer
                          (the converter wants one; the vocabulary size stays 50304).
  convert CONVERTER HF OUT TYPE
                          (project venv: torch) runs llama.cpp's own convert_hf_to_gguf.py
                          (with the gguf-py beside it) on HF to OUT as TYPE (f32, q8_0). The one
                          change: its pre-tokenizer check (a hash over known hub tokenizers)
                          is answered "gpt-2" (byte-level BPE), since the quickstart tokenizer
                          is not on its list; no weight goes through that code. And the config keys
                          transformers 5's AutoConfig drops (rotary_pct) are read back from
                          config.json.
  quantize IN OUT TYPE    (benchmark venv: llama_cpp) llama.cpp's llama_model_quantize, for q4_0
                          (the converter has no q4_0); the output layer is set to the same type
                          (orch's int4wo-g32+head quantizes the head too).
  time GGUF               (benchmark venv) per-token decode at batch 1, one token per
                          llama_decode, logits of every step, the same steps as bench_decode:
                          full cache (the last --timed of --full-tokens tokens) or --sinks +
                          --window (the oldest window token removed from the KV cache before
                          each step once full, so every timed step attends sinks + window + 1
                          tokens, positions never shifted, as orch's cache). Prints one JSON.
  table OUT_JSON ORCH_JSON... LLAMA_JSONL...
                          the side-by-side table (TPOT medians, MB read per token, ratios) and
                          the combined JSON.
"""
import argparse
import json
import os
import re
import statistics
import sys
import time

N_LAYERS, HIDDEN, HEADS, FFN, VOCAB = 6, 512, 8, 2048, 50304


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def cmd_hf(a):
    import shutil

    import torch
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

    torch.manual_seed(0)
    cfg = GPTNeoXConfig(vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=N_LAYERS,
                        num_attention_heads=HEADS, intermediate_size=FFN, rotary_pct=0.25,
                        use_parallel_residual=True, max_position_embeddings=2048,
                        tie_word_embeddings=False)
    model = GPTNeoXForCausalLM(cfg).float().eval()
    os.makedirs(a.dir, exist_ok=True)
    model.save_pretrained(a.dir, safe_serialization=True)
    # The classic Pythia keys next to transformers 5's rope_parameters: the GGUF converter
    # reads rotary_pct, orch-worker reads either.
    path = os.path.join(a.dir, "config.json")
    with open(path) as f:
        c = json.load(f)
    c.update({"rotary_pct": 0.25, "rotary_emb_base": 10000, "torch_dtype": "float32"})
    with open(path, "w") as f:
        json.dump(c, f, indent=1)
    here = os.path.dirname(os.path.abspath(__file__))
    shutil.copy(os.path.join(here, "..", "..", "models", "quickstart", "tokenizer.json"), a.dir)
    with open(os.path.join(a.dir, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "GPTNeoXTokenizer", "eos_token": "<|endoftext|>",
                   "bos_token": "<|endoftext|>"}, f)
    print(json.dumps({"hf_dir": a.dir, "parameters": sum(p.numel() for p in model.parameters())}))


def cmd_convert(a):
    conv_dir = os.path.dirname(os.path.abspath(a.converter))
    sys.path.insert(0, conv_dir)
    # The converter puts the gguf-py next to it (same llama.cpp commit) on sys.path: PyPI's
    # gguf 0.19.0 lacks what this converter calls (gguf.LazyChunkedTensor).
    import conversion.base as base  # llama.cpp's converter package, next to the script

    base.TextModel.get_vocab_base_pre = lambda self, tokenizer: "gpt-2"
    # It reads the config through transformers' AutoConfig, whose 5.x GPTNeoXConfig keeps
    # rotary_pct only inside rope_parameters, while its GPT-NeoX writer reads rotary_pct:
    # the keys config.json has and AutoConfig dropped are put back.
    load = base.ModelBase.load_hparams

    def load_hparams(dir_model, is_mistral_format):
        hp = load(dir_model, is_mistral_format)
        with open(os.path.join(dir_model, "config.json")) as f:
            for k, v in json.load(f).items():
                hp.setdefault(k, v)
        return hp

    base.ModelBase.load_hparams = staticmethod(load_hparams)
    import convert_hf_to_gguf

    sys.argv = ["convert_hf_to_gguf.py", a.hf, "--outfile", a.out, "--outtype", a.type]
    convert_hf_to_gguf.main()


def cmd_quantize(a):
    import ctypes

    import llama_cpp

    ftypes = {"q4_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0, "q8_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0}
    gtypes = {"q4_0": 2, "q8_0": 8}  # GGML_TYPE_Q4_0, GGML_TYPE_Q8_0
    p = llama_cpp.llama_model_quantize_default_params()
    p.ftype = ftypes[a.type]
    p.output_tensor_type = gtypes[a.type]
    p.nthread = 2
    rc = llama_cpp.llama_model_quantize(a.inp.encode(), a.out.encode(), ctypes.byref(p))
    if rc != 0:
        raise SystemExit(f"llama_model_quantize returned {rc}")


def gguf_bytes_per_token(path):
    """Bytes a decode step reads: every tensor as stored, the token embedding but one row."""
    import gguf

    r = gguf.GGUFReader(path)
    total, types = 0, {}
    for t in r.tensors:
        n = int(t.n_bytes)
        name = t.name
        types[re.sub(r"^blk\.\d+\.", "blk.N.", name)] = t.tensor_type.name
        if name == "token_embd.weight":
            n = n // int(t.shape[-1])  # one row of [vocab, hidden] (shape is ggml's, reversed)
        total += n
    return total, types


def decode_steps(llama_cpp, ctx, batch, mem, ids, window, sinks):
    """One llama_decode per token; per-step wall ms and process CPU ms (logits read back)."""
    times, cpu = [], []
    for pos, tok in enumerate(ids[:-1]):
        if window is not None and pos >= sinks + window + 1:
            evict = pos - (window + 1)  # the oldest window token still cached
            llama_cpp.llama_memory_seq_rm(mem, 0, evict, evict + 1)
        batch.n_tokens = 1
        batch.token[0] = tok
        batch.pos[0] = pos
        batch.n_seq_id[0] = 1
        batch.seq_id[0][0] = 0
        batch.logits[0] = 1
        c0, t0 = time.process_time(), time.perf_counter()
        rc = llama_cpp.llama_decode(ctx, batch)
        logits = llama_cpp.llama_get_logits_ith(ctx, -1)
        _ = logits[0]
        times.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
        if rc != 0:
            raise SystemExit(f"llama_decode returned {rc} at position {pos}")
    return times, cpu


def cmd_time(a):
    import llama_cpp

    llama_cpp.llama_backend_init()
    mp = llama_cpp.llama_model_default_params()
    model = llama_cpp.llama_model_load_from_file(a.gguf.encode(), mp)
    if not model:
        raise SystemExit(f"cannot load {a.gguf}")
    rows = []
    for window in a.windows.split(","):
        win = None if window == "full" else int(window)
        if win is None:
            tokens = max(a.full_tokens, a.timed + 2)
        else:
            tokens = a.sinks + win + 1 + a.timed + 1
        cp = llama_cpp.llama_context_default_params()
        cp.n_ctx = 256
        cp.n_batch = 256
        cp.n_ubatch = 256
        cp.n_threads = a.threads
        cp.n_threads_batch = a.threads
        ctx = llama_cpp.llama_init_from_model(model, cp)
        batch = llama_cpp.llama_batch_init(1, 0, 1)
        mem = llama_cpp.llama_get_memory(ctx)
        ids = [(i * 7919) % VOCAB for i in range(tokens)]
        times, cpu = decode_steps(llama_cpp, ctx, batch, mem, ids, win, a.sinks)
        timed = times[-a.timed:]
        attended = (tokens - a.timed // 2) if win is None else a.sinks + win + 1
        rows.append({"window": window, "sinks": a.sinks, "tokens": tokens,
                     "timed_steps": len(timed), "attended": attended,
                     "tpot_ms_median": statistics.median(timed),
                     "tpot_ms_p10": sorted(timed)[len(timed) // 10],
                     "tpot_ms_p90": sorted(timed)[len(timed) * 9 // 10],
                     "cpu_ms_median": statistics.median(cpu[-a.timed:])})
        llama_cpp.llama_batch_free(batch)
        llama_cpp.llama_free(ctx)
    weights, types = gguf_bytes_per_token(a.gguf)
    print(json.dumps({"stack": "llama.cpp", "llama_cpp_python": llama_cpp.__version__,
                      "gguf": os.path.basename(a.gguf), "format": a.label, "threads": a.threads,
                      "weight_bytes": weights, "tensor_types": types,
                      "system_info": llama_cpp.llama_print_system_info().decode(),
                      "load_average": load_average(), "cases": rows,
                      "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))


PAIRS = [("none", False, "f32"), ("int8wo", True, "q8_0"), ("int4wo-g32", True, "q4_0")]


def cmd_table(a):
    orch = [json.load(open(p)) for p in a.orch]
    llama = [json.loads(line) for p in a.llama for line in open(p) if line.strip()]
    rows = []
    for o in orch:
        bw = o["bandwidth_gbs"]
        for case in o["cases"]:
            if "skipped" in case or case["dtype"] != "fp32":
                continue
            for quant, head, fmt in PAIRS:
                if case["quant"] != quant or bool(case["quantize_head"]) != head:
                    continue
                peer = next((l for l in llama if l["format"] == fmt and
                             l["threads"] == o["threads"]), None)
                pc = next((c for c in peer["cases"] if c["window"] == case["window"]), None) \
                    if peer else None
                row = {"threads": o["threads"], "window": case["window"],
                       "orch": quant + ("+head" if head else ""),
                       "orch_tpot_ms": case["tpot_ms_median"],
                       "orch_mb_per_token": case["bytes_per_token"] / 1e6,
                       "orch_over_floor": case["tpot_over_floor"], "bandwidth_gbs": bw,
                       "orch_cpu_ms": case.get("cpu_ms_median"),
                       "orch_cpu_over_floor_cpu": case.get("cpu_over_floor_cpu"),
                       "llama_format": fmt}
                if pc:
                    # K/V: llama.cpp's default f16 cache, both K and V, every layer.
                    kv = 2 * N_LAYERS * pc["attended"] * HIDDEN * 2
                    lb = peer["weight_bytes"] + kv
                    row.update({"llama_tpot_ms": pc["tpot_ms_median"],
                                "llama_mb_per_token": lb / 1e6,
                                "llama_over_floor": pc["tpot_ms_median"] / (lb / (bw * 1e9) * 1e3),
                                "orch_over_llama": case["tpot_ms_median"] / pc["tpot_ms_median"],
                                "llama_cpu_ms": pc.get("cpu_ms_median")})
                    if row["orch_cpu_ms"] and row["llama_cpu_ms"]:
                        row["orch_over_llama_cpu"] = row["orch_cpu_ms"] / row["llama_cpu_ms"]
                rows.append(row)
    print(f"{'thr':>3} {'window':>6} {'orch':<16} {'ms':>7} {'MB/tok':>7} {'/floor':>6}   "
          f"{'llama.cpp':<6} {'ms':>7} {'MB/tok':>7} {'/floor':>6}   orch/llama   "
          f"cpu ms: orch  llama  orch/llama")
    for r in rows:
        cpu = (f"   {r['orch_cpu_ms']:7.3f} {r['llama_cpu_ms']:7.3f} {r['orch_over_llama_cpu']:6.2f}"
               if "orch_over_llama_cpu" in r else "")
        tail = (f"{r['llama_tpot_ms']:7.3f} {r['llama_mb_per_token']:7.1f} "
                f"{r['llama_over_floor']:6.2f}   {r['orch_over_llama']:10.2f}{cpu}"
                if "llama_tpot_ms" in r else "(no llama.cpp row)")
        print(f"{r['threads']:>3} {r['window']:>6} {r['orch']:<16} {r['orch_tpot_ms']:7.3f} "
              f"{r['orch_mb_per_token']:7.1f} {r['orch_over_floor']:6.2f}   "
              f"{r['llama_format']:<6} {tail}")
    with open(a.out, "w") as f:
        json.dump({"rows": rows, "orch": orch, "llama_cpp": llama}, f, indent=1)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("hf")
    p.add_argument("dir")
    p = sub.add_parser("convert")
    for n in ("converter", "hf", "out", "type"):
        p.add_argument(n)
    p = sub.add_parser("quantize")
    for n in ("inp", "out", "type"):
        p.add_argument(n)
    p = sub.add_parser("time")
    p.add_argument("gguf")
    p.add_argument("--label", required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--windows", default="full,60")
    p.add_argument("--sinks", type=int, default=4)
    p.add_argument("--full-tokens", type=int, default=128)
    p.add_argument("--timed", type=int, default=119)
    p = sub.add_parser("table")
    p.add_argument("out")
    p.add_argument("--orch", nargs="+", required=True)
    p.add_argument("--llama", nargs="+", required=True)
    a = ap.parse_args()
    {"hf": cmd_hf, "convert": cmd_convert, "quantize": cmd_quantize, "time": cmd_time,
     "table": cmd_table}[a.cmd](a)


if __name__ == "__main__":
    main()
