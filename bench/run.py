"""Benchmark: hymba-mlir executables against PyTorch eager, side by side.

  /usr/bin/python3 bench/run.py [--prompt-len 512] [--decode 32] [--threads 2]

Generates the Hymba-1.5B-shaped BF16 checkpoint once (cached in out/bench),
compiles it with --dtype f32 and --dtype bf16 (time, peak memory), then
measures prefill and decode tokens/s of our executables and of a PyTorch
eager implementation of the same math on the same threads, the machine's
memory read bandwidth and the decode roofline, and prints ratios.
Needs scripts/setup.sh --bench (PyTorch, OpenBLAS).
"""
import argparse
import os
import re
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
from hymba_tools import config as hc  # noqa: E402
from hymba_tools import make_checkpoint, presets  # noqa: E402
from hymba_tools import safetensors_io as st  # noqa: E402


def timed(cmd):
    """Runs cmd under /usr/bin/time -v; returns (seconds, peak MiB, stdout, stderr)."""
    t0 = time.time()
    r = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
    return time.time() - t0, rss / 1024, r.stdout, r.stderr


def stat(stderr, key):
    return float(re.search(key + r": .*\(([\d.]+) tokens/s\)", stderr).group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompt-len", type=int, default=512)
    ap.add_argument("--decode", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--preset", default="hymba-1.5b")
    ap.add_argument("--skip-torch", action="store_true")
    a = ap.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(a.threads)
    work = os.path.join(ROOT, "out", "bench")
    os.makedirs(work, exist_ok=True)
    ck = os.path.join(work, f"{a.preset}-bf16")
    if not os.path.exists(os.path.join(ck, "config.json")):
        print(f"generating {ck} ...", flush=True)
        make_checkpoint.write_checkpoint(presets.preset(a.preset), ck, "bf16")
    d = hc.load_dims(ck)
    compiler = os.path.join(ROOT, "build", "bin", "hymba-compile")
    rows = []
    rng = np.random.default_rng(0)
    prompt = ",".join(map(str, rng.integers(3, d.vocab, a.prompt_len)))
    short = ",".join(map(str, rng.integers(3, d.vocab, 16)))
    ours = {}
    for dtype in ("f32", "bf16"):
        exe = os.path.join(work, f"hymba-{dtype}")
        secs, mib, _, _ = timed([compiler, ck, "-o", exe, "--dtype", dtype,
                                 "--max-seq-len", "2048"])
        rows.append((f"compile --dtype {dtype}", f"{secs:.1f} s", f"peak {mib:.0f} MiB"))
        _, _, _, err = timed([exe, "--tokens", prompt, "-n", "1", "--ids", "--stats"])
        pre = stat(err, "prefill")
        _, rss, _, err = timed([exe, "--tokens", short, "-n", str(a.decode + 1), "--ids",
                                "--ignore-eos", "--stats"])
        dec = stat(err, "decode")
        ttft = float(re.search(r"time to first token: ([\d.]+)", err).group(1))
        ours[dtype] = (pre, dec)
        rows.append((f"hymba-mlir {dtype}", f"prefill {pre:.2f} tok/s",
                     f"decode {dec:.2f} tok/s, TTFT(16 tok) {ttft:.3f} s, RSS {rss:.0f} MiB"))

    # Memory read bandwidth: a compiled OpenMP read loop over 1 GiB.
    probe = os.path.join(work, "bandwidth")
    subprocess.run(["clang-22", "-O3", "-march=native", "-ffast-math", "-fopenmp",
                    os.path.join(ROOT, "bench", "bandwidth.c"), "-o", probe], check=True)
    bw = float(subprocess.run([probe], capture_output=True, text=True,
                              check=True).stdout)
    # The fastest OpenBLAS kernels on these AMD machines (TOOLCHAIN.md 7);
    # set before torch loads OpenBLAS.
    os.environ["OPENBLAS_CORETYPE"] = "SkylakeX"
    import torch  # noqa: E402  (after our runs: keep its threads out of them)
    torch.set_num_threads(a.threads)
    n_params = sum(int(np.prod(s)) for s in hc.tensor_shapes(d).values())
    rows.append(("memory read bandwidth", f"{bw:.1f} GB/s", f"{a.threads} threads"))
    for dtype, nbytes in (("f32", 4), ("bf16", 2)):
        roof = bw * 1e9 / (n_params * nbytes)
        rows.append((f"decode roofline {dtype}", f"{roof:.2f} tok/s",
                     f"ours at {100 * ours[dtype][1] / roof:.0f}% of it"))

    if not a.skip_torch:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from torch_hymba import TorchHymba
        W = st.read_checkpoint(ck)
        ids_prompt = [int(x) for x in prompt.split(",")]
        ids_short = [int(x) for x in short.split(",")]
        blas = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
        blas = ("OpenBLAS, SkylakeX kernels" if "openblas" in blas else blas)
        for name, dtype, mv in (("f32 F.linear", torch.float32, False),
                                ("f32 torch.mv", torch.float32, True),
                                ("bf16 F.linear", torch.bfloat16, False)):
            m = TorchHymba(W, d, dtype, use_mv=mv)
            s = m.new_state()
            t0 = time.time()
            m.forward(ids_prompt, s)
            pre = a.prompt_len / (time.time() - t0)
            s = m.new_state()
            last = m.forward(ids_short, s)
            t0 = time.time()
            for _ in range(a.decode):
                last = m.forward([int(last.argmax())], s)
            dec = a.decode / (time.time() - t0)
            key = "f32" if dtype == torch.float32 else "bf16"
            rows.append((f"PyTorch eager {name}", f"prefill {pre:.2f} tok/s",
                         f"decode {dec:.2f} tok/s ({blas})"))
            rows.append((f"  ratio ours {key} / this", f"prefill {ours[key][0] / pre:.2f}x",
                         f"decode {ours[key][1] / dec:.2f}x"))
            del m
    width = max(len(r[0]) for r in rows)
    print(f"\nHymba {a.preset}, prompt {a.prompt_len}, decode {a.decode}, {a.threads} threads")
    for r in rows:
        print(f"  {r[0]:<{width}}  {r[1]:<22} {r[2]}")


if __name__ == "__main__":
    main()
