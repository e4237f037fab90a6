#!/usr/bin/env python3
"""Trains the tiny GPT-NeoX of the CPU quickstart (`make demo`) on WikiText-2.

Random weights would make perplexity meaningless, so the quickstart model is trained: a
4-layer GPT-NeoX (hidden 128, 4 heads, rotary_pct 0.25, parallel residual, like Pythia),
max_position_embeddings 256 so that `window: full` over more tokens than that triggers the
worker's "beyond trained context" warning. It keeps the GPT-NeoX-20B tokenizer's ids and
Pythia's padded vocabulary of 50304, so orch feeds it the token ids it prepares itself.

Data: the ids of WikiText-2's test split (the only split in ../shared/data). The text is
cut at a line boundary at --train-frac of its characters; the model trains on the ids of
the first part, and the rest is written verbatim to HELDOUT (default
results/quickstart/heldout.txt), the quickstart's orch dataset, so orch evaluates on text
the model never saw.

Vocabulary cost. The output layer is the expensive part of a model this small (50304 x 128
against 12 x 128^2 per layer), and only ~17k distinct ids occur in the training text.
Training therefore uses an exact full-vocabulary softmax with the unseen ids' output rows
tied to one shared vector u: their ~33k logits are all h.u, so they enter the softmax as one
class with logit h.u + log(n_unseen). The saved model is an ordinary GPTNeoXForCausalLM with
embed_out rows of unseen ids = u and embed_in rows of unseen ids = the mean of the trained
input embeddings; its full-vocabulary loss equals the training loss (checked below). This
makes the output layer ~3x cheaper to train than a plain 50304-way softmax (forward +
backward of 4096 positions, 2 threads: 1.9 s against 5.3 s on the 2-core AMD EPYC VM this
was written on). Held-out ids that never occur in training (~6%) get the tied row's
probability, so they cost a lot of NLL but are never infinite.

Output (OUT, default results/quickstart/model): config.json, model.safetensors (fp32),
tokenizer.json (a copy), stamp.json. Deterministic given --seed (fixed step count, 2 threads);
idempotent: it does nothing when OUT/stamp.json matches the inputs, this script and the
arguments, and HELDOUT exists with the content it wrote.

Prints the final train loss and the held-out perplexity computed with transformers:
  heldout_ppl            all held-out ids, non-overlapping windows of max_position_embeddings
  heldout_ppl_first_N    one forward over the first N held-out ids (N = --compare-tokens,
                         comma-separated); this is what orch's `window: full, tokens: N`
                         decode loop computes, so the demo can compare the two numbers.
It also writes them to OUT/stamp.json ("metrics").

Usage:
  .venv/bin/python tools/make_quickstart_model.py \
      --tokenizer ../shared/data/tokenizers/gpt-neox-20b/tokenizer.json \
      --text ../shared/data/wikitext-2-raw/wiki.test.raw [--out DIR] [--heldout FILE]
"""
import argparse
import hashlib
import json
import math
import os
import shutil
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STAMP_VERSION = 1


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tokenizer", required=True, help="GPT-NeoX-20B tokenizer.json")
    p.add_argument("--text", required=True, help="WikiText-2 raw text (wiki.test.raw)")
    p.add_argument("--out", default=os.path.join(ROOT, "results/quickstart/model"))
    p.add_argument("--heldout", default=os.path.join(ROOT, "results/quickstart/heldout.txt"))
    p.add_argument("--train-frac", type=float, default=0.85)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=180)
    p.add_argument("--batch", type=int, default=8, help="sequences per step")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--max-pos", type=int, default=256)
    p.add_argument("--compare-tokens", default="256,512",
                   help="comma-separated N: also report the PPL of the first N held-out ids")
    p.add_argument("--force", action="store_true", help="retrain even if the stamp matches")
    return p.parse_args()


def main():
    args = parse_args()
    for path, what in ((args.tokenizer, "tokenizer"), (args.text, "text")):
        if not os.path.isfile(path):
            sys.exit(f"make_quickstart_model: {what} file {path} not found")
    t_start = time.time()
    cpu_start = time.process_time()

    stamp = {
        "version": STAMP_VERSION,
        "script_sha256": sha256_file(os.path.abspath(__file__)),
        "tokenizer_sha256": sha256_file(args.tokenizer),
        "text_sha256": sha256_file(args.text),
        "args": {k: v for k, v in vars(args).items()
                 if k not in ("tokenizer", "text", "out", "heldout", "force")},
    }
    stamp_path = os.path.join(args.out, "stamp.json")
    needed = [os.path.join(args.out, f) for f in ("config.json", "model.safetensors", "tokenizer.json")]
    if not args.force and os.path.isfile(stamp_path) and os.path.isfile(args.heldout) \
            and all(os.path.isfile(f) for f in needed):
        with open(stamp_path) as f:
            old = json.load(f)
        if all(old.get(k) == v for k, v in stamp.items()) \
                and old.get("heldout_sha256") == sha256_file(args.heldout):
            m = old.get("metrics", {})
            print(f"make_quickstart_model: {args.out} is up to date (stamp matches); skipping")
            for k in sorted(m):
                print(f"  {k} = {m[k]}")
            return

    import torch
    import torch.nn.functional as F
    from safetensors.torch import save_file
    from tokenizers import Tokenizer
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)

    # --- data: cut at a line boundary, train on the first part, write the rest --------
    with open(args.text, encoding="utf-8") as f:
        text = f.read()
    cut = text.find("\n", int(len(text) * args.train_frac))
    cut = len(text) if cut < 0 else cut + 1
    train_text, heldout_text = text[:cut], text[cut:]
    if not heldout_text.strip():
        sys.exit("make_quickstart_model: held-out part is empty; lower --train-frac")
    tok = Tokenizer.from_file(args.tokenizer)
    train_ids = torch.tensor(tok.encode(train_text).ids, dtype=torch.long)
    heldout_ids = torch.tensor(tok.encode(heldout_text).ids, dtype=torch.long)
    vocab = 50304  # Pythia's padded vocabulary (the tokenizer has 50277 ids)
    assert int(train_ids.max()) < vocab and int(heldout_ids.max()) < vocab
    print(f"make_quickstart_model: text {len(text)} chars; train {cut} chars = {len(train_ids)} ids,"
          f" held-out {len(heldout_text)} chars = {len(heldout_ids)} ids")

    # compact vocabulary: ids seen in training -> 0..S-1
    seen = torch.unique(train_ids)
    n_seen, n_unseen = len(seen), vocab - len(seen)
    to_compact = torch.full((vocab,), -1, dtype=torch.long)
    to_compact[seen] = torch.arange(n_seen)
    train_c = to_compact[train_ids]
    unseen_heldout = float((to_compact[heldout_ids] < 0).float().mean())
    print(f"make_quickstart_model: {n_seen} distinct ids in training, {n_unseen} tied;"
          f" {100 * unseen_heldout:.1f}% of held-out ids never occur in training")

    # --- model ---------------------------------------------------------------------------
    cfg = GPTNeoXConfig(
        vocab_size=vocab, hidden_size=args.hidden, num_hidden_layers=args.layers,
        num_attention_heads=args.heads, intermediate_size=4 * args.hidden, rotary_pct=0.25,
        rotary_emb_base=10000, max_position_embeddings=args.max_pos, use_parallel_residual=True,
        layer_norm_eps=1e-5, initializer_range=0.02, tie_word_embeddings=False,
        hidden_dropout=0.0, attention_dropout=0.0, bos_token_id=0, eos_token_id=0,
        attn_implementation="eager")
    cfg.architectures = ["GPTNeoXForCausalLM"]
    model = GPTNeoXForCausalLM(cfg)
    body = model.gpt_neox
    std = cfg.initializer_range
    emb_in = torch.nn.Parameter(torch.randn(n_seen, args.hidden) * std)
    emb_out = torch.nn.Parameter(torch.randn(n_seen, args.hidden) * std)
    u = torch.nn.Parameter(torch.randn(args.hidden) * std)
    log_unseen = math.log(n_unseen)
    params = [p for n, p in body.named_parameters() if not n.startswith("embed_in")]
    params += [emb_in, emb_out, u]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95))
    n_params = sum(p.numel() for p in model.parameters())
    print(f"make_quickstart_model: GPT-NeoX {args.layers} layers, hidden {args.hidden},"
          f" {args.heads} heads, max_position_embeddings {args.max_pos}; {n_params / 1e6:.1f}M"
          f" parameters ({(n_params - 2 * vocab * args.hidden) / 1e6:.2f}M outside the embeddings)")

    def compact_loss(x, y):
        h = body(inputs_embeds=F.embedding(x, emb_in)).last_hidden_state
        logits = torch.cat([h @ emb_out.T, (h @ u).unsqueeze(-1) + log_unseen], dim=-1)
        return F.cross_entropy(logits.reshape(-1, n_seen + 1), y.reshape(-1))

    # --- training: shuffled non-overlapping windows of max_pos + 1 ids, epoch after epoch -
    seq = args.max_pos
    n_win = (len(train_c) - 1) // seq
    gen = torch.Generator().manual_seed(args.seed)
    order, pos = torch.randperm(n_win, generator=gen), 0
    warmup = max(1, args.steps // 10)
    print(f"make_quickstart_model: training {args.steps} steps x {args.batch} x {seq} ids"
          f" ({args.steps * args.batch * seq / len(train_c):.2f} epochs)")
    model.train()
    loss_ema = None
    for step in range(args.steps):
        if pos + args.batch > n_win:
            order, pos = torch.randperm(n_win, generator=gen), 0
        starts = order[pos:pos + args.batch] * seq
        pos += args.batch
        win = torch.stack([train_c[s:s + seq + 1] for s in starts.tolist()])
        lr = args.lr * min((step + 1) / warmup,
                           0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / args.steps)))
        for g in opt.param_groups:
            g["lr"] = lr
        loss = compact_loss(win[:, :-1], win[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        loss = loss.detach()
        loss_ema = float(loss) if loss_ema is None else 0.9 * loss_ema + 0.1 * float(loss)
        if step % 25 == 0 or step == args.steps - 1:
            print(f"  step {step:4d}  loss {float(loss):.3f}  (ema {loss_ema:.3f})  lr {lr:.2e}"
                  f"  {time.time() - t_start:.0f}s", flush=True)
    train_loss = float(loss)

    # --- write the trained rows into the full-vocabulary model -------------------------
    model.eval()
    with torch.no_grad():
        body.embed_in.weight.copy_(emb_in.mean(0).expand(vocab, -1))
        body.embed_in.weight[seen] = emb_in
        head = model.get_output_embeddings()  # `lm_head` in transformers 5, `embed_out` before
        head.weight.copy_(u.expand(vocab, -1))
        head.weight[seen] = emb_out
        # the full model's loss on the last batch must equal the compact training loss
        full = F.cross_entropy(model(seen[win[:, :-1]]).logits.reshape(-1, vocab),
                               seen[win[:, 1:]].reshape(-1))
        compact = compact_loss(win[:, :-1], win[:, 1:])
        assert abs(float(full) - float(compact)) < 1e-3, (float(full), float(compact))

        def ppl_of(ids):
            logits = model(ids.view(1, -1)).logits[0]
            nll = F.cross_entropy(logits[:-1].float(), ids[1:], reduction="sum")
            return float(nll), len(ids) - 1

        total, count = 0.0, 0
        for s in range(0, len(heldout_ids) - 1, seq):
            chunk = heldout_ids[s:s + seq]
            if len(chunk) < 2:
                break
            nll, n = ppl_of(chunk)
            total, count = total + nll, count + n
        metrics = {"train_loss_final": round(train_loss, 4),
                   "train_loss_ema": round(loss_ema, 4),
                   "heldout_ids": len(heldout_ids),
                   "heldout_ppl": round(math.exp(total / count), 3)}
        for n in [int(x) for x in args.compare_tokens.split(",") if x.strip()]:
            nll, k = ppl_of(heldout_ids[:n])
            metrics[f"heldout_ppl_first_{n}"] = round(math.exp(nll / k), 3)

    # --- save --------------------------------------------------------------------------
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.heldout)), exist_ok=True)
    if os.path.exists(stamp_path):
        os.remove(stamp_path)  # an interrupted rewrite must not look up to date
    cfg.save_pretrained(args.out)
    # Pythia's checkpoints (and orch-worker) name the output layer `embed_out`
    state = {k.replace("lm_head.", "embed_out."): v.detach().contiguous()
             for k, v in model.state_dict().items()}
    save_file(state, os.path.join(args.out, "model.safetensors"), metadata={"format": "pt"})
    os.chmod(os.path.join(args.out, "model.safetensors"), 0o644)
    shutil.copyfile(args.tokenizer, os.path.join(args.out, "tokenizer.json"))
    with open(args.heldout, "w", encoding="utf-8", newline="") as f:
        f.write(heldout_text)
    metrics["train_wall_s"] = round(time.time() - t_start, 1)
    metrics["train_cpu_s"] = round(time.process_time() - cpu_start, 1)
    stamp["metrics"] = metrics
    stamp["heldout_sha256"] = sha256_file(args.heldout)
    with open(stamp_path + ".tmp", "w") as f:
        json.dump(stamp, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(stamp_path + ".tmp", stamp_path)

    print(f"make_quickstart_model: wrote {args.out} and {args.heldout}")
    for k in sorted(metrics):
        print(f"  {k} = {metrics[k]}")


if __name__ == "__main__":
    main()
