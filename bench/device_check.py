"""GPU check, driven by scripts/device-check.sh on a machine with a GPU.

The GPU machine has no LLVM, so scripts/device-bundle.sh prepares everything
on the build machine (out/device-bundle, carried along):
- small/: a random small config (KV group of three), its checkpoint and
  complete CPU and CUDA executables (meta tokens folded);
- big/: the program parts and payload layouts of 1.5B-shaped CPU and CUDA
  builds; this script generates a 1.5B-shaped random checkpoint here and
  assembles both executables with hymba_tools.pack_payload.
The small CUDA executable first runs under compute-sanitizer memcheck. For
each: run the same prompt with greedy decoding on the CPU and the GPU
executable, compare the logits (1e-3 relative), and time prefill and decode
on the GPU next to PyTorch eager on the same GPU (bench/torch_hymba.py).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from hymba_tools import config as hc  # noqa: E402
from hymba_tools import make_checkpoint, pack_payload  # noqa: E402


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"FAILED: {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    return r


def speeds(stats):
    pre = float(re.search(r"prefill: .*\(([\d.]+) tokens/s\)", stats).group(1))
    dec = float(re.search(r"decode: .*\(([\d.]+) tokens/s\)", stats).group(1))
    return pre, dec


def check(name, ck, exes, prompt_len, steps):
    d = hc.load_dims(ck)
    prompt = ",".join(map(str, np.random.default_rng(1).integers(3, d.vocab, prompt_len)))
    res = {}
    for target, exe in exes.items():
        out = exe + ".npy"
        r = run([exe, "--tokens", prompt, "-n", str(steps), "--ids", "--ignore-eos",
                 "--logits-out", out, "--stats"])
        stats = r.stderr
        if target == "cuda":  # time without copying every logits row back
            stats = run([exe, "--tokens", prompt, "-n", str(steps), "--ids",
                         "--ignore-eos", "--stats"]).stderr
        res[target] = (np.load(out), r.stdout.split(), stats)
    cpu, gpu = res["cpu"][0], res["cuda"][0]
    err = float(np.abs(cpu - gpu).max() / np.abs(cpu).max())
    print(f"{name}: GPU vs CPU logits rel err {err:.2e} "
          f"({'PASS' if err <= 1e-3 else 'FAIL'}), greedy tokens equal: "
          f"{res['cpu'][1] == res['cuda'][1]}", flush=True)
    speed = {}
    for target in ("cpu", "cuda"):
        speed[target] = speeds(res[target][2])
        print(f"  hymba-mlir {target}: prefill {speed[target][0]:.2f} tok/s "
              f"({prompt_len}-token prompt), decode {speed[target][1]:.2f} tok/s")
        launches = re.search(r"GPU kernel launches: .*", res[target][2])
        if launches:
            print(f"  {launches.group(0)}")
    try:
        import torch
        from torch_hymba import TorchHymba, load_f32
    except ImportError as e:
        print(f"  PyTorch eager skipped: {e}")
        return
    if not torch.cuda.is_available():
        print("  PyTorch eager skipped: torch sees no CUDA device")
        return
    m = TorchHymba(load_f32(ck), d, torch.bfloat16, device="cuda")
    ids = [int(x) for x in prompt.split(",")]
    for _ in range(2):  # the first round warms up CUDA and the allocator
        s = m.new_state()
        torch.cuda.synchronize()
        t = time.time()
        last = m.forward(ids, s)
        torch.cuda.synchronize()
        pre = prompt_len / (time.time() - t)
        t = time.time()
        for _ in range(steps - 1):
            last = m.forward([int(last.argmax())], s)
        torch.cuda.synchronize()
        dec = (steps - 1) / (time.time() - t)
    print(f"  PyTorch eager cuda bf16: prefill {pre:.2f} tok/s, decode {dec:.2f} tok/s")
    print(f"  hymba-mlir cuda / PyTorch eager: prefill {speed['cuda'][0] / pre:.2f}x, "
          f"decode {speed['cuda'][1] / dec:.2f}x", flush=True)


def memcheck(exe):
    """Runs a GPU executable under compute-sanitizer (out-of-bounds and
    misaligned accesses in the generated kernels), where the tool exists."""
    import shutil
    tool = shutil.which("compute-sanitizer")
    if not tool:
        print("memcheck skipped: compute-sanitizer not found")
        return
    r = subprocess.run([tool, "--tool", "memcheck", "--error-exitcode", "3", exe,
                        "--tokens", "3,4,5,6,7", "-n", "3", "--ids"],
                       capture_output=True, text=True)
    summary = re.search(r"ERROR SUMMARY: .*", r.stdout + r.stderr)
    print(f"memcheck on {os.path.basename(exe)}: "
          f"{summary.group(0) if summary else 'no summary'} (exit {r.returncode})",
          flush=True)
    if r.returncode:
        print((r.stdout + r.stderr)[-3000:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--skip-1.5b", dest="skip_big", action="store_true")
    a = ap.parse_args()
    small = os.path.join(a.bundle, "small")
    memcheck(os.path.join(small, "cuda"))
    check("random-small (group3)", os.path.join(small, "ck"),
          {t: os.path.join(small, t) for t in ("cpu", "cuda")}, 24, 8)
    if a.skip_big:
        return
    big = os.path.join(a.bundle, "big")
    work = os.environ.get("HYMBA_DEVICE_WORK", "/tmp/hymba-device")
    ck = os.path.join(work, "hymba-1.5b")
    t = time.time()
    if not os.path.exists(os.path.join(ck, "config.json")):
        # The config the program parts were built from (no ../shared there).
        with open(os.path.join(big, "config.json")) as f:
            make_checkpoint.write_checkpoint(json.load(f), ck, "bf16")
    exes = {}
    for target in ("cpu", "cuda"):
        exes[target] = os.path.join(work, f"hymba-1.5b-{target}")
        pack_payload.pack(os.path.join(big, f"{target}.program"),
                          os.path.join(big, f"{target}.layout.json"), ck, exes[target])
    print(f"hymba-1.5b: checkpoint and executables ready in {time.time() - t:.0f} s",
          flush=True)
    check("hymba-1.5b", ck, exes, 512, 32)


if __name__ == "__main__":
    main()
