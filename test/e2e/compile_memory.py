"""Compile-time memory: neither hymba-compile nor the program it runs to
compute the meta-token prefix holds all the weights at once.

  compile_memory.py HYMBA_COMPILE PYTOOLS WORK

A random model with 512 MB of f32 parameters, none larger than 17 MB:
- the compile (the compiler, the linker and the prefix run together; the
  peak is that of the largest process) stays below the parameters' size:
  the compiler converts the checkpoint tensor by tensor and hands each one's
  pages back (Checkpoint::releasePages), the prefix run hands back the
  pages of the weights it has read (lib/Runtime/PageReleaser.h);
- the prefix run alone, repeated on the finished executable, stays below
  half of it, and computes the state the compiler stored in the file.
"""
# The CHECK lines (FileCheck reads this file, with --implicit-check-not=FAIL):
# every check by name, beside it, in the order the checks run. The PLAIN
# lines are for a normal build only, the ASAN lines for a sanitizer build
# only (lit feature sanitizers), which skips the memory figures, saying why.
import os
import resource
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from checks import check, finish  # noqa: E402

hymba_compile, pytools, work = sys.argv[1:4]
sys.path.insert(0, pytools)
from hymba_tools import make_checkpoint, presets  # noqa: E402

shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)


def peak_child_mib(cmd):
    """Runs `cmd` in a fresh interpreter and returns the largest RSS (MiB)
    of any process it started (RUSAGE_CHILDREN of that interpreter)."""
    probe = ("import resource, subprocess, sys\n"
             "subprocess.run(sys.argv[1:], check=True)\n"
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe, *cmd], check=True,
                         capture_output=True, text=True).stdout
    return int(out.split()[-1]) / 1024


cfg = presets.preset("tiny")
cfg.update(vocab_size=4096, hidden_size=1024, intermediate_size=4096,
           num_hidden_layers=6, num_attention_heads=8, num_key_value_heads=4,
           num_memory_tokens=16, sliding_window=32, global_attn_idx=[0, 5],
           kv_reuse_group=[[1, 2], [3, 4]], mamba_dt_rank=64,
           mamba_d_state=16, max_position_embeddings=256,
           layer_type=["h"] * 6)
ck = make_checkpoint.write_checkpoint(cfg, os.path.join(work, "ck"), "bf16")
exe = os.path.join(work, "model")
compile_mib = peak_child_mib([hymba_compile, ck, "-o", exe, "--dtype", "f32"])

with open(exe, "rb") as f:
    f.seek(-80, 2)
    (params_off, params_bytes, _, _, _, _, state_bytes, snap_off,
     snap_bytes) = struct.unpack("<9Q", f.read(72))
    f.seek(snap_off)
    snapshot = f.read(snap_bytes)
params_mib = params_bytes / 2**20
print(f"parameters {params_mib:.0f} MiB, state {state_bytes / 2**20:.1f} MiB")
# CHECK: PASS parameters large enough to tell
check("parameters large enough to tell", params_mib > 400,
      f"({params_mib:.0f} MiB)")
# ASan's shadow memory and quarantine make an instrumented compiler's RSS
# say nothing about the product's.
sanitized = os.environ.get("HYMBA_SANITIZED") == "1"
if sanitized:
    # ASAN: SKIP peak memory: an ASan build
    print("SKIP peak memory: an ASan build's RSS includes its shadow memory "
          "and quarantine (scripts/sanitize.sh); the normal build checks it")
else:
    # PLAIN: PASS compile peak below the parameters
    check("compile peak below the parameters", compile_mib < params_mib,
          f"(peak {compile_mib:.0f} MiB)")

# The prefix run starts from the stored snapshot when there is one: point
# the trailer away from it (as before the compiler appended it).
with open(exe, "r+b") as f:
    f.seek(-80 + 7 * 8, 2)
    f.write(struct.pack("<2Q", 0, 0))
state = os.path.join(work, "prefix.state")
prefix_mib = peak_child_mib([exe, "--hymba-internal-prefix-state", state])
if not sanitized:
    # PLAIN: PASS prefix run peak below half the parameters
    check("prefix run peak below half the parameters",
          prefix_mib < params_mib / 2, f"(peak {prefix_mib:.0f} MiB)")
with open(state, "rb") as f:
    # CHECK: PASS prefix state as stored
    check("prefix state as stored", snap_bytes > 0 and f.read() == snapshot)

shutil.rmtree(work, ignore_errors=True)
finish()
# CHECK: ALL PASSED
