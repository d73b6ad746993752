"""Writes a random Hymba checkpoint with the official tensor names and shapes.

  /usr/bin/python3 -m hymba_tools.make_checkpoint --preset tiny --out DIR
      [--dtype bf16|f16|f32] [--shards N] [--untied] [--seed S]
      [--tokenizer PATH | --no-tokenizer] [--config FILE]

Weights are scaled so that activations stay O(1) through the layers and
greedy decoding produces varied tokens rather than echoing its input.
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np

from . import config as hc
from . import presets
from . import safetensors_io as st

DTYPES = {"bf16": "BF16", "f16": "F16", "f32": "F32"}


def random_weights(d: hc.HymbaDims, seed: int):
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in hc.tensor_shapes(d).items():
        if name.endswith("layernorm.weight") or "layernorm" in name:
            a = 1.0 + 0.1 * rng.standard_normal(shape)
        elif name.endswith("A_log.0"):
            a = np.log(np.tile(np.arange(1, shape[1] + 1), (shape[0], 1))) + \
                0.1 * rng.standard_normal(shape)
        elif name.endswith("D.0"):
            a = 1.0 + 0.1 * rng.standard_normal(shape)
        elif name.endswith("dt_proj.0.bias"):
            dt = np.exp(rng.uniform(np.log(1e-3), np.log(1e-1), shape))
            a = dt + np.log(-np.expm1(-dt))  # inverse softplus
        elif name.endswith("conv1d.bias"):
            a = 0.1 * rng.standard_normal(shape)
        elif name.endswith("conv1d.weight"):
            a = rng.standard_normal(shape) / np.sqrt(shape[-1])
        elif name == "model.embed_tokens.weight":
            # Small next to what the layers add, so the tied head does not
            # just predict the current token back.
            a = 0.3 * rng.standard_normal(shape)
        elif name == "model.memory_tokens":
            a = rng.standard_normal(shape)
        elif name == "lm_head.weight":
            a = rng.standard_normal(shape) / np.sqrt(shape[1])
        else:  # Linear [out, in]
            a = rng.standard_normal(shape) / np.sqrt(shape[1])
        out[name] = a.astype(np.float32)
    return out


def write_checkpoint(cfg: dict, out_dir: str, dtype="f32", shards=1, seed=0,
                     tokenizer=None):
    d = hc.dims_from_config(cfg)
    weights = random_weights(d, seed)
    tmp = out_dir.rstrip("/") + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    cfg = dict(cfg, torch_dtype={"bf16": "bfloat16", "f16": "float16",
                                 "f32": "float32"}[dtype])
    with open(os.path.join(tmp, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    sd = DTYPES[dtype]
    names = list(weights)
    if shards <= 1:
        st.write(os.path.join(tmp, "model.safetensors"), weights, sd)
    else:
        weight_map = {}
        per = (len(names) + shards - 1) // shards
        for s in range(shards):
            fn = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
            part = {n: weights[n] for n in names[s * per:(s + 1) * per]}
            st.write(os.path.join(tmp, fn), part, sd)
            weight_map.update({n: fn for n in part})
        with open(os.path.join(tmp, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {}, "weight_map": weight_map}, f, indent=1)
    if tokenizer:
        shutil.copy(tokenizer, os.path.join(tmp, "tokenizer.model"))
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)
    return out_dir


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="tiny",
                    help="one of %s" % ", ".join(presets.PRESETS))
    ap.add_argument("--config", help="a config.json to use instead of a preset")
    ap.add_argument("--out", required=True)
    ap.add_argument("--dtype", choices=DTYPES, default="f32")
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--untied", action="store_true",
                    help="tie_word_embeddings=false with its own lm_head.weight")
    ap.add_argument("--tokenizer", help="tokenizer.model to include")
    a = ap.parse_args(argv)
    if a.config:
        with open(a.config) as f:
            cfg = json.load(f)
    else:
        cfg = presets.preset(a.preset)
    if a.untied:
        cfg["tie_word_embeddings"] = False
    write_checkpoint(cfg, a.out, a.dtype, a.shards, a.seed, a.tokenizer)
    print(f"wrote {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
