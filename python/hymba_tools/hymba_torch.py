"""The Hymba forward pass in PyTorch, for training and for perplexity.

The same math as reference.py (a test holds them together in float64), but
batched and differentiable. Parameters keep the official checkpoint names,
so `weights()` is a checkpoint and `load()` takes one.
"""
import math

import torch
import torch.nn.functional as F

from . import config as hc


def rms_norm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rope(x, positions, base, head_dim):
    """x: [B, L, heads*head_dim]; half-rotation convention (reference.rope)."""
    B, L, _ = x.shape
    h = x.view(B, L, -1, head_dim)
    half = head_dim // 2
    inv = 1.0 / base ** (torch.arange(0, head_dim, 2, dtype=torch.float64)
                         / head_dim)
    ang = positions.to(torch.float64)[:, None] * inv[None, :]
    cos = torch.cos(ang).to(x.dtype)[None, :, None, :]
    sin = torch.sin(ang).to(x.dtype)[None, :, None, :]
    a, b = h[..., :half], h[..., half:]
    return torch.cat([a * cos - b * sin, b * cos + a * sin], -1).view(B, L, -1)


def attention_mask(L, window, num_meta):
    i = torch.arange(L)[:, None]
    j = torch.arange(L)[None, :]
    allowed = j <= i
    if window is not None:
        allowed &= (i - j <= window) | (j < num_meta)
    return allowed


class _SelectiveScan(torch.autograd.Function):
    """y[t] = h[t] @ C[t], h[t] = exp(delta[t] A) * h[t-1] + x[t] B[t]^T.

    delta, x: [L, B, E]; A: [E, N]; Bm, Cm: [L, B, N] (time-major) -> y
    [L, B, E]. Forward and backward (a reverse recurrence) go one time step
    at a time on [B, E, N] tensors that stay in cache, instead of building
    [L, B, E, N] decay and input tensors and letting autograd walk L steps
    over them: training spent most of its time there.
    """

    @staticmethod
    def forward(ctx, delta, A, x, Bm, Cm):
        L, B, E = x.shape
        H = x.new_empty(L, B, E, A.shape[1])
        h = x.new_zeros(B, E, A.shape[1])
        for t in range(L):
            a = torch.exp(delta[t].unsqueeze(-1) * A)
            h = torch.addcmul(x[t].unsqueeze(-1) * Bm[t].unsqueeze(1), a, h,
                              out=H[t])
        ctx.save_for_backward(delta, A, x, Bm, Cm, H)
        return torch.einsum("lben,lbn->lbe", H, Cm)

    @staticmethod
    def backward(ctx, gy):
        delta, A, x, Bm, Cm, H = ctx.saved_tensors
        gdelta, gx, gB = (torch.zeros_like(v) for v in (delta, x, Bm))
        gA = torch.zeros_like(A)
        gC = torch.einsum("lben,lbe->lbn", H, gy)
        carry = torch.zeros_like(H[0])  # d loss / d h[t] through h[t+1]
        for t in range(x.shape[0] - 1, -1, -1):
            g = torch.addcmul(carry, gy[t].unsqueeze(-1), Cm[t].unsqueeze(1))
            gx[t] = (g * Bm[t].unsqueeze(1)).sum(-1)
            gB[t] = (g * x[t].unsqueeze(-1)).sum(1)
            a = torch.exp(delta[t].unsqueeze(-1) * A)
            if t > 0:
                gexp = g * H[t - 1] * a  # d loss / d (delta[t] A)
                gdelta[t] = (gexp * A).sum(-1)
                gA += (gexp * delta[t].unsqueeze(-1)).sum(0)
            carry = a * g
        return gdelta, gA, gx, gB, gC


def selective_scan(u, delta, A, Bm, Cm, D, z):
    """u, delta, z: [B, L, E]; A: [E, N]; Bm, Cm: [B, L, N]."""
    tm = lambda v: v.transpose(0, 1).contiguous()  # noqa: E731 time-major
    y = _SelectiveScan.apply(tm(delta), A, tm(delta * u), tm(Bm), tm(Cm))
    return (y.transpose(0, 1) + D * u) * F.silu(z)


class Hymba(torch.nn.Module):
    def __init__(self, d: hc.HymbaDims, weights=None, seed=0):
        super().__init__()
        self.d = d
        self.names = list(hc.tensor_shapes(d))
        init = weights if weights is not None else init_weights(d, seed)
        self.params = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.as_tensor(init[n]).clone())
             for n in self.names])

    def load(self, weights):
        with torch.no_grad():
            for n, p in zip(self.names, self.params):
                p.copy_(torch.as_tensor(weights[n]))

    def weights(self):
        """Official name -> tensor (the live parameters)."""
        return dict(zip(self.names, self.params))

    def forward(self, ids):
        """ids: [B, T] int64 -> logits [B, T, vocab] of model(ids)."""
        d, W = self.d, self.weights()
        M = d.num_meta
        B, T = ids.shape
        h = F.embedding(ids, W["model.embed_tokens.weight"])
        if M:
            h = torch.cat([W["model.memory_tokens"].expand(B, M, d.hidden), h], 1)
        L = h.shape[1]
        pos = torch.arange(L)
        masks = {g: attention_mask(L, None if g else d.window, M)
                 for g in (True, False)}
        E, qw = d.d_inner, d.heads * d.head_dim
        kw, vw = d.kv_heads * d.head_dim, d.kv_heads * d.v_head_dim
        rep = d.heads // d.kv_heads
        kv = {}
        for i in range(d.layers):
            p = f"model.layers.{i}."
            a = rms_norm(h, W[p + "input_layernorm.weight"], d.eps)
            P = a @ W[p + "mamba.in_proj.weight"].t()
            q = P[..., :qw]
            if d.owns_kv(i):
                k, v = P[..., qw:qw + kw], P[..., qw + kw:qw + kw + vw]
                if d.rope:
                    k = rope(k, pos, d.rope_base, d.head_dim)
                kv[i] = (k, v)
            else:
                k, v = kv[d.kv_source(i)]
            x, z = P[..., -2 * E:-E], P[..., -E:]
            if d.rope:
                q = rope(q, pos, d.rope_base, d.head_dim)
            qh = q.view(B, L, d.heads, d.head_dim).transpose(1, 2)
            kh = k.view(B, L, d.kv_heads, d.head_dim).transpose(1, 2)
            vh = v.reshape(B, L, d.kv_heads, d.v_head_dim).transpose(1, 2)
            kh = kh.repeat_interleave(rep, 1)
            vh = vh.repeat_interleave(rep, 1)
            s = (qh @ kh.transpose(-1, -2)) / math.sqrt(d.head_dim)
            s = s.masked_fill(~masks[d.is_global(i)], float("-inf"))
            att = (torch.softmax(s, -1) @ vh).transpose(1, 2).reshape(B, L, E)
            cb = W.get(p + "mamba.conv1d.bias")
            u = F.conv1d(x.transpose(1, 2), W[p + "mamba.conv1d.weight"], cb,
                         padding=d.d_conv - 1, groups=E)[..., :L]
            u = F.silu(u).transpose(1, 2)
            xp = u @ W[p + "mamba.x_proj.0.weight"].t()
            R, N = d.dt_rank, d.d_state
            dtr = rms_norm(xp[..., :R], W[p + "mamba.dt_layernorm.weight"], d.eps)
            Bm = rms_norm(xp[..., R:R + N], W[p + "mamba.B_layernorm.weight"], d.eps)
            Cm = rms_norm(xp[..., R + N:], W[p + "mamba.C_layernorm.weight"], d.eps)
            delta = F.softplus(dtr @ W[p + "mamba.dt_proj.0.weight"].t()
                               + W[p + "mamba.dt_proj.0.bias"])
            A = -torch.exp(W[p + "mamba.A_log.0"])
            y = selective_scan(u, delta, A, Bm, Cm, W[p + "mamba.D.0"], z)
            o = (rms_norm(att, W[p + "mamba.pre_avg_layernorm1.weight"], d.eps) +
                 rms_norm(y, W[p + "mamba.pre_avg_layernorm2.weight"], d.eps)) / 2
            h = h + o @ W[p + "mamba.out_proj.weight"].t()
            m = rms_norm(h, W[p + "pre_moe_layernorm.weight"], d.eps)
            g = m @ W[p + "moe.experts.0.gate_proj.weight"].t()
            up = m @ W[p + "moe.experts.0.up_proj.weight"].t()
            h = h + (F.silu(g) * up) @ W[p + "moe.experts.0.down_proj.weight"].t()
        h = rms_norm(h, W["model.final_layernorm.weight"], d.eps)[:, M:]
        head = W["model.embed_tokens.weight"] if d.tied else W["lm_head.weight"]
        return h @ head.t()


def init_weights(d: hc.HymbaDims, seed: int):
    """Training initialization: small projections, residual outputs scaled by
    depth, and Mamba's usual A/D/dt initialization."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    resid = 1.0 / math.sqrt(2 * d.layers)
    for name, shape in hc.tensor_shapes(d).items():
        if "layernorm" in name or name.endswith("D.0"):
            a = torch.ones(shape)
        elif name.endswith("A_log.0"):
            a = torch.log(torch.arange(1, shape[1] + 1, dtype=torch.float32)
                          ).repeat(shape[0], 1)
        elif name.endswith("dt_proj.0.bias"):
            lo, hi = math.log(1e-3), math.log(1e-1)
            dt = torch.exp(lo + (hi - lo) * torch.rand(shape, generator=g))
            a = dt + torch.log(-torch.expm1(-dt))  # inverse softplus
        elif name.endswith("conv1d.bias"):
            a = torch.zeros(shape)
        elif name.endswith("conv1d.weight"):
            a = (torch.rand(shape, generator=g) * 2 - 1) / math.sqrt(shape[-1])
        elif name in ("model.embed_tokens.weight", "model.memory_tokens",
                      "lm_head.weight"):
            a = 0.02 * torch.randn(shape, generator=g)
        else:  # Linear [out, in]
            a = torch.randn(shape, generator=g) / math.sqrt(shape[1])
            if name.endswith(("out_proj.weight", "down_proj.weight")):
                a = a * resid
        out[name] = a
    return out
