"""OpenBLAS sgemm GFLOP/s on given shapes, in its own process.

  LD_LIBRARY_PATH=... OMP_NUM_THREADS=2 /usr/bin/python3 bench/blas_probe.py \
      --seconds 1 512x8960x1600 2048x2048x2048 ...

bench/run.py starts it with machine.blas_env(threads) so that numpy loads
the OpenMP OpenBLAS with exactly that many threads. Each shape is T x N x K:
y[T, N] = x[T, K] @ W[N, K]^T, the projection's own layout (numpy passes
the transposed W to cblas_sgemm, as PyTorch's F.linear does). Prints first
`blas: <what is mapped>`, then one `sgemm T N K GFLOPS` line per shape, as
each is measured (the median call of those made within --seconds, at least
5, after one warm-up call; as bench/gemm_harness.c reports ours).
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import machine  # noqa: E402


def sgemm_gflops(t, n, k, seconds):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((t, k), dtype=np.float32)
    w = rng.standard_normal((n, k), dtype=np.float32)
    y = np.empty((t, n), dtype=np.float32)
    np.matmul(x, w.T, out=y)
    times, start = [], time.perf_counter()
    while len(times) < 5 or time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        np.matmul(x, w.T, out=y)
        times.append(time.perf_counter() - t0)
    return 2.0 * t * n * k / float(np.median(times)) / 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("shapes", nargs="+", help="TxNxK")
    ap.add_argument("--seconds", type=float, default=1.0)
    a = ap.parse_args()
    np.matmul(np.ones((64, 64), np.float32), np.ones((64, 64), np.float32))
    print("blas:", machine.loaded_blas(), flush=True)
    for s in a.shapes:
        t, n, k = (int(v) for v in s.lower().split("x"))
        print(f"sgemm {t} {n} {k} {sgemm_gflops(t, n, k, a.seconds):.3f}", flush=True)


if __name__ == "__main__":
    main()
