"""GPU check, driven by scripts/device-check.sh on a machine with a GPU.

For a random small config and (unless --skip-1.5b) the Hymba-1.5B shape:
compile for the CPU and for --target=cuda, run the same prompt with greedy
decoding on both, compare the logits (1e-3 relative), and time prefill and
decode on the GPU next to PyTorch eager on the GPU (bench/torch_hymba.py).
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
sys.path.insert(0, os.path.join(ROOT, "bench"))
from hymba_tools import config as hc  # noqa: E402
from hymba_tools import make_checkpoint, presets  # noqa: E402
from hymba_tools import safetensors_io as st  # noqa: E402

COMPILER = os.path.join(ROOT, "build", "bin", "hymba-compile")


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"FAILED: {' '.join(cmd)}\n{r.stderr}")
    return r


def check(name, preset, work, prompt_len, steps):
    ck = os.path.join(work, name)
    if not os.path.exists(os.path.join(ck, "config.json")):
        make_checkpoint.write_checkpoint(presets.preset(preset), ck, "bf16")
    d = hc.load_dims(ck)
    prompt = ",".join(map(str, np.random.default_rng(1).integers(3, d.vocab, prompt_len)))
    res = {}
    for target in ("cpu", "cuda"):
        exe = os.path.join(work, f"{name}-{target}")
        t = time.time()
        run([COMPILER, ck, "-o", exe, f"--target={target}", "--dtype", "bf16",
             "--max-seq-len", "2048"])
        print(f"  compiled {name} for {target} in {time.time() - t:.1f} s", flush=True)
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
          f"({'PASS' if err <= 1e-3 else 'FAIL'}), tokens equal: "
          f"{res['cpu'][1] == res['cuda'][1]}")
    speed = {}
    for target in ("cpu", "cuda"):
        stats = res[target][2]
        pre = float(re.search(r"prefill: .*\(([\d.]+) tokens/s\)", stats).group(1))
        dec = float(re.search(r"decode: .*\(([\d.]+) tokens/s\)", stats).group(1))
        speed[target] = (pre, dec)
        print(f"  hymba-mlir {target}: prefill {pre:.2f} tok/s, decode {dec:.2f} tok/s")
        launches = re.search(r"GPU kernel launches: .*", stats)
        if launches:
            print(f"  {launches.group(0)}")
    try:
        import torch
        from torch_hymba import TorchHymba
    except ImportError as e:
        print(f"  PyTorch eager skipped: {e}")
        return
    m = TorchHymba(st.read_checkpoint(ck), d, torch.bfloat16, device="cuda")
    ids = [int(x) for x in prompt.split(",")]
    s = m.new_state()
    torch.cuda.synchronize()
    t = time.time()
    last = m.forward(ids, s)
    torch.cuda.synchronize()
    pre = prompt_len / (time.time() - t)
    t = time.time()
    for _ in range(steps):
        last = m.forward([int(last.argmax())], s)
    torch.cuda.synchronize()
    dec = steps / (time.time() - t)
    print(f"  PyTorch eager cuda bf16: prefill {pre:.2f} tok/s, decode {dec:.2f} tok/s")
    print(f"  hymba-mlir cuda / PyTorch eager: prefill "
          f"{speed['cuda'][0] / pre:.2f}x, decode {speed['cuda'][1] / dec:.2f}x")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-1.5b", action="store_true")
    a = ap.parse_args()
    work = os.path.join(ROOT, "out", "device")
    os.makedirs(work, exist_ok=True)
    check("random-small", "group3", work, 24, 8)
    if not a.skip_1_5b:
        check("hymba-1.5b", "hymba-1.5b", work, 512, 32)


if __name__ == "__main__":
    main()
