"""The benchmark model: its config, its checkpoint, and what it computes.

- `config(name)`: the config.json dict of a `hymba_tools.presets` preset
  ('hymba-1.5b' is the shape of nvidia/Hymba-1.5B-Base, built in).
- `ensure_checkpoint(name, work)`: generates the random BF16 checkpoint once
  (out/bench/<name>-bf16) in a child process
  (`python -m hymba_tools.make_checkpoint --config`), so the benchmark
  process itself never holds the model.
- `projections(d)`: every distinct projection shape (N x K) of the model,
  with how many times one forward pass uses it.
- `prefill_flops(d, T)`, `decode_bytes(d, wbytes)`: the work counts behind
  the GFLOP/s and GB/s figures.
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
from hymba_tools import config as hc  # noqa: E402
from hymba_tools import presets  # noqa: E402
from hymba_tools import quantize  # noqa: E402


def config(name):
    """The config dict of a preset name ('hymba-1.5b', 'demo', ...)."""
    return presets.get(name)


def ensure_checkpoint(name, work):
    """The BF16 checkpoint directory of preset `name`, generated if absent."""
    ck = os.path.join(work, f"{name}-bf16")
    if os.path.exists(os.path.join(ck, "config.json")):
        return ck
    os.makedirs(work, exist_ok=True)
    cfg_path = os.path.join(work, f"{name}.config.json")
    with open(cfg_path, "w") as f:
        json.dump(config(name), f, indent=1)
    print(f"generating {ck} (random weights, BF16; once) ...", flush=True)
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    subprocess.run([sys.executable, "-m", "hymba_tools.make_checkpoint",
                    "--config", cfg_path, "--dtype", "bf16", "--out", ck],
                   env=env, check=True)
    return ck


def projections(d):
    """[(name, N, K, uses per forward)] for every distinct projection shape."""
    shapes = {}

    def add(name, n, k, count=1):
        key = (n, k)
        if key in shapes:
            old = shapes[key]
            shapes[key] = (old[0] if name in old[0] else old[0] + "+" + name,
                           n, k, old[3] + count)
        else:
            shapes[key] = (name, n, k, count)

    E = d.d_inner
    for i in range(d.layers):
        add("in_proj" + ("" if d.owns_kv(i) else " (shared KV)"),
            d.in_proj_rows(i), d.hidden)
        add("x_proj", d.dt_rank + 2 * d.d_state, E)
        add("dt_proj", E, d.dt_rank)
        add("out_proj", d.hidden, E)
        add("gate/up", d.inter, d.hidden, 2)
        add("down", d.hidden, d.inter)
    add("lm_head", d.vocab, d.hidden)
    return list(shapes.values())


def projection_params(d):
    """Weights of all projections of one forward pass (lm_head included)."""
    return sum(n * k * c for _, n, k, c in projections(d))


def head_params(d):
    """Weights of the output head (lm_head, or the tied embedding table)."""
    return d.vocab * d.hidden


def prefill_flops(d, tokens):
    """2 x projection weights x tokens for every projection but the output
    head, which a prefill (ours and the PyTorch baseline) applies to the
    last row only: 2 x its weights, once. Attention and the scan are not
    counted."""
    head = head_params(d)
    return 2.0 * (projection_params(d) - head) * tokens + 2.0 * head


def decode_bytes(d, wbytes):
    """Weight bytes one decode step reads: every parameter except the meta
    tokens (folded), at `wbytes` per weight; the tied head reads the whole
    embedding table, so it counts once. KV cache and state reads are not
    counted."""
    n = sum(_size(s) for name, s in hc.tensor_shapes(d).items()
            if name != "model.memory_tokens")
    return n * wbytes


def decode_state_bytes(d, position):
    """Bytes a decode step at absolute position `position` (0-based, meta
    tokens included) moves beside the weights: every layer's attention reads
    the K and V rows it sees (f32; a sliding-window layer the meta prefix and
    the W + 1 rows of its window, a global layer every row), and its scan
    reads and writes the SSM state and the conv window (f32). These grow with
    the context: after a 512-token prompt they are some 10% of an int4
    step's bytes on the 1.5B shape."""
    row = d.kv_heads * (d.head_dim + d.v_head_dim) * 4
    total = 0
    for layer in range(d.layers):
        if d.is_global(layer):
            keys = position + 1
        else:
            lo = max(position - d.window, 0)
            keys = min(d.num_meta, lo) + position - lo + 1
        total += keys * row
        total += 2 * 4 * d.d_inner * (d.d_state + d.d_conv - 1)
    return total


def decode_bytes_for(d, dtype, group=32):
    """decode_bytes for a --dtype build: f32 and bf16 store every weight at 4
    and 2 bytes; int8 and int4 store the projections (and the embedding
    table) at 1 and 1/2 byte plus a 2-byte bf16 scale per `group` weights,
    and everything else at 4 bytes (hymba_tools/quantize.py)."""
    if dtype in ("f32", "bf16"):
        return decode_bytes(d, 4 if dtype == "f32" else 2)
    per = {"int8": 1.0, "int4": 0.5}[dtype] + 2.0 / group
    total = 0
    for name, shape in hc.tensor_shapes(d).items():
        if name == "model.memory_tokens":
            continue
        total += _size(shape) * (per if quantize.is_projection(name) else 4)
    return total


def _size(shape):
    out = 1
    for v in shape:
        out *= v
    return out
