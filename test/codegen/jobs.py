"""hymba-compile -j: the executable does not depend on the threads.

  jobs.py HYMBA_COMPILE CHECKPOINT WORK

With -j 2 the weights are converted on a second thread into the file that
becomes the executable, and the linked program is inserted before them
(FALLOC_FL_INSERT_RANGE) or, where the file system cannot do that, they are
written again after it (ExecutableWriter.cpp, ParamsWriter). Both ways must
give the bytes of a -j 1 build, for plain and quantized weights; the second
way is checked on a tmpfs (/dev/shm), which has no INSERT_RANGE.
"""
# The CHECK lines (FileCheck reads this file, with --implicit-check-not=FAIL):
# every check by name, beside it, in the order the checks run. Where
# /dev/shm is no writable tmpfs (a host setting), each tmpfs check prints a
# SKIP line of its own name instead.
import filecmp
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from checks import check, finish  # noqa: E402
import tempfile

hymba_compile, ck, work = sys.argv[1:4]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)


def build(out, *args):
    r = subprocess.run([hymba_compile, ck, "-o", out, *args],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr)
    return r.returncode == 0


# CHECK: PASS f32: -j 1 and -j 2 give the same executable
# CHECK: PASS int8: -j 1 and -j 2 give the same executable
for dtype in ("f32", "int8"):
    one, two = (os.path.join(work, f"{dtype}-j{j}") for j in (1, 2))
    ok = build(one, "-j", "1", "--dtype", dtype) and \
        build(two, "-j", "2", "--dtype", dtype)
    check(f"{dtype}: -j 1 and -j 2 give the same executable",
          ok and filecmp.cmp(one, two, shallow=False))

left = [f for f in os.listdir(work) if ".tmp" in f]
# CHECK: PASS no temporaries beside the outputs
check("no temporaries beside the outputs", not left, str(left))


def tmpfs(path):
    with open("/proc/mounts") as f:
        return any(line.split()[1] == path and line.split()[2] == "tmpfs"
                   for line in f)


TMPFS_CHECKS = ["-j 2 on a tmpfs (parameters written again) gives the same "
                "executable", "no temporaries on the tmpfs"]
# CHECK: {{PASS|SKIP}} -j 2 on a tmpfs (parameters written again) gives the same executable
# CHECK: {{PASS|SKIP}} no temporaries on the tmpfs
if tmpfs("/dev/shm") and os.access("/dev/shm", os.W_OK):
    d = tempfile.mkdtemp(prefix="hymba-jobs-", dir="/dev/shm")
    try:
        out = os.path.join(d, "model")
        ok = build(out, "-j", "2", "--dtype", "f32")
        check(TMPFS_CHECKS[0], ok and filecmp.cmp(
            out, os.path.join(work, "f32-j1"), shallow=False))
        check(TMPFS_CHECKS[1], os.listdir(d) == ["model"], str(os.listdir(d)))
    finally:
        shutil.rmtree(d, ignore_errors=True)
else:
    for name in TMPFS_CHECKS:
        print(f"SKIP {name}: /dev/shm is not a writable tmpfs here")

r = subprocess.run([hymba_compile, ck, "-o", os.path.join(work, "x"), "-j",
                    "many"], capture_output=True, text=True)
# CHECK: PASS -j takes a number
check("-j takes a number", r.returncode == 1 and "-j" in r.stderr,
      r.stderr.strip()[:200])
finish()
# CHECK: ALL PASSED
