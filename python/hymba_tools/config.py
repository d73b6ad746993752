"""Reads a Hymba config.json the way the official HF code interprets it."""
import json
import math
from dataclasses import dataclass, field
from typing import List, Optional


@dataclass
class HymbaDims:
    vocab: int
    hidden: int
    inter: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int          # q/k head dim
    v_head_dim: int
    d_inner: int           # SSM channels = attention output width
    dt_rank: int
    d_state: int
    d_conv: int
    num_meta: int
    eps: float
    window: Optional[int]  # None: every layer global
    global_layers: List[int]
    kv_groups: List[List[int]]
    rope: bool
    rope_base: float       # effective base (NTK applied)
    tied: bool
    conv_bias: bool = True
    raw: dict = field(default_factory=dict)

    def kv_source(self, layer):
        """Layer whose K/V `layer` uses (itself for owners)."""
        for g in self.kv_groups:
            if layer in g[1:]:
                return g[0]
        return layer

    def owns_kv(self, layer):
        return self.kv_source(layer) == layer

    def is_global(self, layer):
        return self.window is None or layer in self.global_layers

    def in_proj_rows(self, layer):
        q = self.heads * self.head_dim
        kv = self.kv_heads * (self.head_dim + self.v_head_dim)
        return q + (kv if self.owns_kv(layer) else 0) + 2 * self.d_inner


def ntk_base(theta, head_dim, max_pos, orig_max):
    # Static NTK with factor 2, as the official code hard-wires (SPEC 3.4.1).
    return theta * (2.0 * max_pos / orig_max - 1.0) ** (head_dim / (head_dim - 2))


def dims_from_config(cfg: dict) -> HymbaDims:
    hidden = cfg["hidden_size"]
    heads = cfg["num_attention_heads"]
    attn_hidden = cfg.get("attn_hidden_size", -1)
    attn_hidden = hidden if attn_hidden in (-1, None) else attn_hidden
    kq = cfg.get("kq_head_dim", -1)
    head_dim = attn_hidden // heads if kq in (-1, None) else kq
    expand = cfg.get("mamba_expand", 2)
    d_inner = expand * hidden
    dt_rank = cfg.get("mamba_dt_rank", "auto")
    if dt_rank == "auto":
        dt_rank = math.ceil(hidden / 16)
    window = cfg.get("sliding_window")
    rope_type = cfg.get("rope_type", "default")
    theta = cfg.get("rope_theta", 10000.0)
    max_pos = cfg.get("max_position_embeddings", 2048)
    orig = cfg.get("orig_max_position_embeddings") or max_pos
    base = ntk_base(theta, head_dim, max_pos, orig) if rope_type == "ntk" else theta
    return HymbaDims(
        vocab=cfg["vocab_size"], hidden=hidden, inter=cfg["intermediate_size"],
        layers=cfg["num_hidden_layers"], heads=heads,
        kv_heads=cfg.get("num_key_value_heads", heads), head_dim=head_dim,
        v_head_dim=d_inner // heads, d_inner=d_inner, dt_rank=dt_rank,
        d_state=cfg.get("mamba_d_state", 16), d_conv=cfg.get("mamba_d_conv", 4),
        num_meta=cfg.get("num_memory_tokens", 0) or 0,
        eps=cfg.get("rms_norm_eps", 1e-6), window=window,
        global_layers=list(cfg.get("global_attn_idx") or []),
        kv_groups=[list(g) for g in (cfg.get("kv_reuse_group") or [])],
        rope=cfg.get("rope", True), rope_base=base,
        tied=cfg.get("tie_word_embeddings", True),
        conv_bias=cfg.get("mamba_conv_bias", True), raw=cfg)


def load_dims(ckpt_dir) -> HymbaDims:
    with open(f"{ckpt_dir}/config.json") as f:
        return dims_from_config(json.load(f))


def tensor_shapes(d: HymbaDims):
    """Official tensor names and shapes (SPEC.md section 2)."""
    shapes = {
        "model.embed_tokens.weight": (d.vocab, d.hidden),
        "model.final_layernorm.weight": (d.hidden,),
    }
    if d.num_meta:
        shapes["model.memory_tokens"] = (d.num_meta, d.hidden)
    if not d.tied:
        shapes["lm_head.weight"] = (d.vocab, d.hidden)
    for i in range(d.layers):
        p = f"model.layers.{i}."
        E = d.d_inner
        shapes.update({
            p + "input_layernorm.weight": (d.hidden,),
            p + "pre_moe_layernorm.weight": (d.hidden,),
            p + "moe.experts.0.gate_proj.weight": (d.inter, d.hidden),
            p + "moe.experts.0.up_proj.weight": (d.inter, d.hidden),
            p + "moe.experts.0.down_proj.weight": (d.hidden, d.inter),
            p + "mamba.in_proj.weight": (d.in_proj_rows(i), d.hidden),
            p + "mamba.out_proj.weight": (d.hidden, E),
            p + "mamba.conv1d.weight": (E, 1, d.d_conv),
            p + "mamba.conv1d.bias": (E,),
            p + "mamba.x_proj.0.weight": (d.dt_rank + 2 * d.d_state, E),
            p + "mamba.dt_proj.0.weight": (E, d.dt_rank),
            p + "mamba.dt_proj.0.bias": (E,),
            p + "mamba.A_log.0": (E, d.d_state),
            p + "mamba.D.0": (E,),
            p + "mamba.dt_layernorm.weight": (d.dt_rank,),
            p + "mamba.B_layernorm.weight": (d.d_state,),
            p + "mamba.C_layernorm.weight": (d.d_state,),
            p + "mamba.pre_avg_layernorm1.weight": (E,),
            p + "mamba.pre_avg_layernorm2.weight": (E,),
        })
    return shapes
