"""Hostile output paths for every writer of the project.

  output_files.py HYMBA_COMPILE PYTOOLS_DIR WORK_DIR

Only FIFOs, symlinks and files made here are used as targets: a test must
never be able to replace a real device, even when the code under test is
broken.
"""
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading

hymba_compile, pytools, work = sys.argv[1:4]
sys.path.insert(0, pytools)
from hymba_tools import make_checkpoint, presets  # noqa: E402

shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
passed = failed = 0
tmpdir = os.path.join(work, "tmp")
os.makedirs(tmpdir)
env = dict(os.environ, TMPDIR=tmpdir)


failures = []


def check(name, ok, detail=""):
    global passed, failed
    print(f"{'PASS' if ok else 'FAIL'} {name} {detail}")
    passed, failed = passed + bool(ok), failed + (not ok)
    if not ok:
        failures.append(f"{name}: {detail}")


class FifoReader:
    """Reads a FIFO in the background; unblocks itself if nobody writes."""

    def __init__(self, path):
        self.path, self.data = path, None
        os.mkfifo(path)
        self.thread = threading.Thread(target=self._read)
        self.thread.start()

    def _read(self):
        with open(self.path, "rb") as f:
            self.data = f.read()

    def close(self):
        if self.thread.is_alive():  # the writer never opened it
            try:
                os.close(os.open(self.path, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
        self.thread.join(10)
        return stat.S_ISFIFO(os.lstat(self.path).st_mode)


def compile_(*args, timeout=300):
    return subprocess.run([hymba_compile, *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


def clean(r):
    return ("LLVM ERROR" not in r.stderr and "Stack dump" not in r.stderr
            and "PLEASE submit" not in r.stderr)


def no_temp_left(directory):
    return [f for f in os.listdir(directory) if ".tmp" in f or f.startswith("hymba-")]


ck = make_checkpoint.write_checkpoint(presets.preset("tiny"), os.path.join(work, "ck"), "f32")

# --- hymba-compile -------------------------------------------------------
fifo = FifoReader(os.path.join(work, "ir.fifo"))
r = compile_(ck, "--emit=hymba", "-o", fifo.path)
still = fifo.close()
# CHECK: PASS --emit=hymba to a FIFO: written in place
check("--emit=hymba to a FIFO: written in place", r.returncode == 0 and still
      and fifo.data and b"hymba_start" in fifo.data, r.stderr.strip()[:200])

victim = os.path.join(work, "victim.mlir")
open(victim, "w").write("old\n")
link = os.path.join(work, "link.mlir")
os.symlink(victim, link)
r = compile_(ck, "--emit=hymba", "-o", link)
# CHECK: PASS --emit=hymba to a symlink: the link stays, its file is replaced
check("--emit=hymba to a symlink: the link stays, its file is replaced",
      r.returncode == 0 and os.path.islink(link) and "hymba_start" in open(victim).read(),
      r.stderr.strip()[:200])

fifo = FifoReader(os.path.join(work, "linked.fifo"))
link2 = os.path.join(work, "to-fifo.ll")
os.symlink(fifo.path, link2)
r = compile_(ck, "--emit=llvm", "--no-fold-meta", "-o", link2)
still = fifo.close()
# CHECK: PASS --emit=llvm to a symlink to a FIFO: written in place
check("--emit=llvm to a symlink to a FIFO: written in place", r.returncode == 0 and still
      and os.path.islink(link2) and fifo.data and b"define" in fifo.data,
      r.stderr.strip()[:200])

fifo = FifoReader(os.path.join(work, "exe.fifo"))
r = compile_(ck, "-o", fifo.path)
still = fifo.close()
# CHECK: PASS executable to a FIFO: refused, FIFO kept
check("executable to a FIFO: refused, FIFO kept", r.returncode == 1 and still and clean(r)
      and "not a regular file" in r.stderr, r.stderr.strip()[:200])

d = os.path.join(work, "adir")
os.makedirs(d)
r = compile_(ck, "--emit=hymba", "-o", d)
# CHECK: PASS output is a directory
check("output is a directory", r.returncode == 1 and clean(r) and "is a directory" in r.stderr,
      r.stderr.strip()[:200])

r = compile_(ck, "--emit=hymba", "-o", os.path.join(work, "dangling"), timeout=60) \
    if os.symlink(os.path.join(work, "nowhere", "x"), os.path.join(work, "dangling")) is None else None
# CHECK: PASS output is a dangling symlink: refused
check("output is a dangling symlink: refused", r.returncode == 1 and clean(r)
      and "missing" in r.stderr, r.stderr.strip()[:200])

exe = os.path.join(work, "model")
r = compile_(ck, "-o", exe, "--no-fold-meta", "--payload-layout", "/nonexistent/x.json")
# CHECK: PASS --payload-layout in a missing directory: a clear error
check("--payload-layout in a missing directory: a clear error",
      r.returncode == 1 and clean(r) and "/nonexistent/x.json" in r.stderr
      and not os.path.exists(exe), r.stderr.strip()[:200])

fifo = FifoReader(os.path.join(work, "layout.fifo"))
r = compile_(ck, "-o", exe, "--no-fold-meta", "--payload-layout", fifo.path)
still = fifo.close()
ok = r.returncode == 0 and still and fifo.data
# CHECK: PASS --payload-layout to a FIFO: written in place
check("--payload-layout to a FIFO: written in place",
      ok and json.loads(fifo.data)["program_bytes"] > 0, r.stderr.strip()[:200])

# Write errors (a file-size limit) are reported, nothing is left behind.
# The limit lets the linker write the program part but not the executable.
limit_kb = (json.loads(fifo.data)["program_bytes"] + 60000) // 1024 if ok else 600
# -j 2 writes the weights on a second thread while the code is generated.
# CHECK: PASS write past ulimit -f (-j 1): a clear error, no file, no temporaries
# CHECK: PASS write past ulimit -f (-j 2): a clear error, no file, no temporaries
for jobs in ("1", "2"):
    r = subprocess.run(["bash", "-c", f"ulimit -f {limit_kb}; exec {hymba_compile} {ck} "
                        f"-o {work}/big -j {jobs}"],
                       capture_output=True, text=True, env=env, timeout=300)
    check(f"write past ulimit -f (-j {jobs}): a clear error, no file, no temporaries",
          r.returncode == 1 and clean(r) and "big" in r.stderr
          and not os.path.exists(f"{work}/big")
          and not [f for f in os.listdir(work) if f.startswith("big")]
          and not no_temp_left(tmpdir), r.stderr.strip()[:200])
# CHECK: PASS no temporary files left in $TMPDIR
check("no temporary files left in $TMPDIR", not no_temp_left(tmpdir), str(no_temp_left(tmpdir)))

# A compile killed by SIGTERM or SIGINT leaves no temporaries behind, in
# $TMPDIR or beside the output.
import signal  # noqa: E402
import time  # noqa: E402
# CHECK: PASS SIGTERM during a compile: no temporaries left
# CHECK: PASS SIGINT during a compile: no temporaries left
for signame in ("SIGTERM", "SIGINT"):
    sig = getattr(signal, signame)
    sigdir = os.path.join(work, "sig-" + signame)
    os.makedirs(sigdir)
    p = subprocess.Popen([hymba_compile, ck, "-o", os.path.join(sigdir, "model")],
                         env=dict(env, TMPDIR=sigdir), start_new_session=True,
                         stderr=subprocess.DEVNULL,
                         # As from a terminal: a background job (lit under
                         # nohup) inherits SIGINT ignored.
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen, deadline = [], time.time() + 120
    while not seen and p.poll() is None and time.time() < deadline:
        seen = [f for f in os.listdir(sigdir) if f.startswith("hymba-")]
        time.sleep(0.005)
    # To the process group, as Ctrl-C and job supervisors do: a linker child
    # that outlived the compiler could still write its output.
    os.killpg(p.pid, sig)
    p.wait(60)
    time.sleep(0.5)
    left = os.listdir(sigdir)
    check(f"{signame} during a compile: no temporaries left",
          seen and p.returncode == -sig and not left,
          f"saw {seen}, exit {p.returncode}, left {left}")

# --- the executable's --logits-out --------------------------------------
exe = os.path.join(work, "run")
subprocess.run([hymba_compile, ck, "-o", exe], check=True, env=env)


def run(*args):
    return subprocess.run([exe, *args], capture_output=True, timeout=120)


fifo = FifoReader(os.path.join(work, "logits.fifo"))
r = run("--tokens", "1,2", "-n", "2", "--logits-out", fifo.path)
still = fifo.close()
# CHECK: PASS --logits-out to a FIFO: written in place
check("--logits-out to a FIFO: written in place", r.returncode == 0 and still
      and fifo.data and fifo.data.startswith(b"\x93NUMPY"), r.stderr[:200])

victim = os.path.join(work, "victim.txt")
open(victim, "w").write("precious\n")
out = os.path.join(work, "out.npy")
for planted in [out + ".tmp"]:  # the name older versions used
    os.symlink(victim, planted)
r = run("--tokens", "1,2", "-n", "2", "--logits-out", out)
# CHECK: PASS --logits-out: a symlink planted at a temporary name redirects nothing
check("--logits-out: a symlink planted at a temporary name redirects nothing",
      r.returncode == 0 and open(victim).read() == "precious\n"
      and open(out, "rb").read(6) == b"\x93NUMPY", r.stderr[:200])

link = os.path.join(work, "logits-link.npy")
target = os.path.join(work, "logits-target.npy")
open(target, "w").write("old")
os.symlink(target, link)
r = run("--tokens", "1,2", "-n", "2", "--logits-out", link)
# CHECK: PASS --logits-out to a symlink: the link stays, its file is replaced
check("--logits-out to a symlink: the link stays, its file is replaced",
      r.returncode == 0 and os.path.islink(link)
      and open(target, "rb").read(6) == b"\x93NUMPY", r.stderr[:200])
leftovers = [f for f in os.listdir(work) if ".tmp-" in f]
# CHECK: PASS --logits-out leaves no temporary files
check("--logits-out leaves no temporary files", not leftovers, str(leftovers))

# --- pack_payload.py -----------------------------------------------------
base = os.path.join(work, "pk")
subprocess.run([hymba_compile, ck, "--no-fold-meta", "-o", base, "--payload-layout",
                base + ".json"], check=True, env=env)


def pack(*args):
    return subprocess.run([sys.executable, "-m", "hymba_tools.pack_payload", *args],
                          capture_output=True, text=True, cwd=pytools, timeout=300)


r = pack("--program", base, base + ".json", base + ".prog")
# CHECK: PASS pack_payload --program
check("pack_payload --program", r.returncode == 0, r.stderr[:200])
victim2 = os.path.join(work, "victim2")
open(victim2, "w").write("precious\n")
os.symlink(victim2, base + ".out.tmp")  # the name older versions used
r = pack(base + ".prog", base + ".json", ck, base + ".out")
# CHECK: PASS pack_payload: a symlink planted at a temporary name redirects nothing
check("pack_payload: a symlink planted at a temporary name redirects nothing",
      r.returncode == 0 and open(victim2).read() == "precious\n"
      and open(base + ".out", "rb").read() == open(base, "rb").read(), r.stderr[:200])
fifo = FifoReader(os.path.join(work, "pack.fifo"))
r = pack(base + ".prog", base + ".json", ck, fifo.path)
still = fifo.close()
# CHECK: PASS pack_payload to a FIFO: refused, FIFO kept
check("pack_payload to a FIFO: refused, FIFO kept", r.returncode == 1 and still
      and "not a regular file" in r.stderr, r.stderr[:200])


# pack_payload.py refuses what hymba-compile would refuse (defect 9).
import struct  # noqa: E402
other = make_checkpoint.write_checkpoint(presets.preset("nometa"), os.path.join(work, "other"),
                                         "f32")
subprocess.run([hymba_compile, other, "--no-fold-meta", "-o", base + "-other",
                "--payload-layout", base + "-other.json"], check=True, env=env)


def edited_checkpoint(name, edit):
    d = os.path.join(work, name)
    shutil.copytree(ck, d)
    edit(os.path.join(d, "model.safetensors"))
    return d


def truncate(path):
    raw = open(path, "rb").read()
    open(path, "wb").write(raw[:len(raw) - 100])


def transpose(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    t = header["model.layers.0.moe.experts.0.gate_proj.weight"]
    t["shape"] = t["shape"][::-1]
    h = json.dumps(header).encode()
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + raw[8 + n:])


# CHECK: PASS pack_payload refuses another model's layout
# CHECK: PASS pack_payload refuses another model's program and layout
# CHECK: PASS pack_payload refuses a truncated shard
# CHECK: PASS pack_payload refuses a transposed tensor
for name, args, expect in [
    ("another model's layout", [base + ".prog", base + "-other.json", ck], "SHA-256"),
    ("another model's program and layout",
     [base + "-other", base + "-other.json", ck], "vocab_size is 67"),
    ("a truncated shard", [base + ".prog", base + ".json",
                           edited_checkpoint("trunc", truncate)], "truncated"),
    ("a transposed tensor", [base + ".prog", base + ".json",
                             edited_checkpoint("transposed", transpose)], "has shape [32, 45]"),
]:
    out = os.path.join(work, "packed-bad")
    r = pack(*args, out)
    left = [f for f in os.listdir(work) if f.startswith("packed-bad") or ".packed-bad" in f]
    check(f"pack_payload refuses {name}", r.returncode == 1 and expect in r.stderr
          and "Traceback" not in r.stderr and not left, r.stderr.strip()[:160] + str(left))

for f in failures:  # again, next to the summary FileCheck shows
    print("FAILED", f)
print(f"{passed} passed, {failed} failed")
# CHECK: {{[0-9]+}} passed, 0 failed
sys.exit(1 if failed else 0)
