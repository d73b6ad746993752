"""Checks the projection micro-kernel in a model object's disassembly.

  check_gemm_asm.py OBJDUMP OBJECT MIN_FMAS [MNEMONIC [MAX_STACK [EXCLUDE]]]

Finds the innermost loops (a backward branch and the instructions from its
target up to it, with no other backward branch inside) of the outlined
parallel regions (the functions named `..omp_par`) that are outer
products (more FMAs than broadcasts) and reports, for the one with the
most FMAs, how many FMAs, packed loads and broadcasts it has
and how many instructions touch the stack ((%rsp): a spilled accumulator or
a reload). The register tile of hymba-vectorize-linear must keep every
accumulator in a register: that loop needs at least MIN_FMAS FMAs and no
stack access. AVX512_BF16 dot products (vdpbf16ps, --compute=bf16) and
integer dot products (--compute=int8: VNNI's vpdpbusd, or without VNNI the
vpmaddubsw that starts each) count as FMAs; they are also reported on their
own, with how many of them take a packed (full-vector) memory operand. With MNEMONIC (e.g. vpdpbusd) the loop with the most of
that instruction is the one checked, not the one with the most FMAs, and
MAX_STACK (default 0) stack accesses are allowed in it. With EXCLUDE (e.g.
vcvtdq2ps) loops that contain that instruction are not candidates: the
integer tile's loop over the quads of a group has no conversion, while a
group loop that LLVM unrolled whole (K of one group: a test model's size,
not a real one's) converts its sums in the same loop.
"""
import re
import subprocess
import sys

objdump, obj, min_fmas = sys.argv[1], sys.argv[2], int(sys.argv[3])
rank_by = tuple(sys.argv[4:5]) or ("vfmadd", "vdpbf16ps", "vpdpbusd")
max_stack = int(sys.argv[5]) if len(sys.argv) > 5 else 0
exclude = sys.argv[6] if len(sys.argv) > 6 else None
asm = subprocess.run([objdump, "-d", "--no-show-raw-insn", obj], check=True,
                     capture_output=True, text=True).stdout

# The projection kernels run in the OpenMP regions outlined from the layer
# functions (`..omp_par`); the serial code between them (element-wise loops
# such as the SiLU gate's polynomial exp) may hold more FMAs per loop.
insns = []  # (address, text)
in_region = False
for line in asm.splitlines():
    f = re.match(r"[0-9a-f]+ <(.*)>:", line)
    if f:
        in_region = "omp_par" in f.group(1)
    m = re.match(r"\s+([0-9a-f]+):\s+(.*)", line)
    if m and in_region:
        insns.append((int(m.group(1), 16), m.group(2).strip()))

loops = []  # (start address, end address)
for addr, text in insns:
    m = re.match(r"j\w+\s+(?:0x)?([0-9a-f]+)\b", text)
    if m and int(m.group(1), 16) < addr:
        loops.append((int(m.group(1), 16), addr))
FMA_LIKE = ("vfmadd", "vdpbf16ps", "vpdpbusd", "vpmaddubsw")
INT8_DOTS = ("vpdpbusd", "vpmaddubsw")


def count_broadcasts(body):
    return sum(t.startswith(("vbroadcastss", "vpbroadcastd")) or "{1to" in t
               for t in body)


best = None
for start, end in loops:
    if any(start <= s2 and e2 < end for s2, e2 in loops if (s2, e2) != (start, end)):
        continue  # not innermost
    body = [t for a, t in insns if start <= a <= end]
    # A projection tile is an outer product: each broadcast of x feeds one
    # FMA per weight vector of the tile (two or more). The attention's
    # query-lane products broadcast one key or value element per FMA; they
    # are not the loop this test checks.
    if count_broadcasts(body) >= sum(t.startswith(FMA_LIKE) for t in body):
        continue
    if exclude and any(t.startswith(exclude) for t in body):
        continue
    rank = sum(t.startswith(rank_by) for t in body)
    if best is None or rank > best[0]:
        best = (rank, body)

if best is None:
    sys.exit("no loops found")
body = best[1]
fmas = sum(t.startswith(FMA_LIKE) for t in body)
# f32 moves, bf16 widening loads, i8/i4 sign-extending loads.
loads = sum(bool(re.match(r"(vmovups|vmovaps|vpmovzxwd|vmovdqu|vpmovsxbd)\w*\s+-?(0x[0-9a-f]+)?\(", t))
            for t in body)
broadcasts = count_broadcasts(body)
stack = [t for t in body if "(%rsp" in t]
# Of those, the ones that move a vector register: a spilled accumulator or
# weight vector (the rest reload loop-invariant addresses into GPRs).
vector_stack = [t for t in stack if re.search(r"%[xyz]mm", t)]
dots = [t for t in body if t.startswith("vdpbf16ps")]
int8_dots = [t for t in body if t.startswith(INT8_DOTS)]
# A weight vector read by the dot itself: a memory operand, not a broadcast.
dot_loads = sum("(" in t and "{1to" not in t for t in dots + int8_dots)
# int8 weights loaded by the xor that flips their sign bits (vpdpbusd's
# unsigned operand), or int4 ones by the nibble mask (vpand for
# pmaddubsw's).
flip_loads = sum(bool(re.match(r"(vpxor|vpternlog|vpand)\w*\s+-?(0x[0-9a-f]+)?\(", t))
                 for t in body)
loads += dot_loads + flip_loads
print(f"hottest loop: {len(body)} instructions, {fmas} FMAs, {loads} packed "
      f"loads, {broadcasts} broadcasts, {len(stack)} stack accesses, "
      f"{len(dots)} bf16 dot products, {len(int8_dots)} int8 dot products "
      f"({dot_loads} with a packed memory operand), "
      f"{len(vector_stack)} vector stack accesses")
for t in stack:
    print(f"  stack: {t}")
ok = fmas >= min_fmas and len(stack) <= max_stack and loads > 0
print("OK" if ok else f"FAIL: want >= {min_fmas} FMAs, packed loads, "
      f"<= {max_stack} stack accesses")
sys.exit(0 if ok else 1)
