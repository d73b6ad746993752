"""Trains the project's default model: a small Hymba on the King James Bible.

  /usr/bin/python3 -m hymba_tools.train --out models/hymba-kjv
      [--steps N] [--batch B] [--seq T] [--lr LR] [--seed S] [--threads K]

The corpus is the public-domain KJV text of Debian's `bible-kjv` package
(`scripts/setup.sh --train` installs it), read through its `bible` program.
Every 50th chapter is held out. The tokenizer is a SentencePiece BPE model
trained here by `spm_train` on the training chapters (byte fallback, so any
text encodes). The model is the full Hymba architecture (meta tokens, sliding
window and global layers, a KV-sharing pair, the parallel SSM branch),
written in hymba_torch.py with the math of reference.py.

Training is deterministic for a given seed and thread count. It prints
progress and the held-out loss; the result is a HuggingFace-layout directory
with BF16 weights, and the held-out perplexity reported at the end is that
of the BF16 weights that ship (the same chunking as `exe --perplexity`).
"""
import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

from . import config as hc
from . import hymba_torch as ht
from . import perplexity as ppl
from . import safetensors_io as st

HELD_OUT_EVERY = 50  # chapter i is held out when i % 50 == 25

CONFIG = {
    "architectures": ["HymbaForCausalLM"], "model_type": "hymba",
    "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0,
    "vocab_size": 4096, "hidden_size": 192, "intermediate_size": 512,
    "num_hidden_layers": 4, "num_attention_heads": 4,
    "num_key_value_heads": 2, "attn_hidden_size": -1, "kq_head_dim": -1,
    "kq_norm": "none", "hidden_act": "silu", "mlp_hidden_act": "silu",
    "num_memory_tokens": 16, "memory_tokens_interspersed_every": 0,
    "sliding_window": 32, "global_attn_idx": [0, 3],
    "kv_reuse_group": [[1, 2]],
    "mamba_expand": 2, "mamba_d_state": 16, "mamba_d_conv": 4,
    "mamba_dt_rank": "auto", "mamba_conv_bias": True,
    "mamba_proj_bias": False, "mamba_inner_layernorms": True,
    "num_experts": 1, "num_experts_per_tok": 1, "rms_norm_eps": 1e-6,
    "rope": True, "rope_type": "ntk", "rope_theta": 10000.0,
    "max_position_embeddings": 256, "orig_max_position_embeddings": 128,
    "tie_word_embeddings": True, "torch_dtype": "bfloat16",
}

# SPEC.md section 5's Instruct template (what `exe --chat` builds), in
# Jinja for HuggingFace tooling. The model is not instruction-tuned.
CHAT_TEMPLATE = (
    "{{ '<extra_id_0>System' }}"
    "{% if messages[0]['role'] == 'system' %}"
    "{{ '\\n' + messages[0]['content'] }}{% set msgs = messages[1:] %}"
    "{% else %}{% set msgs = messages %}{% endif %}{{ '\\n\\n' }}"
    "{% for m in msgs %}{% if m['role'] == 'user' %}"
    "{{ '<extra_id_1>User\\n' + m['content'] + '\\n' }}"
    "{% else %}{{ '<extra_id_1>Assistant\\n' + m['content'] + '\\n' }}"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<extra_id_1>Assistant\\n' }}{% endif %}")


def read_bible():
    """The KJV as a list of chapters, each one string of its verses."""
    try:
        text = subprocess.run(["bible", "-l100000", "Gen1:1-Rev22:21"],
                              check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit(f"train: cannot run the `bible` program ({e}); "
                 "install it with scripts/setup.sh --train")
    chapters = parse_bible(text)
    if len(chapters) != 1189:
        sys.exit(f"train: expected the 1189 chapters of the KJV, "
                 f"read {len(chapters)}")
    return chapters


def parse_bible(text):
    """`bible` output ("Genesis 1" headings, "  1 In the beginning ..."
    verses) -> one string per chapter, verse numbers dropped."""
    chapters, verses = [], []
    for line in text.splitlines():
        m = re.match(r"^\s+\d+ (.*)$", line)
        if m:
            verses.append(m.group(1).strip())
        elif line.strip():  # a "Book N" heading starts the next chapter
            if verses:
                chapters.append(" ".join(verses))
            verses = []
    if verses:
        chapters.append(" ".join(verses))
    return chapters


def split(chapters):
    train = [c for i, c in enumerate(chapters) if i % HELD_OUT_EVERY != 25]
    held = [c for i, c in enumerate(chapters) if i % HELD_OUT_EVERY == 25]
    return train, held


def train_tokenizer(train_chapters, vocab, out_prefix, workdir):
    corpus = os.path.join(workdir, "train.txt")
    with open(corpus, "w") as f:
        for c in train_chapters:  # a line per sentence: spm's "sentences"
            f.write(c.replace(". ", ".\n") + "\n")
    cmd = ["spm_train", f"--input={corpus}", f"--model_prefix={out_prefix}",
           f"--vocab_size={vocab}", "--model_type=bpe", "--byte_fallback=true",
           "--character_coverage=1.0", "--split_digits=true",
           "--unk_id=0", "--bos_id=1", "--eos_id=2", "--pad_id=-1",
           "--num_threads=1", "--minloglevel=2"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"train: spm_train failed:\n{r.stderr[-2000:]}")
    return out_prefix + ".model"


def encode_stream(sp, chapters):
    """All chapters as one token stream (chapters joined by a space)."""
    ids = []
    for c in chapters:
        ids.extend(sp.encode(c))
    return np.asarray(ids, dtype=np.int64)


def batches(stream, batch, seq, bos, rng):
    """Random windows of seq-1 tokens, each after a BOS (like ppl chunks)."""
    starts = rng.integers(0, len(stream) - seq, batch)
    x = np.stack([np.concatenate([[bos], stream[s:s + seq - 1]]) for s in starts])
    y = np.stack([stream[s:s + seq] for s in starts])
    # y[:, j] is the token after x[:, j]; x[:, j+1] == y[:, j].
    return torch.from_numpy(x), torch.from_numpy(y)


def lr_at(step, steps, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))


def write_checkpoint(model, cfg, tokenizer, out_dir, readme, held_text):
    tmp = out_dir.rstrip("/") + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    with open(os.path.join(tmp, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    W = {n: p.detach().float().numpy() for n, p in model.weights().items()}
    st.write(os.path.join(tmp, "model.safetensors"), W, "BF16")
    shutil.copy(tokenizer, os.path.join(tmp, "tokenizer.model"))
    with open(os.path.join(tmp, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "LlamaTokenizer", "bos_token": "<s>",
                   "eos_token": "</s>", "unk_token": "<unk>",
                   "add_bos_token": True, "add_eos_token": False,
                   "model_max_length": cfg["max_position_embeddings"],
                   "chat_template": CHAT_TEMPLATE}, f, indent=2)
        f.write("\n")
    with open(os.path.join(tmp, "README.md"), "w") as f:
        f.write(readme)
    # The held-out chapters, for `exe --perplexity heldout.txt`.
    with open(os.path.join(tmp, "heldout.txt"), "w") as f:
        f.write(held_text)
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="checkpoint directory")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=128,
                    help="tokens a training window holds, BOS included")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--eval-chunks", type=int, default=24,
                    help="held-out chunks scored during training (the final "
                         "report scores all of them)")
    ap.add_argument("--config", help="a config.json to train instead")
    a = ap.parse_args(argv)

    import sentencepiece as spm
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    rng = np.random.default_rng(a.seed)
    cfg = dict(CONFIG)
    if a.config:
        with open(a.config) as f:
            cfg = json.load(f)
    d = hc.dims_from_config(cfg)
    t0 = time.time()

    train_ch, held_ch = split(read_bible())
    work = tempfile.mkdtemp(prefix="hymba-train-")
    try:
        tok = train_tokenizer(train_ch, d.vocab, os.path.join(work, "tok"), work)
        sp = spm.SentencePieceProcessor(model_file=tok)
        train_ids = encode_stream(sp, train_ch)
        held_text = "\n".join(held_ch) + "\n"
        held_ids = np.asarray(sp.encode(held_text), dtype=np.int64)
        print(f"corpus: {len(train_ch)} train chapters ({len(train_ids)} tokens), "
              f"{len(held_ch)} held out ({len(held_ids)} tokens); "
              f"tokenizer {d.vocab} pieces ({time.time() - t0:.0f} s)", flush=True)

        model = ht.Hymba(d, ht.init_weights(d, a.seed))
        nparams = sum(p.numel() for p in model.parameters())
        print(f"model: {nparams / 1e6:.2f} M parameters, {d.layers} layers, "
              f"hidden {d.hidden}", flush=True)
        decay = [p for n, p in model.weights().items() if p.dim() == 2
                 and n not in ("model.memory_tokens",)]
        other = [p for n, p in model.weights().items() if p.dim() != 2
                 or n == "model.memory_tokens"]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                                 {"params": other, "weight_decay": 0.0}],
                                lr=a.lr, betas=(0.9, 0.95))
        held_eval = held_ids[:a.eval_chunks * (a.seq - 1)]

        def held_loss(ids):
            with torch.no_grad():
                return ppl.mean_nll(model, ids, a.seq, sp.bos_id())

        t_train = time.time()
        for step in range(a.steps):
            for g in opt.param_groups:
                g["lr"] = lr_at(step, a.steps, a.lr, a.warmup)
            x, y = batches(train_ids, a.batch, a.seq, sp.bos_id(), rng)
            logits = model(x)
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, d.vocab), y.reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            if step % 10 == 0 or step == a.steps - 1:
                el = time.time() - t_train
                print(f"step {step:5d}/{a.steps} loss {loss.item():.3f} "
                      f"lr {opt.param_groups[0]['lr']:.2e} "
                      f"{(step + 1) / el:.2f} steps/s "
                      f"eta {el / (step + 1) * (a.steps - step - 1) / 60:.0f} min",
                      flush=True)
            if (step + 1) % a.eval_every == 0 or step == a.steps - 1:
                nll = held_loss(held_eval)
                print(f"held-out loss {nll:.4f} (ppl {math.exp(nll):.2f}) "
                      f"on {len(held_eval)} tokens", flush=True)
        train_s = time.time() - t_train

        # What ships is BF16: score the rounded weights on all held-out text.
        W = {n: st.quantize(p.detach().numpy(), "BF16")
             for n, p in model.weights().items()}
        model.load({n: torch.from_numpy(w).float() for n, w in W.items()})
        nll = held_loss(held_ids)
        n_scored = ppl.scored_tokens(len(held_ids), a.seq)
        print(f"final held-out loss {nll:.4f}, perplexity {math.exp(nll):.3f} "
              f"({n_scored} tokens, chunks of {a.seq}, BF16 weights); "
              f"training {train_s / 60:.1f} min", flush=True)
        readme = (
            f"# hymba-kjv\n\nA {nparams / 1e6:.1f} M-parameter Hymba trained by "
            f"`python/hymba_tools/train.py` (seed {a.seed}, {a.steps} steps of "
            f"{a.batch}x{a.seq} tokens, {a.threads} thread(s), "
            f"{train_s / 60:.0f} min on a 2-core CPU) on the King James Bible "
            f"(Debian `bible-kjv-text`, public domain), every "
            f"{HELD_OUT_EVERY}th chapter held out.\n\n"
            f"Held-out loss {nll:.4f} nats/token, perplexity {math.exp(nll):.3f} "
            f"({n_scored} tokens, {a.seq}-token chunks, BF16 weights).\n")
        write_checkpoint(model, cfg, tok, a.out, readme, held_text)
        print(f"wrote {a.out} ({time.time() - t0:.0f} s in all)", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
