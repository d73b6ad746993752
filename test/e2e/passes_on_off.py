"""Each Hymba pass leaves the logits where they were: for several random
configurations, the executable built with all passes on is compared with
the ones built with one pass off (and with all off), within 1e-5 relative.

  passes_on_off.py HYMBA_COMPILE PYTOOLS WORK
"""
import os
import shutil
import subprocess
import sys

import numpy as np

hymba_compile, pytools, work = sys.argv[1:4]
sys.path.insert(0, pytools)
from hymba_tools import config as hc  # noqa: E402
from hymba_tools import make_checkpoint, presets  # noqa: E402

VARIANTS = {
    "no-fold-meta": ["--no-fold-meta"],
    "no-tile-scan": ["--no-tile-scan"],
    "no-fuse": ["--no-fuse"],
    "all-off": ["--no-fold-meta", "--no-tile-scan", "--no-fuse"],
}
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
passed = failed = 0

for preset, dtype in (("tiny", "bf16"), ("group3", "f32"), ("odd", "f32"), ("nometa", "f32")):
    cfg = presets.preset(preset)
    d = hc.dims_from_config(cfg)
    ck = make_checkpoint.write_checkpoint(cfg, os.path.join(work, preset), dtype, seed=5)
    prompt = ",".join(str(3 + (7 * i) % (d.vocab - 3)) for i in range(11))
    logits = {}
    for name, flags in [("default", [])] + list(VARIANTS.items()):
        exe = os.path.join(work, f"{preset}-{name}")
        subprocess.run([hymba_compile, ck, "-o", exe, *flags], check=True)
        out = exe + ".npy"
        subprocess.run([exe, "--tokens", prompt, "-n", "5", "--ids", "--ignore-eos",
                        "--logits-out", out], check=True, capture_output=True)
        logits[name] = np.load(out)
    base = logits.pop("default")
    for name, got in logits.items():
        err = float(np.abs(got - base).max() / np.abs(base).max())
        ok = got.shape == base.shape and err <= 1e-5
        print(f"{'PASS' if ok else 'FAIL'} {preset} {name}: rel diff {err:.2e}")
        passed, failed = passed + ok, failed + (not ok)

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
