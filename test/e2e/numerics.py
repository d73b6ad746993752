"""End-to-end numerics of compiled executables against the float64 reference.

For each configuration (random checkpoints, then the trained
models/hymba-kjv on a fixed prompt): compile it, run the executable
greedily with --logits-out, and check
  * prefill + decode logits vs reference.forward over the same sequence
    (max abs error / max abs reference <= 1e-4),
  * greedy tokens identical to the reference's argmax at every step,
  * token-by-token decode == one full prefill over the same sequence,
  * chunked prefill == one-shot prefill.

  numerics.py HYMBA_COMPILE PYTOOLS WORK [extra hymba-compile flags...]

With --quant-group=N among the flags, the reference quantizes the weights
(and, for --compute=int8, x) per group of N inputs, like the executable;
the default is 32.

With --compute=bf16 among the flags (bf16 dot products, projection inputs
rounded to bf16) the float cases run with bf16 weights against the
reference with the same rounding (reference.forward(compute="bf16")), and
each also reports the rounding's cost: the error against the reference
without it. That needs a CPU with AVX512_BF16; without one the run says so
and checks nothing.
"""
# The CHECK lines (FileCheck reads this file, with --implicit-check-not=FAIL):
# every check by name, in the order the checks run: each case's four beside
# its row of CASES, the trained model's beside its loop. The prefixes say
# which runs have them: CHECK every run; INTW the integer-weight cases, which
# --compute=bf16 skips (run by numerics.test and compute-int8.test); F32,
# BF16 and INT8 what only that --compute runs (the trained model's weight
# types, the count); NOINT8 and NOBF16 the skip on a CPU without the
# instructions (compute-int8.test and compute-bf16.test choose those by the
# lit features cpu-int8-dot, cpu-int8-dot-v3, cpu-int8-dot-v4 and
# cpu-avx512bf16, which lit.cfg.py gets from hymba-compile --print-target
# as this script does).
import os
import shutil
import subprocess
import sys

import numpy as np
import sentencepiece as spm

hymba_compile, pytools, work = sys.argv[1:4]
extra_flags = sys.argv[4:]
sys.path.insert(0, pytools)
from hymba_tools import config as hc  # noqa: E402
from hymba_tools import make_checkpoint, presets  # noqa: E402
from hymba_tools import reference as ref  # noqa: E402
from hymba_tools import quantize as quant  # noqa: E402
from hymba_tools import safetensors_io as st  # noqa: E402
from hymba_tools import target as hymba_target  # noqa: E402

TOL = 1e-4
COMPUTE = ("bf16" if "--compute=bf16" in extra_flags else
           "int8" if "--compute=int8" in extra_flags else "f32")
# hymba-compile's own default for int8/int4 weights depends on the CPU
# (int8 compute where it has integer dot products: --print-target): the f32
# run asks for f32 by name, so that every host checks the same arithmetic.
GROUP = next((int(f.split("=", 1)[1]) for f in extra_flags
              if f.startswith("--quant-group=")), 32)
if not any(f.startswith("--compute") for f in extra_flags):
    extra_flags.append("--compute=f32")
# Whether this machine runs what the flags build, as the compiler says
# (hymba-compile --print-target: lit.cfg.py asks the same question to pick
# the CHECK prefixes).
TARGET = next((f.split("=", 1)[1] for f in extra_flags
               if f.startswith("--target-cpu=")), "native")
if COMPUTE != "f32":
    why = hymba_target.compute_obstacle(
        hymba_target.describe(hymba_compile, TARGET), COMPUTE)
    if why:
        # NOINT8: SKIPPED: --compute=int8 for --target-cpu={{.*}} cannot run here:
        # NOBF16: SKIPPED: --compute=bf16 for --target-cpu=native cannot run here:
        print(f"SKIPPED: --compute={COMPUTE} for --target-cpu={TARGET} cannot "
              f"run here: {why} (hymba-compile --print-target)")
        sys.exit(0)
if COMPUTE == "int8":
    # The logits are checked like-with-like (check_int8); decode vs
    # prefill and chunked vs one-shot, whose f32 activations differ in the
    # last bits too, by consistent() below.
    TOL = 1e-2
if COMPUTE == "bf16":
    # Rounding to bf16 is a step function: an activation one f32 ulp away
    # from the reference's (another summation order, float64 vs f32) can
    # round to the neighbouring bf16, a 2^-9 relative step that later layers
    # carry, so even like-with-like results differ by up to a few 1e-3 (and
    # decode vs prefill, chunked vs not, alike). The logits check is then:
    # max error <= TOL, and an RMS error against the rounded reference below
    # 3/4 of the one against the unrounded reference (measured: 1e-5 to 0.3
    # on random weights, 0.5 on the trained model; without the rounding in
    # the executable it would be far above 1), which fails if the rounding
    # the executable applies is not the reference's.
    TOL = 1e-2
CASES = [
    # name, preset, checkpoint dtype, shards, --dtype, prompt length, steps
    # CHECK: PASS tiny-f32 logits:
    # CHECK: PASS tiny-f32 greedy tokens:
    # CHECK: PASS tiny-f32 decode == prefill:
    # CHECK: PASS tiny-f32 chunked prefill:
    ("tiny-f32", "tiny", "f32", 1, "f32", 9, 6),
    # CHECK: PASS tiny-bf16-ckpt logits:
    # CHECK: PASS tiny-bf16-ckpt greedy tokens:
    # CHECK: PASS tiny-bf16-ckpt decode == prefill:
    # CHECK: PASS tiny-bf16-ckpt chunked prefill:
    ("tiny-bf16-ckpt", "tiny", "bf16", 1, "f32", 13, 5),
    # CHECK: PASS tiny-bf16-weights logits:
    # CHECK: PASS tiny-bf16-weights greedy tokens:
    # CHECK: PASS tiny-bf16-weights decode == prefill:
    # CHECK: PASS tiny-bf16-weights chunked prefill:
    ("tiny-bf16-weights", "tiny", "bf16", 1, "bf16", 7, 5),
    # CHECK: PASS nometa-untied-sharded logits:
    # CHECK: PASS nometa-untied-sharded greedy tokens:
    # CHECK: PASS nometa-untied-sharded decode == prefill:
    # CHECK: PASS nometa-untied-sharded chunked prefill:
    ("nometa-untied-sharded", "nometa", "f16", 2, "f32", 6, 6),
    # CHECK: PASS kv-group-of-three logits:
    # CHECK: PASS kv-group-of-three greedy tokens:
    # CHECK: PASS kv-group-of-three decode == prefill:
    # CHECK: PASS kv-group-of-three chunked prefill:
    ("kv-group-of-three", "group3", "bf16", 1, "f32", 11, 6),
    # CHECK: PASS odd-sizes-window-2 logits:
    # CHECK: PASS odd-sizes-window-2 greedy tokens:
    # CHECK: PASS odd-sizes-window-2 decode == prefill:
    # CHECK: PASS odd-sizes-window-2 chunked prefill:
    ("odd-sizes-window-2", "odd", "f32", 1, "f32", 10, 7),
    # Enough rows for full register tiles of every target (AVX-512: 14).
    # CHECK: PASS tiny-long-prompt logits:
    # CHECK: PASS tiny-long-prompt greedy tokens:
    # CHECK: PASS tiny-long-prompt decode == prefill:
    # CHECK: PASS tiny-long-prompt chunked prefill:
    ("tiny-long-prompt", "tiny", "bf16", 1, "bf16", 40, 4),
    # A prompt of at least a vector of rows runs the query-lane attention
    # items of prefill; here with no meta tokens, no window and 3 query
    # heads per KV head.
    # CHECK: PASS nometa-long-prompt logits:
    # CHECK: PASS nometa-long-prompt greedy tokens:
    # CHECK: PASS nometa-long-prompt decode == prefill:
    # CHECK: PASS nometa-long-prompt chunked prefill:
    ("nometa-long-prompt", "nometa", "f32", 1, "f32", 21, 4),
    # Quantized weights (int8/int4 per group of 32): odd sizes give partial
    # groups and partial panels; the long prompt full quantized tiles.
    # INTW: PASS tiny-int8 logits:
    # INTW: PASS tiny-int8 greedy tokens:
    # INTW: PASS tiny-int8 decode == prefill:
    # INTW: PASS tiny-int8 chunked prefill:
    ("tiny-int8", "tiny", "bf16", 1, "int8", 9, 5),
    # INTW: PASS odd-sizes-int4 logits:
    # INTW: PASS odd-sizes-int4 greedy tokens:
    # INTW: PASS odd-sizes-int4 decode == prefill:
    # INTW: PASS odd-sizes-int4 chunked prefill:
    ("odd-sizes-int4", "odd", "f32", 1, "int4", 10, 5),
    # INTW: PASS kv-group-of-three-int8 logits:
    # INTW: PASS kv-group-of-three-int8 greedy tokens:
    # INTW: PASS kv-group-of-three-int8 decode == prefill:
    # INTW: PASS kv-group-of-three-int8 chunked prefill:
    ("kv-group-of-three-int8", "group3", "f16", 1, "int8", 7, 4),
    # INTW: PASS tiny-long-prompt-int4 logits:
    # INTW: PASS tiny-long-prompt-int4 greedy tokens:
    # INTW: PASS tiny-long-prompt-int4 decode == prefill:
    # INTW: PASS tiny-long-prompt-int4 chunked prefill:
    ("tiny-long-prompt-int4", "tiny", "f32", 1, "int4", 40, 3),
]

shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
passed = failed = 0


def rel_err(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def rel_rms(a, b):
    return float(np.sqrt(((a - b) ** 2).mean() / (b ** 2).mean()))


def run(exe, *args):
    r = subprocess.run([exe, *args], capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"{exe} {' '.join(args)} failed: {r.stderr}")
    return r.stdout


def check(name, ok, detail):
    global passed, failed
    print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}")
    if ok:
        passed += 1
    else:
        failed += 1


def check_int8(name, got, want, W, d, seq):
    """--compute=int8: logits against the reference that quantizes x the
    same way. Quantizing is a step function: an input within f32 noise of a
    rounding boundary (half a step) may round the other way in the
    executable, whose f32 activations differ from the float64 reference's
    in the last bits, and later rows inherit the change through the caches
    and the scan. On random weights that does not happen (the runs agree to
    ~1e-7 in every row); on the trained model it does, from row 1 or 5 on,
    and the flips add up to about the size of the quantization's own effect
    there. So: the first row within 1e-4 (measured ~3e-7; without the
    quantization of x, or with another one, it is off by ~1e-3 on the
    trained model and ~3e-2 on random ones), every row within TOL, and the
    rows that match at 1e-4 are counted."""
    plain = ref.forward(W, d, seq)
    err, cost = rel_err(got, want), rel_err(got, plain)
    scale = np.abs(want).max()
    row_err = [float(np.abs(got[r] - want[r]).max() / scale) for r in range(len(got))]
    exact = sum(e <= 1e-4 for e in row_err)
    first_plain = float(np.abs(got[0] - plain[0]).max() / scale)
    print(f"INFO {name} --compute=int8: rel err {cost:.2e} against the "
          f"reference without the quantization of x; {exact}/{len(got)} rows "
          "within 1e-4 of the one with it")
    check(f"{name} logits", got.shape == want.shape and err <= TOL
          and row_err[0] <= 1e-4,
          f"shape {got.shape}, rel err {err:.2e} (tol {TOL:g}), first row "
          f"{row_err[0]:.2e} (1e-4; {first_plain:.2e} without the "
          "quantization of x)")
    return cost


def consistent(name, what, a, b, cost):
    """Two runs of one executable that should agree: decode step by step
    against one prefill, or a chunked prefill against a one-shot one. With
    f32 compute they agree to 1e-5. Where the executable rounds activations
    (--compute=int8 or bf16), another summation order (more rows in a tile,
    another attention split) can move an activation across a rounding
    boundary, and later rows inherit the change: measured up to 1.8e-2 on
    a case whose rounding itself moves the logits by 4.0e-2. So: the first
    row, computed the same way by both runs before any such flip can reach
    it, within 1e-4, and every row within TOL or, where larger, the case's
    own rounding cost (`cost`: the executable against the reference without
    the rounding). A real fault (a wrong cache row, a lost chunk) moves the
    first row, or the rest by far more (relative errors of order 1)."""
    err = rel_err(a, b)
    if COMPUTE == "f32":
        check(f"{name} {what}", err <= 1e-5, f"rel err {err:.2e}")
        return
    first = float(np.abs(a[0] - b[0]).max() / np.abs(b).max())
    tol = max(TOL, cost)
    check(f"{name} {what}", err <= tol and first <= 1e-4,
          f"rel err {err:.2e} (tol {tol:.2e}: {TOL:g} or the rounding's cost), "
          f"first row {first:.2e} (1e-4)")


def check_model(name, ck, dtype, prompt, N):
    """Four checks (their CHECK lines are beside each row of CASES and the
    trained model's loop): logits, greedy tokens, decode == prefill,
    chunked prefill."""
    d = hc.load_dims(ck)
    W = st.read_checkpoint(ck)
    if dtype == "bf16":  # the executable stores bf16: the reference must too
        W = {k: st.quantize(v, "BF16") for k, v in W.items()}
    elif dtype in quant.BITS:  # and its quantized projections
        W = quant.quantize_weights(W, dtype, GROUP)
    exe = os.path.join(work, name + ".exe")
    subprocess.run([hymba_compile, ck, "-o", exe, "--dtype", dtype, *extra_flags],
                   check=True)
    T = len(prompt)
    ids_arg = ",".join(map(str, prompt))
    lpath = os.path.join(work, name + ".npy")
    out = run(exe, "--tokens", ids_arg, "-n", str(N), "--ids", "--ignore-eos",
              "--logits-out", lpath)
    gen = [int(x) for x in out.split()]
    got = np.load(lpath)
    seq = prompt + gen[:-1]
    want = ref.forward(W, d, seq, compute=COMPUTE, group=GROUP)
    err = rel_err(got, want)
    cost = 0.0  # of rounding activations (--compute=int8, bf16)
    if COMPUTE == "int8":
        cost = check_int8(name, got, want, W, d, seq)
    elif COMPUTE == "f32":
        check(f"{name} logits", got.shape == want.shape and err <= TOL,
              f"shape {got.shape}, rel err {err:.2e} (tol {TOL:g})")
    else:
        plain = ref.forward(W, d, seq)
        cost = rel_err(got, plain)
        like, unlike = rel_rms(got, want), rel_rms(got, plain)
        print(f"INFO {name} --compute={COMPUTE}: rel err {cost:.2e} against "
              "the reference without the rounding")
        check(f"{name} logits", got.shape == want.shape and err <= TOL
              and like <= 0.75 * unlike,
              f"shape {got.shape}, rel err {err:.2e} (tol {TOL:g}), rel RMS "
              f"err {like:.2e} vs {unlike:.2e} without the rounding")
    ref_tokens = [int(np.argmax(want[T - 1 + i])) for i in range(N)]
    check(f"{name} greedy tokens", gen == ref_tokens, f"{gen} vs reference {ref_tokens}")

    # Decode step by step == one prefill over the whole sequence.
    lfull = os.path.join(work, name + "-full.npy")
    run(exe, "--tokens", ",".join(map(str, seq)), "-n", "1", "--ids",
        "--ignore-eos", "--logits-out", lfull)
    full = np.load(lfull)
    consistent(name, "decode == prefill", got, full, cost)

    # Chunked prefill == one-shot prefill. Long prompts in chunks of 9 rows,
    # at least a vector of them: the query-lane attention items of later
    # chunks read keys from the cache too (ring rows past a short window).
    lchunk = os.path.join(work, name + "-chunk.npy")
    chunk = "9" if len(prompt) >= 20 else "3"
    run(exe, "--tokens", ids_arg, "-n", str(N), "--ids", "--ignore-eos",
        "--prefill-chunk", chunk, "--logits-out", lchunk)
    consistent(name, "chunked prefill", np.load(lchunk), got, cost)
    return gen


for name, preset, ck_dtype, shards, dtype, T, N in CASES:
    if COMPUTE == "bf16":
        if dtype in quant.BITS:
            continue  # --compute=bf16 multiplies bf16 weights only
        dtype = "bf16"
    elif COMPUTE == "int8":
        if dtype != "int4":  # int4 cases stay int4: both multiply as int8
            dtype = "int8"
    ck = make_checkpoint.write_checkpoint(
        presets.preset(preset), os.path.join(work, name), ck_dtype,
        shards=shards, seed=len(name))
    vocab = hc.load_dims(ck).vocab
    prompt = [int(x) for x in np.random.default_rng(T).integers(3, vocab, T)]
    check_model(name, ck, dtype, prompt, N)

# The trained model the project ships: trained weights have the structure
# random ones lack (peaked softmaxes, outlier channels, long-range use of
# the caches), and its greedy continuation of a fixed prompt is text.
kjv = os.path.join(pytools, "..", "models", "hymba-kjv")
sp = spm.SentencePieceProcessor(model_file=os.path.join(kjv, "tokenizer.model"))
prompt = [sp.bos_id()] + sp.encode("And God said unto Moses,")
# F32: PASS hymba-kjv-f32 logits:
# F32: PASS hymba-kjv-f32 greedy tokens:
# F32: PASS hymba-kjv-f32 decode == prefill:
# F32: PASS hymba-kjv-f32 chunked prefill:
# F32: PASS hymba-kjv-bf16 logits:
# F32: PASS hymba-kjv-bf16 greedy tokens:
# F32: PASS hymba-kjv-bf16 decode == prefill:
# F32: PASS hymba-kjv-bf16 chunked prefill:
# F32: PASS hymba-kjv-int8 logits:
# F32: PASS hymba-kjv-int8 greedy tokens:
# F32: PASS hymba-kjv-int8 decode == prefill:
# F32: PASS hymba-kjv-int8 chunked prefill:
# F32: PASS hymba-kjv-int4 logits:
# F32: PASS hymba-kjv-int4 greedy tokens:
# F32: PASS hymba-kjv-int4 decode == prefill:
# F32: PASS hymba-kjv-int4 chunked prefill:
# BF16: PASS hymba-kjv-bf16 logits:
# BF16: PASS hymba-kjv-bf16 greedy tokens:
# BF16: PASS hymba-kjv-bf16 decode == prefill:
# BF16: PASS hymba-kjv-bf16 chunked prefill:
# INT8: PASS hymba-kjv-int8 logits:
# INT8: PASS hymba-kjv-int8 greedy tokens:
# INT8: PASS hymba-kjv-int8 decode == prefill:
# INT8: PASS hymba-kjv-int8 chunked prefill:
# INT8: PASS hymba-kjv-int4 logits:
# INT8: PASS hymba-kjv-int4 greedy tokens:
# INT8: PASS hymba-kjv-int4 decode == prefill:
# INT8: PASS hymba-kjv-int4 chunked prefill:
for dtype in {"f32": ("f32", "bf16", "int8", "int4"), "bf16": ("bf16",),
              "int8": ("int8", "int4")}[COMPUTE]:
    gen = check_model(f"hymba-kjv-{dtype}", kjv, dtype, prompt, 24)
print("hymba-kjv greedy:", repr(sp.decode(gen)))
# CHECK: hymba-kjv greedy:

print(f"{passed} passed, {failed} failed")
# F32: 64 passed, 0 failed
# BF16: 36 passed, 0 failed
# INT8: 56 passed, 0 failed
sys.exit(1 if failed else 0)
