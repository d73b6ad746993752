#!/usr/bin/env python3
"""What weight quantization costs in quality, on the shipped trained model.

  /usr/bin/python3 bench/quality.py [--build DIR] [--model models/hymba-kjv]
                                    [--ctx 128] [--tokens 4096]

Compiles the model with each --dtype (f32, bf16, int8, int4), and with
--compute=bf16 (bf16 dot products, inputs rounded to bf16) where this CPU
has AVX512_BF16 and --dtype=int8/int4 --compute=int8 (integer dot
products, inputs quantized to int8 per group) where it has VNNI or AVX2, and
prints, one row per build as it is measured:
  * the perplexity of the held-out text (heldout.txt, which training never
    saw) by `exe --perplexity --ctx CTX`, and its ratio to the f32 build's;
  * top-1 agreement: the share of positions whose next-token argmax equals
    the f32 build's, over the first --tokens tokens of the held-out text in
    prompts of CTX - 1 tokens after a BOS (logits of every prompt row from
    --logits-out);
  (row "bf16c": --compute=bf16, bf16 weights; rows "int8c" and "int4c":
  --compute=int8, int8 and int4 weights)
  * the weight bytes the executable stores (its parameter block) and the
    executable's size.
Nothing here needs ../shared; it needs numpy and sentencepiece.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import sentencepiece as spm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
from hymba_tools import target as hymba_target  # noqa: E402


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"{' '.join(cmd[:4])} ... failed ({r.returncode}):\n{r.stderr[-2000:]}")
    return r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "hymba-kjv"))
    ap.add_argument("--ctx", type=int, default=128)
    ap.add_argument("--tokens", type=int, default=4096)
    a = ap.parse_args()
    compiler = os.path.join(a.build, "bin", "hymba-compile")
    text = os.path.join(a.model, "heldout.txt")
    sp = spm.SentencePieceProcessor(model_file=os.path.join(a.model, "tokenizer.model"))
    with open(text) as f:
        ids = sp.encode(f.read())[:a.tokens]
    step = a.ctx - 1
    prompts = [ids[s:s + step] for s in range(0, len(ids) - 1, step)]
    print(f"model {a.model}: held-out text {len(ids)} tokens scored for top-1 "
          f"agreement in {len(prompts)} prompts of <= {step} tokens; perplexity over the "
          f"whole held-out text, chunks of {a.ctx}", flush=True)
    # int8/int4 rows with f32 compute by name (hymba-compile's default for
    # them is int8 compute where the CPU has integer dot products: rows
    # int8c, int4c, where the compiler says this machine runs them).
    builds = [(d, ["--dtype", d] + (["--compute=f32"] if d in ("int8", "int4") else []))
              for d in ("f32", "bf16", "int8", "int4")]
    facts = hymba_target.describe(compiler)
    no_bf16 = hymba_target.compute_obstacle(facts, "bf16")
    if not no_bf16:
        builds.append(("bf16c", ["--compute=bf16"]))
    else:
        print(f"no --compute=bf16 row: {no_bf16}", flush=True)
    no_int8 = hymba_target.compute_obstacle(facts, "int8")
    if not no_int8:
        builds.append(("int8c", ["--dtype", "int8", "--compute=int8"]))
        builds.append(("int4c", ["--dtype", "int4", "--compute=int8"]))
    else:
        print(f"no --compute=int8 row: {no_int8}", flush=True)
    print(f"{'build':<6} {'perplexity':>11} {'/ f32':>7} {'top-1 = f32':>12} "
          f"{'weights MB':>11} {'exe MB':>8}", flush=True)
    base_ppl, base_top = None, None
    with tempfile.TemporaryDirectory() as work:
        for dtype, flags in builds:
            exe = os.path.join(work, dtype)
            run([compiler, a.model, "-o", exe, *flags,
                 "--payload-layout", exe + ".json"])
            out = run([exe, "--perplexity", text, "--ctx", str(a.ctx)])
            ppl = float(re.search(r"^perplexity: ([0-9.]+)", out, re.M).group(1))
            tops = []
            for i, p in enumerate(prompts):
                npy = os.path.join(work, f"{dtype}-{i}.npy")
                run([exe, "--tokens", ",".join(map(str, [sp.bos_id()] + p)), "-n", "1",
                     "--ids", "--ignore-eos", "--logits-out", npy])
                tops.append(np.load(npy).argmax(-1))
            top = np.concatenate(tops)
            if base_ppl is None:
                base_ppl, base_top = ppl, top
            with open(exe + ".json") as f:
                params = int(re.search(r'"params_bytes": (\d+)', f.read()).group(1))
            print(f"{dtype:<6} {ppl:>11.4f} {ppl / base_ppl:>7.4f} "
                  f"{(top == base_top).mean():>12.4f} {params / 1e6:>11.2f} "
                  f"{os.path.getsize(exe) / 1e6:>8.2f}", flush=True)


if __name__ == "__main__":
    main()
