"""PyTorch eager Hymba in float32: the baseline of bench/run.py.

  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \
  /usr/bin/python3 bench/torch_hymba.py CKPT --threads 1,2 \
      --prefill 512,2048 --decode 32 --decode-after 512

The same math as hymba-mlir (SPEC section 3, the cached form) written the
way a careful PyTorch user would: F.linear for prompt rows, torch.mv for the
single row of a decode step (about 3x faster than F.linear for M = 1 on
OpenBLAS), and a time-chunked selective scan (see `TorchHymba.scan`).

Fairness rules, so the rows compare like with like:
- One float32 copy of the weights: each safetensors tensor is memory-mapped
  and widened (bf16 -> f32) straight into its torch tensor, never float64.
- The 128 meta tokens run once at load time (not timed) and every timed
  sequence starts from a copy of their KV / conv / SSM state: their rows
  never depend on the prompt, which is what hymba-compile's
  hymba-fold-meta-tokens does at compile time. Both sides then process
  exactly the T prompt rows.
- The BLAS is whatever the process loaded; run.py starts this script with
  the OpenMP OpenBLAS on LD_LIBRARY_PATH and prints the `blas:` line this
  script reports (read from /proc/self/maps and OpenBLAS itself).
- torch.set_num_threads(n) and openblas_set_num_threads(n) per
  measurement; the `blas:` line after them shows both counts.

Prints one line per measurement as soon as it is taken:
  `prefill THREADS TOKENS SECONDS`, `decode THREADS STEPS SECONDS`
(and `checked FILE` after writing --check-out).
"""
import argparse
import json
import math
import mmap
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "python"))
import machine  # noqa: E402
from hymba_tools import config as hc  # noqa: E402

SCAN_CHUNK = 64


def load_f32(ckpt):
    """name -> float32 torch tensor, one tensor converted at a time from a
    memory map (peak: the f32 model plus one tensor)."""
    index = os.path.join(ckpt, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    out = {}
    for fn in files:
        with open(os.path.join(ckpt, fn), "rb") as f:
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        n = struct.unpack("<Q", mm[:8])[0]
        header = json.loads(mm[8:8 + n])
        for name, info in header.items():
            if name == "__metadata__":
                continue
            lo, hi = info["data_offsets"]
            dt, shape = info["dtype"], info["shape"]
            if dt == "BF16":
                bits = np.frombuffer(mm, np.uint16, (hi - lo) // 2, 8 + n + lo)
                a = (bits.astype(np.uint32) << 16).view(np.float32)
            elif dt in ("F32", "F16"):
                a = np.frombuffer(mm, {"F32": np.float32, "F16": np.float16}[dt],
                                  (hi - lo) // (4 if dt == "F32" else 2),
                                  8 + n + lo).astype(np.float32)
            else:
                raise ValueError(f"{fn}: tensor {name} has dtype {dt}; "
                                 "expected BF16, F16 or F32")
            out[name] = torch.from_numpy(a.reshape(shape))
            del a
        del mm
    return out


class TorchHymba:
    """Eager Hymba with KV / conv / SSM state for decode.

    W: name -> torch tensor or numpy array (converted to `dtype` on
    `device`; bench/run.py passes load_f32's float32 tensors, which stay as
    they are). Norms and the scan compute in float32 whatever `dtype` is
    (bench/device_check.py runs bfloat16 on CUDA). The meta-token prefix
    runs here, once; `new_state()` starts every sequence after it.
    """

    def __init__(self, W, d, dtype=torch.float32, device="cpu"):
        self.d, self.dt, self.dev = d, dtype, device
        self.W = {}
        for k in list(W):
            v = W.pop(k) if isinstance(W, dict) else W[k]
            v = torch.from_numpy(v) if isinstance(v, np.ndarray) else v
            self.W[k] = v.to(device=device, dtype=dtype)
        hd = d.head_dim
        self.inv_freq = (1.0 / (torch.tensor(d.rope_base, dtype=torch.float64) **
                                (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
                         ).to(device)
        self.prefix = self.run_prefix()

    def lin(self, x, w):
        if x.shape[0] == 1:
            return torch.mv(w, x[0]).unsqueeze(0)
        return F.linear(x, w)

    def norm(self, x, w):
        xf = x.float()
        return (w.float() * (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) +
                                              self.d.eps))).to(x.dtype)

    def rope(self, x, pos):
        d = self.d
        ang = pos.double()[:, None] * self.inv_freq[None, :]
        cos = ang.cos().to(x.dtype)[:, None, :]
        sin = ang.sin().to(x.dtype)[:, None, :]
        h = x.reshape(x.shape[0], -1, d.head_dim)
        a, b = h[..., :d.head_dim // 2], h[..., d.head_dim // 2:]
        return torch.cat([a * cos - b * sin, b * cos + a * sin], -1).reshape(x.shape)

    @torch.no_grad()
    def run_prefix(self):
        """The state after the meta tokens (prompt-independent)."""
        st = {"kv": {}, "conv": {}, "ssm": {}, "pos": 0}
        if self.d.num_meta:
            self.layers(self.W["model.memory_tokens"], st)
        return st

    def new_state(self):
        """A fresh sequence: a copy of the state after the meta tokens."""
        p = self.prefix
        return {"kv": {i: (k.clone(), v.clone()) for i, (k, v) in p["kv"].items()},
                "conv": {i: c.clone() for i, c in p["conv"].items()},
                "ssm": {i: s.clone() for i, s in p["ssm"].items()},
                "pos": p["pos"]}

    @torch.no_grad()
    def forward(self, ids, st):
        """Runs the tokens `ids` after state `st`; returns the last row's
        logits (what generation needs) in float32."""
        x = self.W["model.embed_tokens.weight"][torch.tensor(ids, device=self.dev)]
        x = self.layers(x, st)
        h = self.norm(x[-1:], self.W["model.final_layernorm.weight"])
        head = self.W.get("lm_head.weight", self.W["model.embed_tokens.weight"])
        return self.lin(h, head)[0].float()

    def layers(self, x, st):
        d, W = self.d, self.W
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
                    k = torch.cat([st["kv"][i][0], k])
                    v = torch.cat([st["kv"][i][1], v])
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
        return x

    def attention(self, q, k, v, p0, is_global):
        """Causal attention of the chunk's rows over every cached key; a
        sliding-window layer also sees the meta prefix (DECISIONS.md)."""
        d = self.d
        L, S = q.shape[0], k.shape[0]
        qi = torch.arange(p0, p0 + L, device=self.dev)[:, None]
        kj = torch.arange(S, device=self.dev)[None, :]
        mask = kj <= qi
        if not is_global and d.window is not None:
            mask &= (qi - kj <= d.window) | (kj < d.num_meta)
        rep = d.heads // d.kv_heads
        qh = q.reshape(L, d.heads, d.head_dim).transpose(0, 1)
        kh = k.reshape(S, d.kv_heads, d.head_dim).transpose(0, 1).repeat_interleave(rep, 0)
        vh = v.reshape(S, d.kv_heads, d.v_head_dim).transpose(0, 1).repeat_interleave(rep, 0)
        s = torch.bmm(qh, kh.transpose(1, 2)).mul_(1.0 / math.sqrt(d.head_dim))
        s.masked_fill_(~mask, float("-inf"))
        s = s.softmax(-1)
        return torch.bmm(s, vh).transpose(0, 1).reshape(L, -1)

    def conv(self, x, i, st):
        W, p = self.W, f"model.layers.{i}.mamba."
        K = self.d.d_conv
        prev = st["conv"].get(i)
        if prev is None:
            prev = torch.zeros(K - 1, x.shape[1], dtype=x.dtype, device=self.dev)
        ext = torch.cat([prev, x], 0)
        st["conv"][i] = ext[-(K - 1):].clone()
        y = F.conv1d(ext.t().unsqueeze(0), W[p + "conv1d.weight"],
                     W.get(p + "conv1d.bias"), groups=x.shape[1])[0].t()
        return F.silu(y)

    def scan(self, u, z, i, st):
        """The selective scan in float32, in time chunks of SCAN_CHUNK steps.

        Per chunk, batched over its steps: the discretized decay
        exp(delta A) and input delta u B^T ([c, E, N] each), and at the end
        the readout y = h C for all c steps in one bmm. The recurrence
        h_t = dA_t * h_{t-1} + dBu_t itself is one fused addcmul per step
        into a preallocated [c, E, N] buffer -- the only sequential work.
        Measured alternatives (T=512, E=3200, N=16, chunks of 64, 1 thread,
        same results): this loop 125 ms; a log-depth (Hillis-Steele) scan
        inside each chunk, no per-step calls, 470 ms; a log-space cumulative
        sum 940 ms (and it overflows when delta A sums grow large): both
        move log2(c) or ~4x more memory over [c, E, N] tensors.
        """
        d, W, p = self.d, self.W, f"model.layers.{i}.mamba."
        R, N = d.dt_rank, d.d_state
        xp = self.lin(u, W[p + "x_proj.0.weight"])
        dtr = self.norm(xp[:, :R], W[p + "dt_layernorm.weight"])
        B = self.norm(xp[:, R:R + N], W[p + "B_layernorm.weight"]).float()
        C = self.norm(xp[:, R + N:], W[p + "C_layernorm.weight"]).float()
        delta = F.softplus(self.lin(dtr, W[p + "dt_proj.0.weight"]).float() +
                           W[p + "dt_proj.0.bias"].float())
        A = -torch.exp(W[p + "A_log.0"].float())
        uf = u.float()
        T, E = u.shape
        h = st["ssm"].get(i)
        if h is None:
            h = torch.zeros(E, N, device=self.dev)
        y = torch.empty(T, E, device=self.dev)
        hs = torch.empty(min(T, SCAN_CHUNK), E, N, device=self.dev)
        for c0 in range(0, T, SCAN_CHUNK):
            c1 = min(T, c0 + SCAN_CHUNK)
            c = c1 - c0
            dl = delta[c0:c1]
            dA = torch.exp(dl[:, :, None] * A)                        # [c, E, N]
            dBu = (dl * uf[c0:c1])[:, :, None] * B[c0:c1, None, :]    # [c, E, N]
            prev = h
            for t in range(c):
                torch.addcmul(dBu[t], dA[t], prev, out=hs[t])
                prev = hs[t]
            h = hs[c - 1].clone()
            y[c0:c1] = torch.bmm(hs[:c], C[c0:c1, :, None])[:, :, 0]
        st["ssm"][i] = h
        y += W[p + "D.0"].float() * uf
        return (y * F.silu(z.float())).to(u.dtype)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ckpt")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--prefill", default="512,2048", help="prompt lengths")
    ap.add_argument("--decode", type=int, default=32, help="decode steps")
    ap.add_argument("--decode-after", type=int, default=512,
                    help="prompt length before the decode steps")
    ap.add_argument("--check-tokens", help="comma-separated ids: also write the "
                    "last-row logits of this prompt (float32 .npy) to --check-out")
    ap.add_argument("--check-out")
    a = ap.parse_args()
    d = hc.load_dims(a.ckpt)
    t0 = time.perf_counter()
    torch.set_num_threads(max(int(t) for t in a.threads.split(",")))
    model = TorchHymba(load_f32(a.ckpt), d)
    print(f"loaded {time.perf_counter() - t0:.1f}", flush=True)
    if a.check_tokens and a.check_out:
        ids = [int(t) for t in a.check_tokens.split(",")]
        np.save(a.check_out, model.forward(ids, model.new_state()).numpy())
        print(f"checked {a.check_out}", flush=True)
    rng = np.random.default_rng(0)
    for th in (int(t) for t in a.threads.split(",")):
        torch.set_num_threads(th)
        machine.set_openblas_threads(th)
        torch.mv(model.W["model.final_layernorm.weight"][None, :],
                 model.W["model.final_layernorm.weight"])
        # Big enough to take OpenBLAS' threaded path, which adopts the count.
        F.linear(torch.ones(512, 512), torch.ones(512, 512))
        print(f"blas {th} {machine.loaded_blas()}", flush=True)
        for n in (int(x) for x in a.prefill.split(",")):
            ids = rng.integers(3, d.vocab, n).tolist()
            st = model.new_state()
            t0 = time.perf_counter()
            model.forward(ids, st)
            print(f"prefill {th} {n} {time.perf_counter() - t0:.6f}", flush=True)
            del st
        st = model.new_state()
        last = model.forward(rng.integers(3, d.vocab, a.decode_after).tolist(), st)
        t0 = time.perf_counter()
        for _ in range(a.decode):
            last = model.forward([int(last.argmax())], st)
        print(f"decode {th} {a.decode} {time.perf_counter() - t0:.6f}", flush=True)
        del st


if __name__ == "__main__":
    main()
