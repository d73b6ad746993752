"""Perplexity of a checkpoint on a text, chunked the way `exe --perplexity` is.

  /usr/bin/python3 -m hymba_tools.perplexity CKPT FILE [--ctx 128]

The text is tokenized whole (no BOS) and cut into chunks of ctx-1 tokens
(the last one may be shorter). Each chunk runs as a fresh sequence after a
BOS, and every token of it is scored: the loss of token j is -log p(token j |
BOS, tokens before j in the chunk). Perplexity is exp(mean loss) over all
scored tokens. Logits are float32 (the executable's compute type); the loss is
summed in float64.
"""
import argparse
import math
import sys

import numpy as np
import torch


def chunks(n, ctx):
    """[start, end) of each chunk of a stream of n tokens."""
    step = ctx - 1
    return [(s, min(s + step, n)) for s in range(0, n, step)]


def scored_tokens(n, ctx):
    return n


def chunk_nlls(model, ids, ctx, bos, batch=8):
    """Summed NLL (float64) and token count of each chunk, in order."""
    out = []
    spans = chunks(len(ids), ctx)
    with torch.no_grad():
        for i in range(0, len(spans), batch):
            group = spans[i:i + batch]
            # Chunks of equal length batch together; only the last is short.
            for size in sorted({e - s for s, e in group}, reverse=True):
                sel = [(s, e) for s, e in group if e - s == size]
                x = torch.tensor([[bos] + list(ids[s:e - 1]) for s, e in sel])
                y = torch.tensor([list(ids[s:e]) for s, e in sel])
                lp = torch.log_softmax(model(x).double(), -1)
                nll = -lp.gather(-1, y.unsqueeze(-1)).squeeze(-1).sum(-1)
                out.extend((s, float(v), size) for (s, _), v in zip(sel, nll))
    out.sort()
    return [(v, n) for _, v, n in out]


def mean_nll(model, ids, ctx, bos):
    per = chunk_nlls(model, ids, ctx, bos)
    return sum(v for v, _ in per) / sum(n for _, n in per)


def main(argv=None):
    from . import config as hc
    from . import hymba_torch as ht
    from . import safetensors_io as st
    import sentencepiece as spm
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ckpt")
    ap.add_argument("file")
    ap.add_argument("--ctx", type=int, default=128,
                    help="tokens a chunk holds, BOS included (default 128)")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    if a.ctx < 2:
        sys.exit("perplexity: --ctx must be at least 2")
    torch.set_num_threads(a.threads)
    d = hc.load_dims(a.ckpt)
    model = ht.Hymba(d, {n: torch.from_numpy(w).float() for n, w in
                         st.read_checkpoint(a.ckpt).items()})
    sp = spm.SentencePieceProcessor(model_file=f"{a.ckpt}/tokenizer.model")
    with open(a.file, encoding="utf-8") as f:
        ids = sp.encode(f.read())
    if not ids:
        sys.exit(f"perplexity: {a.file} has no tokens")
    total, count = 0.0, 0
    for i, (v, n) in enumerate(chunk_nlls(model, ids, a.ctx, sp.bos_id())):
        total, count = total + v, count + n
        print(f"[{i + 1}] {math.exp(total / count):.4f}", flush=True)
    print(f"perplexity: {math.exp(total / count):.6f} over {count} tokens "
          f"in chunks of {a.ctx}")


if __name__ == "__main__":
    main()
