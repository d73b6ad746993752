"""The scratch of a scan tile does not pile up on the stack.

  scan_stack.py HYMBA_COMPILE PYTOOLS WORK

Without the fusion, hymba-tile-selective-scan makes every scan a parallel
loop over channel tiles around a loop over time chunks of 64 rows, and
each (tile, chunk) scan is lowered with scratch for its state. That
scratch was stack memory that lived until the function returned, so a
prefill grew the stack by it per tile and chunk: the 1.5B model's 2048-
token prompt overflowed the 8 MB main-thread stack at 1 thread (SIGSEGV).
Here a small model (8 tiles of 16 channels, state 16, so 2.2 KB per tile
and chunk) prefills 8000 tokens at 1 thread under a 1 MiB stack limit: the
old lowering needed ~2.2 MB of stack for it.
"""
# CHECK: scan tiles: 8 of 16 channels
# CHECK: PASS 8000-token prompt, 1 thread, 1 MiB stack: exit 0
# CHECK: PASS same tokens as with an 8 MiB stack
import os
import re
import resource
import shutil
import subprocess
import sys

hymba_compile, pytools, work = sys.argv[1:4]
sys.path.insert(0, pytools)
from hymba_tools import make_checkpoint, presets  # noqa: E402

shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
cfg = dict(presets.preset("tiny"), hidden_size=64, mamba_d_state=16)
ck = make_checkpoint.write_checkpoint(cfg, os.path.join(work, "ck"), "f32", seed=3)
exe = os.path.join(work, "model")
tokens = 8000
subprocess.run([hymba_compile, ck, "--no-fuse", "--max-seq-len", str(tokens + 8),
                "-o", exe], check=True)
ir = subprocess.run([hymba_compile, ck, "--no-fuse", "--emit=hymba", "-o", "-"],
                    check=True, capture_output=True, text=True).stdout
channels = cfg["hidden_size"] * cfg["mamba_expand"]
tiled = re.search(rf"scf\.forall \(%\w+\) = \(0\) to \({channels}\) step \(16\)", ir)
print(f"scan tiles: {channels // 16 if tiled else 0} of 16 channels")
prompt = ",".join(str(3 + (7 * i) % (cfg["vocab_size"] - 3)) for i in range(tokens))
env = dict(os.environ, OMP_NUM_THREADS="1")


def run(stack_bytes):
    def limit():
        resource.setrlimit(resource.RLIMIT_STACK, (stack_bytes, stack_bytes))
    return subprocess.run([exe, "--tokens", prompt, "-n", "4", "--ids", "--ignore-eos"],
                          env=env, preexec_fn=limit, capture_output=True, text=True)


small = run(1 << 20)
ok = small.returncode == 0
print(f"{'PASS' if ok else 'FAIL'} {tokens}-token prompt, 1 thread, 1 MiB stack: "
      f"exit {small.returncode} {small.stderr.strip()[-200:]}".rstrip())
big = run(8 << 20)
same = ok and big.returncode == 0 and big.stdout == small.stdout
print(f"{'PASS' if same else 'FAIL'} same tokens as with an 8 MiB stack")
sys.exit(0 if ok and same else 1)
