"""Benchmark each Hymba pass on versus off on the Hymba-1.5B shape.

  /usr/bin/python3 bench/passes.py [--dtype bf16] [--threads 2] [--decode 16]
                                   [--quick] [--build DIR]

For the default build and one build per --no-* flag the compiler has
(--no-fold-meta, --no-tile-scan, --no-fuse, --no-pack-weights): prefill
tokens/s on a 512-token prompt, decode tokens/s after it, and time to first
token for a 16-token prompt (the case hymba-fold-meta-tokens targets). Each
row is printed when measured. Uses the checkpoint bench/run.py generates
(bench/model.py, generated here if absent). --quick: the small 'demo'
model and a 64-token prompt, as a smoke test.
"""
import argparse
import os
import re
import subprocess
import sys

import numpy as np

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
import model  # noqa: E402
from hymba_tools import config as hc  # noqa: E402


def run(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode:
        sys.exit(f"failed: {' '.join(cmd[:6])} ...\n{r.stderr[-2000:]}")
    return r.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dtype", default="bf16")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--decode", type=int, default=16)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    a = ap.parse_args()
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    preset, prompt_len = ("demo", 64) if a.quick else ("hymba-1.5b", 512)
    work = os.path.join(ROOT, "out", "bench")
    ck = model.ensure_checkpoint(preset, work)
    d = hc.load_dims(ck)
    rng = np.random.default_rng(0)
    long = ",".join(map(str, rng.integers(3, d.vocab, prompt_len)))
    short = ",".join(map(str, rng.integers(3, d.vocab, 16)))
    compiler = os.path.join(a.build, "bin", "hymba-compile")
    helptext = subprocess.run([compiler, "--help"], capture_output=True, text=True).stdout
    variants = [("all passes on", [])] + [
        (flag, [flag]) for flag in ("--no-fold-meta", "--no-tile-scan", "--no-fuse",
                                    "--no-pack-weights") if flag in helptext]
    print(f"{preset} shape, --dtype {a.dtype}, {a.threads} threads", flush=True)
    print(f"  {'build':<18} {f'prefill {prompt_len} tok/s':>18} {'decode tok/s':>13} "
          f"{'TTFT 16 tok (s)':>16}", flush=True)
    base = None
    for name, flags in variants:
        exe = os.path.join(work, "pass-variant")
        run([compiler, ck, "-o", exe, "--dtype", a.dtype,
             "--max-seq-len", str(prompt_len + a.decode + 8), *flags])
        err = run([exe, "--tokens", long, "-n", str(a.decode + 1), "--ids",
                   "--ignore-eos", "--stats"], env)
        pre = float(re.search(r"prefill: .*\(([\d.]+) tokens/s\)", err).group(1))
        dec = float(re.search(r"decode: .*\(([\d.]+) tokens/s\)", err).group(1))
        err = run([exe, "--tokens", short, "-n", "1", "--ids", "--stats"], env)
        ttft = float(re.search(r"time to first token: ([\d.]+)", err).group(1))
        os.remove(exe)
        base = base or (pre, dec, ttft)
        print(f"  {name:<18} {pre:>18.2f} {dec:>13.2f} {ttft:>16.3f}"
              + ("" if not flags else
                 f"   on/off: prefill {base[0] / pre:.2f}x, decode {base[1] / dec:.2f}x,"
                 f" TTFT {ttft / base[2]:.2f}x"), flush=True)


if __name__ == "__main__":
    main()
