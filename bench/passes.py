"""Benchmark each Hymba pass on versus off on the Hymba-1.5B shape.

  /usr/bin/python3 bench/passes.py [--dtype bf16] [--threads 2]

For the default build and one build per --no-* flag: prefill tokens/s on a
512-token prompt, decode tokens/s, and time to first token for a 16-token
prompt (the case hymba-fold-meta-tokens targets). Reuses the checkpoint that
bench/run.py generates.
"""
import argparse
import os
import re
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
from hymba_tools import make_checkpoint, presets  # noqa: E402


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr}")
    return r.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dtype", default="bf16")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--decode", type=int, default=16)
    a = ap.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(a.threads)
    work = os.path.join(ROOT, "out", "bench")
    ck = os.path.join(work, "hymba-1.5b-bf16")
    if not os.path.exists(os.path.join(ck, "config.json")):
        make_checkpoint.write_checkpoint(presets.preset("hymba-1.5b"), ck, "bf16")
    rng = np.random.default_rng(0)
    long = ",".join(map(str, rng.integers(3, 32000, 512)))
    short = ",".join(map(str, rng.integers(3, 32000, 16)))
    compiler = os.path.join(ROOT, "build", "bin", "hymba-compile")
    variants = [("all passes on", []), ("--no-fold-meta", ["--no-fold-meta"]),
                ("--no-tile-scan", ["--no-tile-scan"]), ("--no-fuse", ["--no-fuse"])]
    rows = []
    for name, flags in variants:
        exe = os.path.join(work, "pass-variant")
        run([compiler, ck, "-o", exe, "--dtype", a.dtype, "--max-seq-len", "1024", *flags])
        err = run([exe, "--tokens", long, "-n", "1", "--ids", "--stats"])
        pre = float(re.search(r"prefill: .*\(([\d.]+) tokens/s\)", err).group(1))
        err = run([exe, "--tokens", short, "-n", str(a.decode + 1), "--ids", "--ignore-eos",
                   "--stats"])
        dec = float(re.search(r"decode: .*\(([\d.]+) tokens/s\)", err).group(1))
        ttft = float(re.search(r"time to first token: ([\d.]+)", err).group(1))
        rows.append((name, pre, dec, ttft))
        os.remove(exe)
    base = rows[0]
    print(f"\nHymba-1.5B shape, --dtype {a.dtype}, {a.threads} threads")
    print(f"  {'build':<16} {'prefill 512 tok/s':>18} {'decode tok/s':>13} {'TTFT 16 tok (s)':>16}")
    for name, pre, dec, ttft in rows:
        print(f"  {name:<16} {pre:>18.2f} {dec:>13.2f} {ttft:>16.3f}"
              + ("" if name == base[0] else
                 f"   on/off: prefill {base[1] / pre:.2f}x, decode {base[2] / dec:.2f}x,"
                 f" TTFT {ttft / base[3]:.2f}x"))


if __name__ == "__main__":
    main()
