"""Start-up and decode memory of a compiled executable (lib/Runtime).

  startup_memory.py HYMBA_COMPILE PYTOOLS WORK

A random model whose state arena is large (two global layers, 8192-token
KV caches, ~100 MB) and whose meta-token prefix is folded, so the
executable starts from a stored snapshot of that size:
- start-up faults far fewer pages than the arena has: the arena is zeroed
  on huge pages (HostMemory.cpp) and the snapshot is copied from its file
  mapping (ModelFile.cpp), not read into a second buffer first; before,
  both took one fault per 4 KB page. Skipped, saying why, where the kernel
  gives no transparent huge pages;
- decode steps fault no new pages: the model code's temporaries stay in
  the heap between steps (HostMemory.cpp, initModelDevice);
- a long prefill chunk faults a fraction of its temporaries' pages: blocks
  larger than glibc's largest mmap threshold (32 MB) stay in the heap too,
  which starts on huge pages (HostMemory.cpp); before, every layer faulted
  each of them in again, 4 KB at a time. Skipped, saying why, where the
  kernel gives no transparent huge pages;
- the parameters read into the executable's own memory (the default,
  ModelFile.cpp) and mapped from the file (HYMBA_MMAP=1) generate the same
  tokens.
(That the mapped snapshot is the right state is e2e/numerics.test's job:
folded executables against the float64 reference.)
"""
# The CHECK lines (FileCheck reads this file, with --implicit-check-not=FAIL):
# every check by name, beside it, in the order the checks run. The PLAIN
# lines are for a normal build only, the ASAN lines for a sanitizer build
# only (lit feature sanitizers), which skips the memory figures, saying why.
import os
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


def thp_fallbacks():
    """Faults, system-wide, for which the kernel wanted a huge page and had
    none free (/proc/vmstat thp_fault_fallback*)."""
    try:
        with open("/proc/vmstat") as f:
            return sum(int(line.split()[1]) for line in f
                       if line.startswith("thp_fault_fallback"))
    except (OSError, ValueError, IndexError):
        return 0


# Huge-page faults the kernel could not serve during the runs measured: when
# memory is fragmented (other tests running, a full page cache) the arena and
# the heap get 4 KB pages and the fault counts below say nothing about our
# code. A check that fails while this is non-zero is a SKIP that says so.
fallbacks = 0


# Address-space randomization moves the heap's start within a 2 MB page, so
# the first partial huge page of the heap took 0-500 4 KB faults and a run's
# total varied by ~150 (2029-2181 for the same command), more than the
# decode-step check allows; without it the same command faults within ~20.
NO_ASLR = ["setarch", "-R"] if shutil.which("setarch") else []


def faults(cmd, env=None):
    """Minor page faults of `cmd` (RUSAGE_CHILDREN of a fresh interpreter),
    run without address-space randomization, and its standard output."""
    global fallbacks
    before = thp_fallbacks()
    cmd = NO_ASLR + cmd
    probe = ("import resource, subprocess, sys\n"
             "r = subprocess.run(sys.argv[1:], check=True, capture_output=True,"
             " text=True)\n"
             "print(r.stdout.strip())\n"
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt)")
    out = subprocess.run([sys.executable, "-c", probe, *cmd], check=True,
                         capture_output=True, text=True,
                         env=env).stdout.splitlines()
    fallbacks += thp_fallbacks() - before
    return int(out[-1]), out[0]


def check_pages(name, skip, ok, detail):
    """check(), unless it fails while the kernel lacked huge pages."""
    if not ok and fallbacks > 0:
        print(f"SKIP {skip}: the kernel had no free huge page for {fallbacks} "
              f"faults during the runs (/proc/vmstat thp_fault_fallback), so "
              f"the counts say nothing about our code {detail}")
    else:
        check(name, ok, detail)


cfg = presets.preset("tiny")
cfg.update(vocab_size=512, hidden_size=1024, intermediate_size=1024,
           num_hidden_layers=2, num_attention_heads=8, num_key_value_heads=4,
           num_memory_tokens=16, sliding_window=None, global_attn_idx=[0, 1],
           kv_reuse_group=[], mamba_d_state=16,
           max_position_embeddings=8192, layer_type=["h"] * 2)
ck = make_checkpoint.write_checkpoint(cfg, os.path.join(work, "ck"), "bf16")
exe = os.path.join(work, "model")
subprocess.run([hymba_compile, ck, "-o", exe, "--dtype", "bf16"], check=True)
with open(exe, "rb") as f:
    f.seek(-80, 2)
    fields = struct.unpack("<9Q", f.read(72))
state_bytes, snapshot_bytes = fields[6], fields[8]
pages = state_bytes // 4096
print(f"state arena {state_bytes / 2**20:.1f} MiB ({pages} pages), "
      f"snapshot {snapshot_bytes / 2**20:.1f} MiB")
# CHECK: PASS the arena is large and stored
check("the arena is large and stored", pages > 10000 and
      snapshot_bytes == state_bytes)

run = [exe, "--tokens", "1,2,3", "--ids", "--ignore-eos", "-n"]
f2, _ = faults(run + ["2"])
f12, tokens = faults(run + ["12"])
print(f"page faults: {f2} with 1 decode step, {f12} with 11")
# An ASan runtime has its own allocator (freed blocks wait in a quarantine)
# and shadow memory: its page faults say nothing about the product's.
sanitized = os.environ.get("HYMBA_SANITIZED") == "1"
if sanitized:
    # ASAN: SKIP decode-step faults: an ASan build
    print("SKIP decode-step faults: an ASan build's allocator quarantines "
          "freed blocks (scripts/sanitize.sh); the normal build checks them")
else:
    # PLAIN: {{PASS decode steps fault no new pages|SKIP decode-step faults: the kernel had no free huge page}}
    check_pages("decode steps fault no new pages", "decode-step faults",
                f12 - f2 <= 40, f"({(f12 - f2) / 10:.1f} per step)")
try:
    with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
        thp = f.read()
except OSError:
    thp = "[never]"
if sanitized:
    # ASAN: SKIP start-up faults: an ASan build
    print("SKIP start-up faults: an ASan build touches shadow memory for "
          "every buffer it zeroes; the normal build checks them")
elif "[never]" in thp:
    # (A host setting, not a lit feature: the PLAIN line below allows this.)
    print("SKIP start-up faults: transparent huge pages are off here "
          f"({thp.strip()})")
else:
    # PLAIN: {{PASS start-up faults a fraction of the arena's pages|SKIP start-up faults: transparent huge pages are off|SKIP start-up faults: the kernel had no free huge page}}
    check_pages("start-up faults a fraction of the arena's pages",
                "start-up faults", f2 < pages / 4,
                f"({f2} faults, {pages} pages)")
# A 2500-token chunk: the fused input projection's output alone is 2500 x
# 6144 f32 = 61 MB (15k pages), and there are two layers.
rows, width = 2500, 6144
long_run = [exe, "--tokens", ",".join(str(3 + i % 500) for i in range(rows)),
            "--ids", "--ignore-eos", "-n", "1"]
big_pages = rows * width * 4 // 4096
if sanitized:
    # ASAN: SKIP long-prefill faults: an ASan build
    print("SKIP long-prefill faults: an ASan build's allocator has its own "
          "policy for large blocks; the normal build checks them")
elif "[never]" in thp:
    print("SKIP long-prefill faults: transparent huge pages are off here "
          f"({thp.strip()})")
else:
    f_long, _ = faults(long_run)
    print(f"page faults: {f_long - f2} more for a {rows}-token prefill "
          f"(its largest temporary has {big_pages} pages)")
    # PLAIN: {{PASS a long prefill faults a fraction of its temporaries' pages|SKIP long-prefill faults: transparent huge pages are off|SKIP long-prefill faults: the kernel had no free huge page}}
    check_pages("a long prefill faults a fraction of its temporaries' pages",
                "long-prefill faults", f_long - f2 < big_pages / 4,
                f"({f_long - f2} faults)")
# CHECK: PASS it generates
check("it generates", len(tokens.split()) == 12, f"({tokens})")
_, mapped = faults(run + ["12"], dict(os.environ, HYMBA_MMAP="1"))
# CHECK: PASS mapped parameters (HYMBA_MMAP=1) generate the same tokens
check("mapped parameters (HYMBA_MMAP=1) generate the same tokens",
      mapped == tokens, f"({mapped})")

shutil.rmtree(work, ignore_errors=True)
finish()
# CHECK: ALL PASSED
