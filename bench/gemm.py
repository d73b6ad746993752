"""Our projection kernel in isolation: the code hymba-compile generates for
one projection, timed on random data.

  /usr/bin/python3 bench/gemm.py --shape 8960x1600 [--shape NxK ...]
      [--wdtype f32,bf16] [--threads 1,2] [--rows 512] [--seconds 1]
      [--build build] [--work out/bench/gemm]

For each shape N x K (output features x input features, PyTorch's [out, in]
weight) and weight dtype this writes the buffer-level projection the model
lowering produces, as a `linalg.generic` computing y[t, n] += x[t, k] *
W[n, k] -- with the weight panel-major (`#hymba.panels`: storage
[ceil(N / P), K, P], map (n floordiv P, k, n mod P)) when the compiler has
`hymba-pack-weights`, else in the [N, K] layout with the `hymba.linear`
marker the older pass looked for -- and lowers it with
`hymba-opt` through the same passes as the driver's CPU pipeline
(lib/Codegen/PassPipelines.cpp `buildLowerToLLVMPipeline`: hymba-vectorize-linear
sized from this CPU's vector width and registers, loops to OpenMP, LLVM).
Then mlir-translate-22, opt-22 -O3 and llc-22 -O3 -mcpu=native (the
driver's makeOptimizingTransformer(3) + codegen for the host), linked with
bench/gemm_harness.c (clang-22, LLVM's libomp). The harness checks 64
outputs against a float64 dot product, then reports the fastest call:
GFLOP/s = 2 T N K / s, and GB/s = weight bytes / s.

Prints one line per measurement; `measure()` is what bench/run.py calls.
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

LLVM_BIN = "/usr/lib/llvm-22/bin"
LLVM_LIB = "/usr/lib/llvm-22/lib"


def _help(hymba_opt):
    return subprocess.run([hymba_opt, "--help"], capture_output=True,
                          text=True).stdout


def has_panels(hymba_opt):
    """Whether this hymba-opt packs weights (then the model uses panels)."""
    return "hymba-pack-weights" in _help(hymba_opt)


def projection_mlir(n, k, wdtype, panel):
    """The projection as the lowering leaves it, on buffers, with the C
    interface the harness calls (`_mlir_ciface_proj`)."""
    wt = "bf16" if wdtype == "bf16" else "f32"
    if panel:
        wtype = f"memref<{(n + panel - 1) // panel}x{k}x{panel}x{wt}>"
        wmap = f"(n floordiv {panel}, k, n mod {panel})"
    else:
        wtype, wmap = f"memref<{n}x{k}x{wt}>", "(n, k)"
    widen = "%bw = arith.extf %b : bf16 to f32\n    " if wt == "bf16" else ""
    b = "%bw" if wt == "bf16" else "%b"
    # Before hymba-pack-weights the pass found projections by this marker.
    marker = "" if panel else " attrs = {hymba.linear}"
    return f"""
#x = affine_map<(t, n, k) -> (t, k)>
#w = affine_map<(t, n, k) -> {wmap}>
#y = affine_map<(t, n, k) -> (t, n)>
func.func @proj(%x: memref<?x{k}xf32>, %w: {wtype}, %y: memref<?x{n}xf32>)
    attributes {{llvm.emit_c_interface}} {{
  linalg.generic {{indexing_maps = [#x, #w, #y],
                  iterator_types = ["parallel", "parallel", "reduction"]}}
      ins(%x, %w : memref<?x{k}xf32>, {wtype}) outs(%y : memref<?x{n}xf32>){marker} {{
  ^bb0(%a: f32, %b: {wt}, %acc: f32):
    {widen}%m = arith.mulf %a, {b} : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }}
  return
}}
"""


def lowering(lanes, regs, helptext):
    """The driver's CPU lowering after bufferization (Pipeline.cpp), with
    the options and passes this hymba-opt (`helptext`) has."""
    regs = " vector-registers=%d" % regs if "vector-registers" in helptext else ""
    # The driver's quantized decode tiles prefetch their weights 4 KB ahead
    # (float panels, which this script measures, never do); its tiles read
    # two panels side by side (PipelineOptions prefetch-distance and
    # decode-streams; the pass itself defaults to neither).
    if "prefetch-distance" in helptext:
        regs += " prefetch-distance=4096"
    if "decode-streams" in helptext:
        regs += " decode-streams=2"
    approx = ("hymba-approximate-math," if "hymba-approximate-math" in helptext
              else "")
    return ("builtin.module(hymba-vectorize-linear{vector-width=%d%s"
            "},convert-linalg-to-loops,scf-forall-to-parallel," + approx +
            "convert-scf-to-openmp,canonicalize,convert-scf-to-cf,"
            "expand-strided-metadata,lower-affine,convert-vector-to-llvm,"
            "finalize-memref-to-llvm,convert-math-to-llvm,convert-to-llvm,"
            "reconcile-unrealized-casts)") % (lanes, regs)


def run_tool(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"{os.path.basename(cmd[0])} on {os.path.basename(cmd[1])} "
                           f"failed:\n{r.stderr[-2000:]}")
    return r.stdout


def build(n, k, wdtype, work, hymba_opt, target):
    """Builds the timing executable for one shape; returns its path."""
    lanes, regs, panel = target
    helptext = _help(hymba_opt)
    if "hymba-pack-weights" not in helptext:
        panel = 0
    name = f"proj-{n}x{k}-{wdtype}-p{panel}-v{lanes}r{regs}"
    exe = os.path.join(work, name)
    os.makedirs(work, exist_ok=True)
    base = os.path.join(work, name)
    with open(base + ".mlir", "w") as f:
        f.write(projection_mlir(n, k, wdtype, panel))
    pipeline = lowering(lanes, regs, helptext)
    run_tool([hymba_opt, base + ".mlir", "--pass-pipeline=" + pipeline,
              "-o", base + ".llvm.mlir"])
    run_tool([f"{LLVM_BIN}/mlir-translate", "--mlir-to-llvmir",
              base + ".llvm.mlir", "-o", base + ".ll"])
    run_tool([f"{LLVM_BIN}/opt", "-O3", "-mcpu=native", base + ".ll", "-o", base + ".bc"])
    run_tool([f"{LLVM_BIN}/llc", "-O3", "-mcpu=native", "-filetype=obj",
              "-relocation-model=pic", base + ".bc", "-o", base + ".o"])
    run_tool(["clang-22", "-O2", "-march=native", f"-DN={n}", f"-DK={k}",
              f"-DPANEL={panel}", f"-DWBF16={int(wdtype == 'bf16')}",
              os.path.join(BENCH, "gemm_harness.c"), base + ".o", "-o", exe,
              f"-L{LLVM_LIB}", "-lomp", f"-Wl,-rpath,{LLVM_LIB}", "-lm"])
    return exe


def time_kernel(exe, rows, threads, seconds):
    """Runs a built harness; returns its key=value report as a dict."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    r = subprocess.run([exe, str(rows), str(seconds)], env=env,
                       capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"{exe} {rows}: {r.stderr.strip() or r.returncode}")
    return {k: float(v) for k, v in re.findall(r"(\w+)=([\d.e+-]+)", r.stdout)}


def measure(n, k, wdtype, rows, threads, seconds=1.0, build_dir=None,
            work=None, target=None):
    """GFLOP/s (rows x n x k) and GB/s of our kernel for one shape."""
    build_dir = build_dir or os.path.join(ROOT, "build")
    work = work or os.path.join(ROOT, "out", "bench", "gemm")
    target = target or machine.kernel_target(
        os.path.join(build_dir, "bin", "hymba-compile"))
    exe = build(n, k, wdtype, work, os.path.join(build_dir, "bin", "hymba-opt"),
                target)
    return time_kernel(exe, rows, threads, seconds)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", action="append", required=True,
                    help="N x K, e.g. 8960x1600 (repeatable)")
    ap.add_argument("--wdtype", default="f32,bf16")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rows", default="512", help="x rows T (comma list)")
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--work", default=os.path.join(ROOT, "out", "bench", "gemm"))
    a = ap.parse_args()
    target = machine.kernel_target(os.path.join(a.build, "bin", "hymba-compile"))
    print(f"kernel target: {target[0]} f32 lanes, {target[1]} registers, "
          f"panel {target[2]}", flush=True)
    for shape in a.shape:
        n, k = (int(v) for v in shape.lower().split("x"))
        for wd in a.wdtype.split(","):
            for rows in (int(r) for r in a.rows.split(",")):
                for th in (int(t) for t in a.threads.split(",")):
                    r = measure(n, k, wd, rows, th, a.seconds, a.build, a.work, target)
                    print(f"N={n} K={k} {wd} T={rows} threads={th}: "
                          f"{r['gflops']:.1f} GFLOP/s, {r['gbs']:.1f} GB/s weights, "
                          f"max rel err {r['maxerr']:.1e}", flush=True)


if __name__ == "__main__":
    main()
