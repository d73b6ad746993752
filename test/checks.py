"""PASS/FAIL lines for the Python test scripts that lit runs through
FileCheck: each check prints one line; finish() prints the verdict and
exits non-zero if any check failed.

  sys.path.insert(0, <this directory>); from checks import check, finish
"""
import sys

failed = 0


def check(name, ok, detail=""):
    global failed
    print(f"{'PASS' if ok else 'FAIL'} {name} {detail}")
    failed += not ok


def finish():
    print(f"{failed} FAILED" if failed else "ALL PASSED")
    sys.exit(1 if failed else 0)
