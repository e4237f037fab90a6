#!/usr/bin/env python3
"""Trains the quickstart model committed in models/quickstart/: a byte-level BPE tokenizer
and a small GPT-NeoX, both on man-pages text (extract_text.py), deterministic given --seed.

Recipe (README.md beside this file has the measured numbers and the resulting sha256s):
  1. text: extract_text.py's training part (sections 2/4/5/7 of the Debian packages
     manpages + manpages-dev, roff stripped, every 20th page held out);
  2. tokenizer: Hugging Face `tokenizers` BPE, --vocab ids (including <|endoftext|> = 0),
     GPT-2/GPT-NeoX ByteLevel pre-tokenizer (no prefix space), ByteLevel decoder and
     post-processor, NFC normalizer: the form orch's tokenizer reads (docs/tokenizer.md);
  3. model: GPTNeoXForCausalLM (parallel residual, rotary_pct 0.25, like Pythia),
     --layers x --hidden, vocabulary = the tokenizer's, max_position_embeddings --max-pos,
     trained on shuffled non-overlapping windows of --max-pos + 1 ids with AdamW, warmup +
     cosine, a fixed number of steps, 2 threads, torch.use_deterministic_algorithms;
  4. the weights are stored in fp16 (model.safetensors); the held-out perplexities in
     stamp.json are computed by transformers on those fp16 weights loaded as fp32, which is
     what orch-worker's `dtype: fp32` trials evaluate.

    .venv/bin/python tools/quickstart_model/train.py [--out models/quickstart]
(scripts/install-deps.sh --tools installs transformers, tokenizers and safetensors.)
"""
import argparse
import hashlib
import json
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import extract_text  # noqa: E402


def sha256_bytes(b):
    return hashlib.sha256(b).hexdigest()


def sha256_file(path):
    with open(path, "rb") as f:
        return sha256_bytes(f.read())


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=os.path.join(ROOT, "models/quickstart"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--vocab", type=int, default=2048)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--max-pos", type=int, default=256)
    p.add_argument("--steps", type=int, default=120)
    p.add_argument("--batch", type=int, default=8, help="sequences per step")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--compare-tokens", default="256,512",
                   help="comma-separated N: the held-out PPL of the first N ids (one forward)")
    return p.parse_args()


def train_tokenizer(text, vocab):
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab, min_frequency=2, show_progress=False,
                                  special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    # one "document" per page paragraph list; order is fixed, so the counts are too
    tok.train_from_iterator(text.split("\n"), trainer=trainer)
    return tok


def main():
    args = parse_args()
    t_start = time.time()
    import torch
    import torch.nn.functional as F
    from safetensors.torch import save_file
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)

    train_text, held_text, info = extract_text.split_texts()
    print(f"train: text {info}; train {len(train_text)} chars, held-out {len(held_text)} chars")
    tok = train_tokenizer(train_text, args.vocab)
    os.makedirs(args.out, exist_ok=True)
    tok_path = os.path.join(args.out, "tokenizer.json")
    tok.save(tok_path, pretty=False)
    vocab = tok.get_vocab_size()
    assert vocab == args.vocab, vocab
    train_ids = torch.tensor(tok.encode(train_text).ids, dtype=torch.long)
    held_ids = torch.tensor(tok.encode(held_text).ids, dtype=torch.long)
    print(f"train: tokenizer {vocab} ids; train {len(train_ids)} ids "
          f"({len(train_text.encode()) / len(train_ids):.2f} bytes/id), held-out {len(held_ids)} ids,"
          f" {time.time() - t_start:.0f}s")

    cfg = GPTNeoXConfig(
        vocab_size=vocab, hidden_size=args.hidden, num_hidden_layers=args.layers,
        num_attention_heads=args.heads, intermediate_size=4 * args.hidden, rotary_pct=0.25,
        rotary_emb_base=10000, max_position_embeddings=args.max_pos, use_parallel_residual=True,
        layer_norm_eps=1e-5, initializer_range=0.02, tie_word_embeddings=False,
        hidden_dropout=0.0, attention_dropout=0.0, bos_token_id=0, eos_token_id=0,
        attn_implementation="eager")
    cfg.architectures = ["GPTNeoXForCausalLM"]
    model = GPTNeoXForCausalLM(cfg)
    n_params = sum(p.numel() for p in model.parameters())
    lin = sum(p.numel() for n, p in model.named_parameters()
              if n.endswith(".weight") and p.dim() == 2 and ".layers." in n)
    head = vocab * args.hidden
    print(f"train: {n_params / 1e6:.2f}M parameters; quantizable linears {lin / 1e6:.3f}M,"
          f" embed_out {head / 1e6:.3f}M")

    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95))
    seq = args.max_pos
    n_win = (len(train_ids) - 1) // seq
    gen = torch.Generator().manual_seed(args.seed)
    order, pos = torch.randperm(n_win, generator=gen), 0
    warmup = max(1, args.steps // 20)
    print(f"train: {args.steps} steps x {args.batch} x {seq} ids"
          f" ({args.steps * args.batch * seq / len(train_ids):.2f} epochs)")
    model.train()
    loss_ema = None
    for step in range(args.steps):
        if pos + args.batch > n_win:
            order, pos = torch.randperm(n_win, generator=gen), 0
        starts = (order[pos:pos + args.batch] * seq).tolist()
        pos += args.batch
        win = torch.stack([train_ids[s:s + seq + 1] for s in starts])
        lr = args.lr * min((step + 1) / warmup,
                           0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / args.steps)))
        for g in opt.param_groups:
            g["lr"] = lr
        logits = model(win[:, :-1]).logits
        loss = F.cross_entropy(logits.reshape(-1, vocab), win[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        loss_ema = float(loss) if loss_ema is None else 0.9 * loss_ema + 0.1 * float(loss)
        if step % 20 == 0 or step == args.steps - 1:
            print(f"  step {step:4d}  loss {float(loss):.3f}  (ema {loss_ema:.3f})  lr {lr:.2e}"
                  f"  {time.time() - t_start:.0f}s", flush=True)
    train_wall = time.time() - t_start

    # store in fp16, and evaluate what is stored (fp16 weights read into fp32)
    model.eval()
    state = {k.replace("lm_head.", "embed_out."): v.detach().to(torch.float16).contiguous()
             for k, v in model.state_dict().items()}
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(torch.float16).float())

        def nll_of(ids):
            logits = model(ids.view(1, -1)).logits[0]
            return float(F.cross_entropy(logits[:-1].float(), ids[1:], reduction="sum")), len(ids) - 1

        total, count = 0.0, 0
        for s in range(0, len(held_ids) - 1, seq):
            chunk = held_ids[s:s + seq]
            if len(chunk) < 2:
                break
            nll, n = nll_of(chunk)
            total, count = total + nll, count + n
        metrics = {"train_loss_final": round(float(loss), 4), "train_loss_ema": round(loss_ema, 4),
                   "train_ids": len(train_ids), "heldout_ids": len(held_ids),
                   "heldout_ppl_windows": round(math.exp(total / count), 3),
                   "train_wall_s": round(train_wall, 1)}
        for n in [int(x) for x in args.compare_tokens.split(",") if x.strip()]:
            nll, k = nll_of(held_ids[:n])
            metrics[f"heldout_ppl_first_{n}"] = round(math.exp(nll / k), 3)

    cfg.torch_dtype = "float16"
    cfg.save_pretrained(args.out)
    st_path = os.path.join(args.out, "model.safetensors")
    save_file(state, st_path, metadata={"format": "pt"})
    stamp = {
        "tool": "tools/quickstart_model/train.py",
        "args": {k: v for k, v in vars(args).items() if k != "out"},
        "text": dict(info, train_sha256=sha256_bytes(train_text.encode()),
                     heldout_sha256=sha256_bytes(held_text.encode())),
        "versions": {"torch": torch.__version__, "transformers": __import__("transformers").__version__,
                     "tokenizers": __import__("tokenizers").__version__},
        "sha256": {f: sha256_file(os.path.join(args.out, f))
                   for f in ("config.json", "model.safetensors", "tokenizer.json")},
        "parameters": {"total": n_params, "quantizable_linears": lin, "embed_out": head},
        "metrics": metrics,
    }
    with open(os.path.join(args.out, "stamp.json"), "w") as f:
        json.dump(stamp, f, indent=2, sort_keys=True)
        f.write("\n")
    print(json.dumps(stamp, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
