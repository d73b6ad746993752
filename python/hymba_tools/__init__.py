"""Python tools for hymba-mlir: random checkpoints and a float64 reference.

Everything here runs on Debian's /usr/bin/python3 with python3-numpy; it never
imports the C++ compiler, so the reference is an independent reading of
shared/hymba/SPEC.md and DECISIONS.md.
"""
