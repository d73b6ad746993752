"""Assembles every .ptx file in a directory with ptxas for one architecture.

  check_ptx.py PTXAS ARCH DIR
"""
import glob
import subprocess
import sys

ptxas, arch, directory = sys.argv[1:4]
files = sorted(glob.glob(f"{directory}/*.ptx"))
passed = failed = 0
for f in files:
    r = subprocess.run([ptxas, f"-arch={arch}", f, "-o", "/dev/null"],
                       capture_output=True, text=True)
    if r.returncode == 0:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {f}: {r.stderr.strip()[:300]}")
if not files:
    print(f"FAIL no .ptx files in {directory}")
    failed += 1
print(f"{arch}: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
