"""The benchmark model: its config, its checkpoint, and what it computes.

- `config(name)`: the config.json dict. 'hymba-1.5b' comes from
  `hymba_tools.presets.preset`; if that fails (a clone without ../shared)
  the official Hymba-1.5B-Base numbers embedded below are used.
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

# nvidia/Hymba-1.5B-Base config.json (the keys the importer and the
# reference read, with their official values).
HYMBA_1P5B = {
    "architectures": ["HymbaForCausalLM"], "model_type": "hymba",
    "attention_dropout": 0.0, "attn_hidden_size": -1,
    "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0,
    "calc_logits_for_entire_prompt": False,
    "conv_dim": {str(i): 3200 for i in range(32)},
    "global_attn_idx": [0, 15, 31], "hidden_act": "silu", "hidden_size": 1600,
    "initializer_range": 0.02, "intermediate_size": 5504, "kq_head_dim": -1,
    "kq_norm": "none", "kv_reuse_every_i_layer": -1,
    "kv_reuse_group": [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10], [11, 12],
                       [13, 14], [16, 17, 18], [19, 20], [21, 22], [23, 24],
                       [25, 26], [27, 28], [29, 30]],
    "kv_weight_reuse": False, "layer_type": ["h"] * 32,
    "mamba_conv_bias": True, "mamba_d_conv": 4, "mamba_d_state": 16,
    "mamba_dt_rank": 100, "mamba_expand": 2, "mamba_inner_layernorms": True,
    "mamba_proj_bias": False, "max_position_embeddings": 8192,
    "memory_tokens_interspersed_every": 0, "mlp_hidden_act": "silu",
    "num_attention_heads": 25, "num_experts": 1, "num_experts_per_tok": 1,
    "num_hidden_layers": 32, "num_key_value_heads": 5, "num_mamba": 1,
    "num_memory_tokens": 128, "orig_max_position_embeddings": 2048,
    "rms_norm_eps": 1e-06, "rope": True, "rope_theta": 10000.0,
    "rope_type": "ntk", "seq_length": 8192, "sliding_window": 1024,
    "tie_word_embeddings": True, "torch_dtype": "bfloat16",
    "use_cache": False, "use_mamba_kernels": True, "v_head_dim": 128,
    "vocab_size": 32001,
}


def config(name):
    """The config dict of a preset name ('hymba-1.5b', 'demo', ...)."""
    from hymba_tools import presets
    try:
        return presets.preset(name)
    except (OSError, KeyError, ValueError) as e:
        if name != "hymba-1.5b":
            raise
        print(f"note: presets.preset('hymba-1.5b') failed ({e}); "
              "using the config embedded in bench/model.py", flush=True)
        return json.loads(json.dumps(HYMBA_1P5B))


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


def prefill_flops(d, tokens):
    """2 x projection weights x tokens: every projection, lm_head included
    (our executable computes the logits of every prompt row). Attention
    and the scan are not counted."""
    return 2.0 * projection_params(d) * tokens


def decode_bytes(d, wbytes):
    """Weight bytes one decode step reads: every parameter except the meta
    tokens (folded), at `wbytes` per weight; the tied head reads the whole
    embedding table, so it counts once. KV cache and state reads are not
    counted."""
    n = sum(_size(s) for name, s in hc.tensor_shapes(d).items()
            if name != "model.memory_tokens")
    return n * wbytes


def _size(shape):
    out = 1
    for v in shape:
        out *= v
    return out
