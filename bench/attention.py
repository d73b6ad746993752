"""Our decode attention in isolation: the code hymba-compile generates for
one hymba.attention of a decode step, timed on random data.

  /usr/bin/python3 bench/attention.py [--positions 64,640,1100]
      [--threads 1,2] [--layers 32] [--reps 30] [--build build]
      [--work out/bench/attention]

The op has Hymba-1.5B's shape (25 heads over 5 KV heads, head dims 64 and
128, sliding window 1024, 128 meta tokens: a 1152-row KV cache) and one
query row, as in a decode step. It is lowered by `hymba-opt` through the
driver's CPU passes for it (hymba-lower-stateful-to-loops at this CPU's
vector width, the deallocation pipeline, approximate math, loops to
OpenMP, LLVM), then mlir-translate-22, opt-22 -O3 and llc-22 -O3 for the
host, and linked with bench/attention_harness.c. The harness checks one
call against a float64 softmax(q k^T / 8) v, then times steps of LAYERS
calls, each on its own cache (from memory, like a decode step's 32 layers),
and prints the fastest and the median step and the K/V read rate.
The machine's read bandwidth (bench/bandwidth.c) is printed first.

The whole model's decode (bench/run.py) varies +-20% run to run on a
shared guest; this isolates the part of a step that grows with the context.
"""
import argparse
import os
import re
import subprocess
import sys

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
import machine  # noqa: E402
from gemm import run_tool  # noqa: E402

LLVM_BIN = "/usr/lib/llvm-22/bin"
LLVM_LIB = "/usr/lib/llvm-22/lib"

ATTENTION = """
func.func @attention(%q: memref<?x1600xf32>, %k: memref<?x320xf32>,
                     %v: memref<?x640xf32>, %kc: memref<1152x320xf32>,
                     %vc: memref<1152x640xf32>, %pos: index,
                     %out: memref<?x3200xf32>)
    attributes {llvm.emit_c_interface} {
  hymba.attention %q, %k, %v, %kc, %vc at %pos outs(%out : memref<?x3200xf32>)
      {num_heads = 25 : i64, num_kv_heads = 5 : i64, window = 1024 : i64,
       num_meta = 128 : i64, scale = 0.125 : f32}
      : memref<?x1600xf32>, memref<?x320xf32>, memref<?x640xf32>,
        memref<1152x320xf32>, memref<1152x640xf32>
  return
}
"""


def lowering(lanes):
    """The driver's CPU passes for a lowered attention (PassPipelines.cpp)."""
    return ("builtin.module(hymba-lower-stateful-to-loops{vector-width=%d},"
            "buffer-deallocation-pipeline,hymba-approximate-math,"
            "convert-scf-to-openmp,canonicalize,convert-scf-to-cf,"
            "expand-strided-metadata,lower-affine,"
            "convert-vector-to-llvm{enable-x86vector},finalize-memref-to-llvm,"
            "convert-math-to-llvm,convert-to-llvm,reconcile-unrealized-casts)"
            % lanes)


def build(work, hymba_opt, lanes):
    """Builds the timing executable; returns its path."""
    os.makedirs(work, exist_ok=True)
    base = os.path.join(work, f"attention-v{lanes}")
    with open(base + ".mlir", "w") as f:
        f.write(ATTENTION)
    run_tool([hymba_opt, base + ".mlir", "--pass-pipeline=" + lowering(lanes),
              "-o", base + ".llvm.mlir"])
    run_tool([f"{LLVM_BIN}/mlir-translate", "--mlir-to-llvmir",
              base + ".llvm.mlir", "-o", base + ".ll"])
    # With the target triple, as the driver sets it: without one LLVM knows
    # no C library and expands every memset into a byte loop.
    triple = "-mtriple=x86_64-pc-linux-gnu"
    run_tool([f"{LLVM_BIN}/opt", "-O3", triple, "-mcpu=native", base + ".ll",
              "-o", base + ".bc"])
    run_tool([f"{LLVM_BIN}/llc", "-O3", triple, "-mcpu=native",
              "-filetype=obj", "-relocation-model=pic", base + ".bc", "-o",
              base + ".o"])
    run_tool(["clang-22", "-O2", "-march=native",
              os.path.join(BENCH, "attention_harness.c"), base + ".o", "-o",
              base, f"-L{LLVM_LIB}", "-lomp", f"-Wl,-rpath,{LLVM_LIB}", "-lm"])
    return base


def time_step(exe, pos, layers, reps, threads):
    """Runs the harness; returns its key=value report as a dict."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    r = subprocess.run([exe, str(pos), str(layers), str(reps)], env=env,
                       capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"{exe} {pos}: {r.stderr.strip() or r.returncode}")
    return {k: float(v) for k, v in re.findall(r"(\w+)=([\d.e+-]+)", r.stdout)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--positions", default="64,640,1100",
                    help="cache positions before the query (< 1152)")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--layers", type=int, default=32)
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--work",
                    default=os.path.join(ROOT, "out", "bench", "attention"))
    args = ap.parse_args()
    positions = [int(p) for p in args.positions.split(",")]
    threads = [int(t) for t in args.threads.split(",")]
    if any(not 0 <= p < 1152 for p in positions):
        sys.exit("attention.py: positions must be in [0, 1152)")
    info = machine.cpu_info()
    print(f"CPU: {info['model']} ({info['family']}), {info['cpus']} logical "
          f"CPUs; features: {' '.join(info['features'])}", flush=True)
    lanes = machine.kernel_target(
        os.path.join(args.build, "bin", "hymba-compile"))[0]
    exe = build(args.work, os.path.join(args.build, "bin", "hymba-opt"), lanes)
    print(f"decode attention of the 1.5B shape, {lanes} f32 lanes, "
          f"{args.layers} layers a step, best of {args.reps}", flush=True)
    for t in threads:
        bw = machine.bandwidth(t, args.work)
        print(f"threads={t} read bandwidth {bw:.1f} GB/s", flush=True)
        for pos in positions:
            r = time_step(exe, pos, args.layers, args.reps, t)
            print(f"  pos {pos:5d}: {r['min_ms']:7.3f} ms a step of "
                  f"{args.layers} layers (median {r['median_ms']:.3f}), "
                  f"K/V {r['gbs']:5.1f} GB/s = {r['gbs'] / bw:.2f} of the "
                  f"bandwidth; max rel err {r['maxerr']:.1e}", flush=True)


if __name__ == "__main__":
    main()
