"""PyTorch eager Hymba (the same math as hymba-mlir, float32 or bfloat16),
with KV / conv / SSM state for decode. A baseline for bench/run.py only.

Projections use F.linear; `--mv` switches single-row products to torch.mv,
the faster form for M = 1 on CPU (see ../shared/TOOLCHAIN.md section 7).
"""
import math

import torch
import torch.nn.functional as F


class TorchHymba:
    def __init__(self, W, d, dtype=torch.float32, use_mv=False, device="cpu"):
        self.d, self.dtype, self.use_mv, self.dev = d, dtype, use_mv, device
        self.W = {k: torch.from_numpy(v).to(device=device, dtype=dtype)
                  for k, v in W.items()}
        hd = d.head_dim
        inv = 1.0 / (torch.tensor(d.rope_base, dtype=torch.float32) **
                     (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
        self.inv_freq = inv.to(device)

    def lin(self, x, w):
        if self.use_mv and x.shape[0] == 1:
            return torch.mv(w, x[0]).unsqueeze(0)
        return F.linear(x, w)

    def norm(self, x, w):
        xf = x.float()
        return w * (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.d.eps)).to(x.dtype)

    def rope(self, x, pos):
        d = self.d
        ang = pos.float()[:, None] * self.inv_freq[None, :]
        cos, sin = ang.cos().to(x.dtype), ang.sin().to(x.dtype)
        h = x.view(x.shape[0], -1, d.head_dim)
        a, b = h[..., :d.head_dim // 2], h[..., d.head_dim // 2:]
        c, s = cos[:, None, :], sin[:, None, :]
        return torch.cat([a * c - b * s, b * c + a * s], -1).reshape(x.shape)

    def new_state(self):
        return {"kv": {}, "conv": {}, "ssm": {}, "pos": 0}

    @torch.no_grad()
    def forward(self, ids, st):
        """Runs a chunk (the first one gets the meta tokens); returns the
        last row's logits."""
        d, W = self.d, self.W
        x = W["model.embed_tokens.weight"][torch.tensor(ids, device=self.dev)]
        if st["pos"] == 0 and d.num_meta:
            x = torch.cat([W["model.memory_tokens"], x], 0)
        L, p0 = x.shape[0], st["pos"]
        pos = torch.arange(p0, p0 + L, device=self.dev)
        E, qw = d.d_inner, d.heads * d.head_dim
        kw, vw = d.kv_heads * d.head_dim, d.kv_heads * d.v_head_dim
        for i in range(d.layers):
            p = f"model.layers.{i}."
            a = self.norm(x, W[p + "input_layernorm.weight"])
            P = self.lin(a, W[p + "mamba.in_proj.weight"])
            q = self.rope(P[:, :qw], pos)
            if d.owns_kv(i):
                k = self.rope(P[:, qw:qw + kw], pos)
                v = P[:, qw + kw:qw + kw + vw]
                if i in st["kv"]:
                    k = torch.cat([st["kv"][i][0], k]); v = torch.cat([st["kv"][i][1], v])
                st["kv"][i] = (k, v)
            k, v = st["kv"][d.kv_source(i)]
            att = self.attention(q, k, v, p0, d.is_global(i))
            xs, z = P[:, -2 * E:-E], P[:, -E:]
            u = self.conv(xs, i, st)
            s = self.scan(u, z, i, st)
            o = (self.norm(att, W[p + "mamba.pre_avg_layernorm1.weight"]) +
                 self.norm(s, W[p + "mamba.pre_avg_layernorm2.weight"])) / 2
            x = x + self.lin(o, W[p + "mamba.out_proj.weight"])
            m = self.norm(x, W[p + "pre_moe_layernorm.weight"])
            g = self.lin(m, W[p + "moe.experts.0.gate_proj.weight"])
            up = self.lin(m, W[p + "moe.experts.0.up_proj.weight"])
            x = x + self.lin(F.silu(g) * up, W[p + "moe.experts.0.down_proj.weight"])
        st["pos"] = p0 + L
        h = self.norm(x[-1:], W["model.final_layernorm.weight"])
        head = W["model.embed_tokens.weight"] if d.tied else W["lm_head.weight"]
        return self.lin(h, head).float()[0]

    def attention(self, q, k, v, p0, is_global):
        d = self.d
        L, S = q.shape[0], k.shape[0]
        qi = torch.arange(p0, p0 + L, device=self.dev)[:, None]
        kj = torch.arange(S, device=self.dev)[None, :]
        mask = kj <= qi
        if not is_global:
            mask &= (qi - kj <= d.window) | (kj < d.num_meta)
        qh = q.view(L, d.heads, d.head_dim).transpose(0, 1)
        rep = d.heads // d.kv_heads
        kh = k.view(S, d.kv_heads, d.head_dim).transpose(0, 1).repeat_interleave(rep, 0)
        vh = v.view(S, d.kv_heads, d.v_head_dim).transpose(0, 1).repeat_interleave(rep, 0)
        s = (qh @ kh.transpose(1, 2)) / math.sqrt(d.head_dim)
        s = s.masked_fill(~mask, float("-inf")).softmax(-1)
        return (s @ vh).transpose(0, 1).reshape(L, -1)

    def conv(self, x, i, st):
        W, p = self.W, f"model.layers.{i}.mamba."
        K = self.d.d_conv
        prev = st["conv"].get(i, torch.zeros(K - 1, x.shape[1], dtype=x.dtype,
                                               device=self.dev))
        ext = torch.cat([prev, x], 0)
        st["conv"][i] = ext[-(K - 1):]
        y = F.conv1d(ext.t().unsqueeze(0), W[p + "conv1d.weight"], W[p + "conv1d.bias"],
                     groups=x.shape[1])[0].t()
        return F.silu(y)

    def scan(self, u, z, i, st):
        d, W, p = self.d, self.W, f"model.layers.{i}.mamba."
        R, N = d.dt_rank, d.d_state
        xp = self.lin(u, W[p + "x_proj.0.weight"])
        dtr = self.norm(xp[:, :R], W[p + "dt_layernorm.weight"])
        B = self.norm(xp[:, R:R + N], W[p + "B_layernorm.weight"]).float()
        C = self.norm(xp[:, R + N:], W[p + "C_layernorm.weight"]).float()
        delta = F.softplus(self.lin(dtr, W[p + "dt_proj.0.weight"]).float() +
                           W[p + "dt_proj.0.bias"].float())
        A = -torch.exp(W[p + "A_log.0"].float())
        h = st["ssm"].get(i, torch.zeros(u.shape[1], N, device=self.dev))
        uf, ys = u.float(), []
        for t in range(u.shape[0]):
            h = torch.exp(delta[t][:, None] * A) * h + (delta[t] * uf[t])[:, None] * B[t][None, :]
            ys.append(h @ C[t])
        st["ssm"][i] = h
        y = torch.stack(ys) + W[p + "D.0"].float() * uf
        return (y * F.silu(z.float())).to(u.dtype)
