"""Prints how much prefix state an executable's payload carries.

  payload_state.py EXE  ->  "prefix state: S of N bytes"
(S is 0 when the meta tokens were not folded at compile time.)
"""
import struct
import sys

with open(sys.argv[1], "rb") as f:
    f.seek(-80, 2)
    trailer = f.read(80)
fields = struct.unpack("<9Q8s", trailer)
if fields[9] != b"HYMBAPK1":
    sys.exit(f"{sys.argv[1]}: no hymba payload trailer")
print(f"prefix state: {fields[8]} of {fields[6]} bytes")
