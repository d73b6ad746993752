"""Independent float64 reference of the Hymba forward pass.

Follows shared/hymba/SPEC.md section 3 (the no-cache `model(ids)` forward)
with the semantics of DECISIONS.md: a sliding-window layer lets position i
see meta tokens plus positions i-W .. i. Everything is float64; weights are
the values stored in the checkpoint (so BF16 rounding is part of the model).

  /usr/bin/python3 -m hymba_tools.reference CKPT --tokens 1,2,3 --out logits.npy
"""
import argparse
import sys

import numpy as np

from . import config as hc
from . import quantize as quant
from . import safetensors_io as st


def rms_norm(x, w, eps):
    return w * (x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps))


def silu(x):
    return x / (1.0 + np.exp(-x))


def softplus(x):
    return np.where(x > 20.0, x, np.log1p(np.exp(np.minimum(x, 20.0))))


def rope(x, positions, base, head_dim):
    """x: [L, heads*head_dim]; half-rotation convention."""
    L = x.shape[0]
    h = x.reshape(L, -1, head_dim)
    half = head_dim // 2
    inv = 1.0 / base ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    ang = positions[:, None] * inv[None, :]
    cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    a, b = h[..., :half], h[..., half:]
    return np.concatenate([a * cos - b * sin, b * cos + a * sin], -1).reshape(L, -1)


def attention_mask(L, window, num_meta):
    i = np.arange(L)[:, None]
    j = np.arange(L)[None, :]
    allowed = j <= i
    if window is not None:
        allowed &= (i - j <= window) | (j < num_meta)
    return allowed


def attention(q, k, v, d: hc.HymbaDims, mask):
    L = q.shape[0]
    qh = q.reshape(L, d.heads, d.head_dim)
    kh = k.reshape(L, d.kv_heads, d.head_dim)
    vh = v.reshape(L, d.kv_heads, d.v_head_dim)
    rep = d.heads // d.kv_heads
    out = np.empty((L, d.heads, d.v_head_dim))
    for h in range(d.heads):
        s = (qh[:, h, :] @ kh[:, h // rep, :].T) / np.sqrt(d.head_dim)
        s = np.where(mask, s, -np.inf)
        s = s - s.max(axis=1, keepdims=True)
        p = np.exp(s)
        p /= p.sum(axis=1, keepdims=True)
        out[:, h, :] = p @ vh[:, h // rep, :]
    return out.reshape(L, -1)


def causal_conv_silu(x, w, b):
    """x: [L, C]; w: [C, 1, K]; the last tap multiplies the current row."""
    L, C = x.shape
    K = w.shape[-1]
    xp = np.concatenate([np.zeros((K - 1, C)), x], 0)
    y = np.zeros((L, C)) + (b if b is not None else 0.0)
    for k in range(K):
        y += w[:, 0, k] * xp[k:k + L]
    return silu(y)


def selective_scan(u, delta, A, B, C, D, z):
    L, E = u.shape
    h = np.zeros((E, A.shape[1]))
    y = np.empty((L, E))
    for t in range(L):
        h = np.exp(delta[t][:, None] * A) * h + (delta[t] * u[t])[:, None] * B[t][None, :]
        y[t] = h @ C[t] + D * u[t]
    return y * silu(z)


def round_to_bf16(x):
    """x rounded to bf16 (via f32, to nearest even), as float64: what
    hymba-compile --compute=bf16 multiplies the projection weights with."""
    bits = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    out = bits.astype(np.uint32).view(np.float32).astype(np.float64)
    return np.where(np.isnan(x), x, out)


def quantize_int8_input(x, group):
    """What hymba-compile --compute=int8 multiplies the int8 weights with:
    x quantized per row and group (quantize.quantize_activations), where
    the integer kernels apply: K a multiple of 4 (other projections keep
    f32 inputs)."""
    return quant.quantize_activations(x, group) if x.shape[1] % 4 == 0 else x


def forward(W, d: hc.HymbaDims, ids, compute="f32", group=32):
    """Logits [T, vocab] of model(ids), float64. compute="bf16": every
    projection's input rounded to bf16 first (hymba-compile --compute=bf16);
    compute="int8": quantized to int8 per `group` inputs (--compute=int8,
    with W's projections already quantized); the products and sums stay
    float64."""
    ids = np.asarray(ids, dtype=np.int64)
    if compute == "bf16":
        rnd = round_to_bf16
    elif compute == "int8":
        def rnd(x):
            return quantize_int8_input(x, group)
    else:
        def rnd(x):
            return x
    M = d.num_meta
    e = W["model.embed_tokens.weight"][ids]
    h = np.concatenate([W["model.memory_tokens"], e], 0) if M else e
    L = h.shape[0]
    pos = np.arange(L, dtype=np.float64)
    masks = {g: attention_mask(L, None if g else d.window, M) for g in (True, False)}
    E, qw = d.d_inner, d.heads * d.head_dim
    kw, vw = d.kv_heads * d.head_dim, d.kv_heads * d.v_head_dim
    kv = {}
    for i in range(d.layers):
        p = f"model.layers.{i}."
        a = rms_norm(h, W[p + "input_layernorm.weight"], d.eps)
        P = rnd(a) @ W[p + "mamba.in_proj.weight"].T
        q = P[:, :qw]
        if d.owns_kv(i):
            k, v = P[:, qw:qw + kw], P[:, qw + kw:qw + kw + vw]
            if d.rope:
                k = rope(k, pos, d.rope_base, d.head_dim)
            kv[i] = (k, v)
        else:
            k, v = kv[d.kv_source(i)]
        x, z = P[:, -2 * E:-E], P[:, -E:]
        if d.rope:
            q = rope(q, pos, d.rope_base, d.head_dim)
        att = attention(q, k, v, d, masks[d.is_global(i)])
        cb = W.get(p + "mamba.conv1d.bias")
        u = causal_conv_silu(x, W[p + "mamba.conv1d.weight"], cb)
        xp = rnd(u) @ W[p + "mamba.x_proj.0.weight"].T
        R, N = d.dt_rank, d.d_state
        dtr = rms_norm(xp[:, :R], W[p + "mamba.dt_layernorm.weight"], d.eps)
        Bm = rms_norm(xp[:, R:R + N], W[p + "mamba.B_layernorm.weight"], d.eps)
        Cm = rms_norm(xp[:, R + N:], W[p + "mamba.C_layernorm.weight"], d.eps)
        delta = softplus(rnd(dtr) @ W[p + "mamba.dt_proj.0.weight"].T + W[p + "mamba.dt_proj.0.bias"])
        A = -np.exp(W[p + "mamba.A_log.0"])
        s = selective_scan(u, delta, A, Bm, Cm, W[p + "mamba.D.0"], z)
        o = (rms_norm(att, W[p + "mamba.pre_avg_layernorm1.weight"], d.eps) +
             rms_norm(s, W[p + "mamba.pre_avg_layernorm2.weight"], d.eps)) / 2
        h = h + rnd(o) @ W[p + "mamba.out_proj.weight"].T
        m = rms_norm(h, W[p + "pre_moe_layernorm.weight"], d.eps)
        g = rnd(m) @ W[p + "moe.experts.0.gate_proj.weight"].T
        up = rnd(m) @ W[p + "moe.experts.0.up_proj.weight"].T
        h = h + rnd(silu(g) * up) @ W[p + "moe.experts.0.down_proj.weight"].T
    h = rms_norm(h, W["model.final_layernorm.weight"], d.eps)[M:]
    head = W["model.embed_tokens.weight"] if d.tied else W["lm_head.weight"]
    return rnd(h) @ head.T


def greedy(W, d, prompt, n):
    """Greedy continuation by repeated full forwards (DECISIONS.md 1)."""
    seq = list(prompt)
    for _ in range(n):
        seq.append(int(np.argmax(forward(W, d, seq)[-1])))
    return seq[len(prompt):]


def main(argv=None):
    ap = argparse.ArgumentParser(description="float64 Hymba reference")
    ap.add_argument("ckpt")
    ap.add_argument("--tokens", required=True, help="comma-separated ids")
    ap.add_argument("--out", help="write logits [T, vocab] as float64 .npy")
    ap.add_argument("--greedy", type=int, default=0, help="print N greedy ids")
    a = ap.parse_args(argv)
    d = hc.load_dims(a.ckpt)
    W = st.read_checkpoint(a.ckpt)
    ids = [int(t) for t in a.tokens.split(",")]
    if a.out:
        np.save(a.out, forward(W, d, ids))
    if a.greedy:
        print(" ".join(map(str, greedy(W, d, ids, a.greedy))))


if __name__ == "__main__":
    sys.exit(main())
