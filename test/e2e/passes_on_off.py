"""Each Hymba pass leaves the logits where they were: for several random
configurations, the executable built with all passes on is compared with
the ones built with one pass off (and with all off), within 1e-5 relative;
the scan tiling also without the fusion, which otherwise takes every scan
into the fused region first. Each build's Hymba IR shows whether the pass
ran (a meta-token fold, fused layers, scan tile loops), so that a pass
that stops doing anything fails the CHECK lines below instead of passing
a comparison of equal programs.

  passes_on_off.py HYMBA_COMPILE PYTOOLS WORK
"""
# The CHECK lines (FileCheck reads this file): what each build's IR holds,
# then the comparisons. With the fusion on, every scan is in a fused region
# (scan_tile of its own), so --no-tile-scan changes nothing there; without
# it, the scans of tiny (64 channels) and nometa (48) are tiled, those of
# group3 (72) and odd (60) are not (16 divides neither). nometa has no meta
# tokens to fold.
# CHECK-LABEL: tiny default: meta_folded 5, parallel_branches {{[1-9][0-9]*}}, scan tile loops 0
# CHECK-NEXT:  tiny no-fold-meta: meta_folded 0, parallel_branches {{[1-9][0-9]*}}, scan tile loops 0
# CHECK-NEXT:  tiny no-tile-scan: meta_folded 5, parallel_branches {{[1-9][0-9]*}}, scan tile loops 0
# CHECK-NEXT:  tiny no-fuse: meta_folded 5, parallel_branches 0, scan tile loops {{[1-9][0-9]*}}
# CHECK-NEXT:  tiny all-off: meta_folded 0, parallel_branches 0, scan tile loops 0
# CHECK-NEXT:  tiny no-fuse-no-tile-scan: meta_folded 5, parallel_branches 0, scan tile loops 0
# CHECK-NEXT:  PASS tiny no-fold-meta vs default: rel diff
# CHECK-NEXT:  PASS tiny no-tile-scan vs default: rel diff
# CHECK-NEXT:  PASS tiny no-fuse vs default: rel diff
# CHECK-NEXT:  PASS tiny all-off vs default: rel diff
# CHECK-NEXT:  PASS tiny no-fuse-no-tile-scan vs no-fuse: rel diff
# CHECK-LABEL: group3 default: meta_folded 3, parallel_branches {{[1-9][0-9]*}}, scan tile loops 0
# CHECK-NEXT:  group3 no-fold-meta: meta_folded 0, parallel_branches {{[1-9][0-9]*}}, scan tile loops 0
# CHECK:       group3 no-fuse: meta_folded 3, parallel_branches 0, scan tile loops 0
# CHECK-COUNT-5: PASS group3
# CHECK-LABEL: odd default: meta_folded 7, parallel_branches {{[1-9][0-9]*}}, scan tile loops 0
# CHECK-NEXT:  odd no-fold-meta: meta_folded 0, parallel_branches {{[1-9][0-9]*}}, scan tile loops 0
# CHECK:       odd no-fuse: meta_folded 7, parallel_branches 0, scan tile loops 0
# CHECK-COUNT-5: PASS odd
# CHECK-LABEL: nometa default: meta_folded 0, parallel_branches {{[1-9][0-9]*}}, scan tile loops 0
# CHECK:       nometa no-fuse: meta_folded 0, parallel_branches 0, scan tile loops {{[1-9][0-9]*}}
# CHECK:       nometa no-fuse-no-tile-scan: meta_folded 0, parallel_branches 0, scan tile loops 0
# CHECK-COUNT-5: PASS nometa
# CHECK:       20 passed, 0 failed

import os
import re
import shutil
import subprocess
import sys

import numpy as np

hymba_compile, pytools, work = sys.argv[1:4]
sys.path.insert(0, pytools)
from hymba_tools import config as hc  # noqa: E402
from hymba_tools import make_checkpoint, presets  # noqa: E402

ALL_OFF = ["--no-fold-meta", "--no-tile-scan", "--no-fuse"]
BUILDS = {
    "default": [],
    "no-fold-meta": ["--no-fold-meta"],
    "no-tile-scan": ["--no-tile-scan"],
    "no-fuse": ["--no-fuse"],
    "all-off": ALL_OFF,
    "no-fuse-no-tile-scan": ["--no-fuse", "--no-tile-scan"],
}
# (build, the build it must match)
COMPARISONS = [("no-fold-meta", "default"), ("no-tile-scan", "default"),
               ("no-fuse", "default"), ("all-off", "default"),
               ("no-fuse-no-tile-scan", "no-fuse")]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
passed = failed = 0


def ir_facts(ir):
    """What the passes leave in the Hymba IR: the folded meta tokens (module
    attribute), fused layers, and the scf.forall loops of scan tiles."""
    folded = re.search(r"hymba\.meta_folded = (\d+)", ir)
    return (f"meta_folded {folded.group(1) if folded else 0}, "
            f"parallel_branches {ir.count('hymba.parallel_branches')}, "
            f"scan tile loops {ir.count('scf.forall')}")


for preset, dtype in (("tiny", "bf16"), ("group3", "f32"), ("odd", "f32"), ("nometa", "f32")):
    cfg = presets.preset(preset)
    d = hc.dims_from_config(cfg)
    ck = make_checkpoint.write_checkpoint(cfg, os.path.join(work, preset), dtype, seed=5)
    prompt = ",".join(str(3 + (7 * i) % (d.vocab - 3)) for i in range(11))
    logits = {}
    for name, flags in BUILDS.items():
        ir = subprocess.run([hymba_compile, ck, "--emit=hymba", "-o", "-", *flags],
                            check=True, capture_output=True, text=True).stdout
        print(f"{preset} {name}: {ir_facts(ir)}")
        exe = os.path.join(work, f"{preset}-{name}")
        subprocess.run([hymba_compile, ck, "-o", exe, *flags], check=True)
        out = exe + ".npy"
        subprocess.run([exe, "--tokens", prompt, "-n", "5", "--ids", "--ignore-eos",
                        "--logits-out", out], check=True, capture_output=True)
        logits[name] = np.load(out)
    for name, base_name in COMPARISONS:
        got, base = logits[name], logits[base_name]
        err = float(np.abs(got - base).max() / np.abs(base).max())
        ok = got.shape == base.shape and err <= 1e-5
        print(f"{'PASS' if ok else 'FAIL'} {preset} {name} vs {base_name}: rel diff {err:.2e}")
        passed, failed = passed + ok, failed + (not ok)

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
