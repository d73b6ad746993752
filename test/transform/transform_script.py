"""hymba-compile --transform-script end to end: the schedule is applied (its
loops are in --emit=hymba), the executable built with it gives the default
build's logits (1e-5 relative), and a missing script is a clear error.

  transform_script.py HYMBA_COMPILE PYTOOLS SCHEDULE WORK
"""
import os
import shutil
import subprocess
import sys

import numpy as np

hymba_compile, pytools, schedule, work = sys.argv[1:5]
sys.path.insert(0, pytools)
from hymba_tools import config as hc  # noqa: E402
from hymba_tools import make_checkpoint, presets  # noqa: E402

shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
cfg = presets.preset("tiny")
d = hc.dims_from_config(cfg)
ck = make_checkpoint.write_checkpoint(cfg, os.path.join(work, "tiny"), "f32", seed=5)
prompt = ",".join(str(3 + (7 * i) % (d.vocab - 3)) for i in range(11))
failed = 0

ir = subprocess.run([hymba_compile, ck, "--emit=hymba", "-o", "-",
                     f"--transform-script={schedule}"],
                    check=True, capture_output=True, text=True).stdout
# Scan tiles are [T, 8] channels. Every attention is a tile: one KV head
# with its query heads (tiny: 4 heads in 2 groups), rows placed by
# query_offset.
attentions = [line for line in ir.splitlines() if "hymba.attention" in line]
tile = f"num_heads = {d.heads // d.kv_heads} : i64, num_kv_heads = 1 : i64"
applied = "scf.forall" in ir and "-> tensor<?x8xf32>" in ir and \
    len(attentions) == cfg["num_hidden_layers"] and \
    all("query_offset(%" in a and tile in a for a in attentions) and \
    "hymba.parallel_branches" not in ir
print("schedule applied: scf.forall over scan and attention tiles, attention "
      "row tiles with query_offset, no fused heads",
      "PASS" if applied else "FAIL")
failed += not applied

logits = {}
for name, flags in (("default", []), ("schedule", [f"--transform-script={schedule}"])):
    exe = os.path.join(work, name)
    subprocess.run([hymba_compile, ck, "-o", exe, *flags], check=True)
    out = exe + ".npy"
    subprocess.run([exe, "--tokens", prompt, "-n", "5", "--ids", "--ignore-eos",
                    "--logits-out", out], check=True, capture_output=True)
    logits[name] = np.load(out)
base, got = logits["default"], logits["schedule"]
err = float(np.abs(got - base).max() / np.abs(base).max())
ok = got.shape == base.shape and err <= 1e-5
print(f"logits with the schedule vs the default build: rel diff {err:.2e}",
      "PASS" if ok else "FAIL")
failed += not ok

missing = os.path.join(work, "no-such-schedule.mlir")
exe = os.path.join(work, "missing")
r = subprocess.run([hymba_compile, ck, "-o", exe, f"--transform-script={missing}"],
                   capture_output=True, text=True)
ok = r.returncode == 1 and missing in r.stderr and not os.path.exists(exe)
print(f"missing script: exit {r.returncode}, names the file, no output:",
      "PASS" if ok else "FAIL")
if not ok:
    print(r.stderr)
failed += not ok
sys.exit(1 if failed else 0)
