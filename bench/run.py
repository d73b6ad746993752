"""Benchmark: hymba-mlir against the machine's limits and PyTorch, in one run.

  /usr/bin/python3 bench/run.py                 # Hymba-1.5B shape (tens of minutes)
  /usr/bin/python3 bench/run.py --quick         # small model, smoke test (~2 min)
  options: --threads 1,2  --prefill 512,2048  --decode 32  --skip-torch
           --skip-gemm  --build DIR  --preset NAME

Needs `scripts/setup.sh --bench` (PyTorch, the OpenMP OpenBLAS, GNU time)
and a build (scripts/build.sh). Every row is printed (and flushed) as soon
as it is measured; sections, in order:

1. Machine: CPU model, logical CPUs, the vector features that matter (avx2,
   fma, avx512f, avx512_bf16, avx512_vnni, amx), the threads measured, the
   register tile hymba-compile picks, the OPENBLAS_* variables removed
   for the BLAS subprocesses and the malloc policy they get (ours:
   bench/machine.py, MALLOC_TUNABLES), and the OpenBLAS core they run on (named with
   OPENBLAS_CORETYPE where the library's own choice uses narrower vectors
   than the CPU has: bench/machine.py, choose_openblas_core).
2. Limits, measured now: memory read bandwidth (bench/bandwidth.c, OpenMP
   read loop, best of 5 passes over 1 GiB) and OpenBLAS sgemm GFLOP/s
   (numpy on the OpenMP OpenBLAS, chosen with LD_LIBRARY_PATH, in a child
   process per thread count: bench/blas_probe.py) at 2048^3 and on every
   projection shape of the model at T = 512 rows. "sgemm(model)" is the
   rate of the whole set of projections of one forward pass at OpenBLAS'
   per-shape rates: total FLOPs / sum of each shape's FLOPs / its rate.
3. Per projection: GFLOP/s of our generated kernel (bench/gemm.py: the same
   linalg form and passes as the driver, timed in a C harness, median call)
   with f32 and bf16 weights against OpenBLAS sgemm (median call), same
   shape, same threads; and our kernel's sustained weight GB/s at T = 1
   (decode; weights streamed from memory) against the read bandwidth.
4. Ours: the model (random weights, BF16 checkpoint generated once in
   out/bench by hymba_tools.make_checkpoint in a child process) compiled
   with each --dtypes weight storage (f32, bf16, int8, int4; and
   --compute=bf16 where the compiler and CPU have it; int8 and int4 with
   --compute=f32 and, where hymba-compile --print-target says this machine
   runs it, with --compute=int8, the default there): compile wall and CPU
   seconds, peak RSS (/usr/bin/time -v) and executable size, the decode
   roofline (read bandwidth / weight bytes per step), then
   per thread count (OMP_NUM_THREADS): prefill tokens/s at each prompt
   length, TTFT, decode tokens/s over --decode steps after a 512-token
   prompt, start-up (process wall time minus TTFT and decode), peak RSS.
   The f32 build also writes the logits of a 16-token prompt, which
   PyTorch's are compared with (section 5).
     prefill GFLOP/s = (2 x projection weights but lm_head x T + 2 x lm_head
       weights, the last row's logits) / prefill s
       (attention and the scan are not counted),
     decode GB/s = weight bytes per step x decode tokens/s
       (every parameter but the meta tokens at the stored width; int8/int4:
       the quantized projections with their bf16 scales, the rest f32);
       each decode line and the summary also give it with the bytes a step
       moves beside the weights at that context added (the KV rows its
       attention sees, the scan's states: bench/model.py,
       decode_state_bytes), which a quantized step's share grows with.
5. PyTorch 1.13 eager f32 (bench/torch_hymba.py in a child process: OpenMP
   OpenBLAS, torch.mv for decode, time-chunked scan, meta prefix run once at
   load): its logits against ours (max relative difference, same argmax;
   a difference over 1e-3 fails the run), the BLAS it really loaded,
   prefill at each length (also its TTFT: its forward ends with the last
   row's logits), decode.
6. Ratios against the goals of issue 11.

The benchmark process never holds the model: the checkpoint is written by a
child, the executables map their own weights, and PyTorch loads one float32
copy in its own process after ours have exited.
"""
import argparse
import os
import re
import subprocess
import sys
import time

import numpy as np

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
import gemm  # noqa: E402
import machine  # noqa: E402
import model  # noqa: E402
from hymba_tools import config as hc  # noqa: E402
from hymba_tools import target as hymba_target  # noqa: E402

GOALS = {"prefill/sgemm": 0.7, "prefill/torch": 1.5, "decode/bw": 0.85,
         "compile_s": 30.0, "compile_gb": 1.5}
failures = []


def say(text=""):
    print(text, flush=True)


def section(title):
    say(f"\n== {title} ==")


def failed(what, err):
    failures.append(what)
    say(f"  FAILED {what}: {str(err).strip()[-2000:]}")


def stat(stderr, pattern, what):
    m = re.search(pattern, stderr)
    if not m:
        raise RuntimeError(f"no '{what}' in the executable's --stats output:\n{stderr[-1500:]}")
    return float(m.group(1))


def timed(cmd, env=None):
    """Runs cmd under /usr/bin/time -v: (wall s, peak MiB, stdout, stderr)."""
    t0 = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True,
                       text=True, env=env)
    wall = time.perf_counter() - t0
    if r.returncode:
        raise RuntimeError(f"{' '.join(cmd[:6])} ... exited {r.returncode}:\n"
                           f"{r.stderr[-2000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)",
                        r.stderr).group(1))
    return wall, rss / 1024, r.stdout, r.stderr


def cpu_seconds(time_v_stderr):
    """User + system CPU seconds from /usr/bin/time -v's report: unlike the
    wall time, hardly affected by other jobs on the machine."""
    return sum(float(m) for m in re.findall(
        r"(?:User|System) time \(seconds\): ([0-9.]+)", time_v_stderr))


def header(a, info, target):
    section("machine")
    say(f"  CPU: {info['model']} ({info['family']}), {info['cpus']} logical CPUs"
        + (f"; caches (cpu0): {info['caches']}" if info["caches"] else ""))
    feats = {f: ("yes" if f in info["flags"] else "no") for f in machine.FEATURES}
    say("  features: " + ", ".join(f"{k} {v}" for k, v in feats.items()))
    say(f"  threads measured: {', '.join(map(str, a.threads))} (OMP_NUM_THREADS "
        "for ours, torch.set_num_threads + OMP_NUM_THREADS for PyTorch/OpenBLAS)")
    say(f"  our kernel tile: {target[0]} f32 lanes, {target[1]} vector registers, "
        f"weight panel {target[2]}")
    say(f"  {machine.cleared_env_note()}")
    say(f"  BLAS subprocesses get our malloc policy: GLIBC_TUNABLES={machine.MALLOC_TUNABLES}")
    say(f"  {machine.choose_openblas_core(info)}")
    if not os.path.isdir(machine.OPENMP_BLAS_DIR):
        say(f"  WARNING: {machine.OPENMP_BLAS_DIR} is missing (scripts/setup.sh --bench "
            "installs libopenblas0-openmp); BLAS figures use the default BLAS")


def limits(a, d, shapes):
    """Bandwidth and sgemm per thread count: ({th: GB/s}, {th: {(t,n,k): GF/s}})."""
    section("machine limits (measured in this run)")
    bw, sg = {}, {}
    work = os.path.join(ROOT, "out", "bench")
    os.makedirs(work, exist_ok=True)
    for th in a.threads:
        try:
            bw[th] = machine.bandwidth(th, work, gib=a.bw_gib, passes=5)
            say(f"  memory read bandwidth, {th} thread(s): {bw[th]:.1f} GB/s "
                f"(best of 5 passes over {a.bw_gib:g} GiB)")
        except (subprocess.CalledProcessError, ValueError, OSError) as e:
            failed(f"bandwidth {th} threads", e)
    sq = a.square
    wanted = [(sq, sq, sq)] + [(a.gemm_rows, n, k) for _, n, k, _ in shapes]
    for th in a.threads:
        sg[th] = {}
        cmd = [sys.executable, os.path.join(BENCH, "blas_probe.py"),
               "--seconds", str(a.seconds)] + [f"{t}x{n}x{k}" for t, n, k in wanted]
        p = subprocess.Popen(cmd, env=machine.blas_env(th), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        for line in p.stdout:
            if line.startswith("blas:"):
                say(f"  {th} thread(s) {line.strip()}")
            elif line.startswith("sgemm"):
                t, n, k, g = line.split()[1:]
                sg[th][(int(t), int(n), int(k))] = float(g)
                label = f"{t}^3" if t == n == k else f"T={t} N={n} K={k}"
                if t == n == k:
                    say(f"  OpenBLAS sgemm {label}, {th} thread(s): {float(g):.1f} GFLOP/s")
        if p.wait():
            failed(f"sgemm probe {th} threads", p.stderr.read())
            continue
        model_rate = model_sgemm_rate(sg[th], a.gemm_rows, shapes)
        if model_rate:
            say(f"  OpenBLAS sgemm(model): all projections of one forward, T={a.gemm_rows}, "
                f"{th} thread(s): {model_rate:.1f} GFLOP/s")
    return bw, sg


def model_sgemm_rate(rates, t, shapes):
    """FLOP-weighted rate of one forward's projections at per-shape rates."""
    flops = secs = 0.0
    for _, n, k, c in shapes:
        r = rates.get((t, n, k))
        if not r:
            return None
        f = 2.0 * t * n * k * c
        flops, secs = flops + f, secs + f / (r * 1e9)
    return flops / secs / 1e9


def per_projection(a, shapes, sg, bw, target):
    """Table of our kernel vs sgemm; returns {th: {wd: rate of the model}}."""
    section(f"per projection: our kernel vs OpenBLAS sgemm (T={a.gemm_rows} rows, "
            "median call, GFLOP/s); ours at T=1 (decode: sustained weight GB/s)")
    panel = gemm.has_panels(os.path.join(a.build, "bin", "hymba-opt"))
    say(f"  our kernel: {'panel-major weights (#hymba.panels<%d>)' % target[2] if panel else '[N, K] weights (no hymba-pack-weights in this build)'}"
        ", hymba-vectorize-linear, opt/llc -O3 -mcpu=native")
    say(f"  {'projection':<22} {'N':>6} {'K':>6} {'uses':>4} {'thr':>3} "
        f"{'sgemm':>7} {'f32':>7} {'bf16':>7} {'f32/sg':>6} {'bf16/sg':>7} "
        f"{'T=1 f32 GB/s':>12} {'T=1 bf16 GB/s':>13}")
    ours = {th: {"f32": {}, "bf16": {}} for th in a.threads}
    work = os.path.join(ROOT, "out", "bench", "gemm")
    opt = os.path.join(a.build, "bin", "hymba-opt")
    for name, n, k, c in shapes:
        try:
            exes = {wd: gemm.build(n, k, wd, work, opt, target) for wd in ("f32", "bf16")}
        except RuntimeError as e:
            failed(f"building our kernel {n}x{k}", e)
            continue
        for th in a.threads:
            r, gv = {}, {}
            try:
                for wd, exe in exes.items():
                    r[wd] = gemm.time_kernel(exe, a.gemm_rows, th, a.seconds)["gflops"]
                    gv[wd] = gemm.time_kernel(exe, 1, th, a.seconds / 2)["gbs"]
                    ours[th][wd][(n, k)] = r[wd]
            except RuntimeError as e:
                failed(f"our kernel {n}x{k}, {th} threads", e)
                continue
            s = sg.get(th, {}).get((a.gemm_rows, n, k), float("nan"))
            say(f"  {name:<22} {n:>6} {k:>6} {c:>4} {th:>3} {s:>7.1f} {r['f32']:>7.1f} "
                f"{r['bf16']:>7.1f} {r['f32'] / s:>6.2f} {r['bf16'] / s:>7.2f} "
                f"{gv['f32']:>12.1f} {gv['bf16']:>13.1f}")
    rates = {}
    for th in a.threads:
        rates[th] = {}
        for wd in ("f32", "bf16"):
            rates[th][wd] = model_sgemm_rate(
                {(a.gemm_rows, n, k): v for (n, k), v in ours[th][wd].items()},
                a.gemm_rows, shapes)
            s = model_sgemm_rate(sg.get(th, {}), a.gemm_rows, shapes)
            if rates[th][wd] and s:
                say(f"  all projections of one forward, {th} thread(s), {wd} weights: "
                    f"ours {rates[th][wd]:.1f} GFLOP/s = {rates[th][wd] / s:.2f} of sgemm(model)")
    if bw:
        say("  (T=1: weights cycled through 512 MiB of copies so they come from memory; "
            "compare with the read bandwidth above)")
    return rates


def ours(a, d, ck, bw, sg, results):
    section("ours: hymba-mlir executables")
    compiler = os.path.join(a.build, "bin", "hymba-compile")
    helptext = subprocess.run([compiler, "--help"], capture_output=True, text=True).stdout
    # hymba-compile's default --compute for int8/int4 weights is int8 where
    # the CPU has integer dot products: the plain rows ask for f32 compute by
    # name, and the "--compute=int8" rows below are that default.
    def dtype_flags(dt):
        f32 = dt in ("int8", "int4") and "--compute" in helptext
        return ["--dtype", dt] + (["--compute=f32"] if f32 else [])
    variants = [(dt, dtype_flags(dt), dt) for dt in a.dtypes]
    # Which --compute rows run here, as the compiler says (--print-target).
    facts = (hymba_target.describe(compiler)
             if "--print-target" in helptext else {})
    no_bf16 = hymba_target.compute_obstacle(facts, "bf16")
    no_int8 = hymba_target.compute_obstacle(facts, "int8")
    if "--compute" not in helptext:
        say("  (--compute rows skipped: this hymba-compile has no --compute option)")
    elif "--print-target" not in helptext:
        say("  (--compute rows skipped: this hymba-compile has no --print-target)")
    if not no_bf16:
        variants.append(("bf16 --compute=bf16", ["--dtype", "bf16", "--compute=bf16"], "bf16"))
    elif facts:
        say(f"  (--compute=bf16 skipped: {no_bf16})")
    if not no_int8:
        for dt in ("int8", "int4"):
            if dt in a.dtypes:
                variants.append((f"{dt} --compute=int8",
                                 ["--dtype", dt, "--compute=int8"], dt))
    elif facts:
        say(f"  (--compute=int8 skipped: {no_int8})")
    max_len = max(a.prefill + [a.decode_after]) + a.decode + 8
    rng = np.random.default_rng(0)
    prompts = {n: ",".join(map(str, rng.integers(3, d.vocab, n)))
               for n in sorted(set(a.prefill + [a.decode_after, 16]))}
    work = os.path.join(ROOT, "out", "bench")
    head = model.head_params(d)
    say(f"  prefill GFLOP/s = (2 x {(model.projection_params(d) - head) / 1e6:.1f} M "
        f"projection weights x T + 2 x {head / 1e6:.1f} M lm_head weights (the last "
        "row's logits only)) / prefill seconds")
    for name, flags, dtype in variants:
        exe = os.path.join(work, "hymba-" + name.replace(" --compute=", "-c"))
        try:
            wall, mib, _, err = timed([compiler, ck, "-o", exe, "--max-seq-len",
                                       str(max_len), *flags])
        except RuntimeError as e:
            failed(f"compile {name}", e)
            continue
        size = os.path.getsize(exe) / 1e9
        results[("compile", name)] = (wall, mib)
        say(f"  [{name}] compile {wall:.1f} s ({cpu_seconds(err):.1f} s CPU), "
            f"peak RSS {mib:.0f} MiB, executable "
            f"{size:.2f} GB (goal < {GOALS['compile_s']:.0f} s, < {GOALS['compile_gb']} GB)")
        dbytes = model.decode_bytes_for(d, dtype)
        say(f"  [{name}] {dbytes / 1e9:.2f} GB of weights per decode step: roofline "
            + ", ".join(f"{bw[th] * 1e9 / dbytes:.2f} tok/s at {th} thr" for th in a.threads
                        if th in bw))
        for th in a.threads:
            env = dict(os.environ, OMP_NUM_THREADS=str(th))
            for n in sorted(set(a.prefill + [a.decode_after])):
                steps = a.decode + 1 if n == a.decode_after else 1
                try:
                    wall, rss, _, err = timed([exe, "--tokens", prompts[n], "-n", str(steps),
                                               "--ids", "--ignore-eos", "--stats"], env)
                    pre_s = stat(err, r"prefill: \d+ tokens in ([\d.]+) s", "prefill")
                    ttft = stat(err, r"time to first token: ([\d.]+)", "TTFT")
                    dec_s = stat(err, r"decode: \d+ tokens in ([\d.]+) s", "decode")
                except RuntimeError as e:
                    failed(f"{name} {th} threads, {n} tokens", e)
                    continue
                if n in a.prefill:
                    gf = model.prefill_flops(d, n) / pre_s / 1e9
                    s = model_sgemm_rate(sg.get(th, {}), a.gemm_rows, model.projections(d))
                    results[("prefill", name, th, n)] = n / pre_s
                    results[("ttft", name, th, n)] = ttft
                    say(f"  [{name}] {th} thr  prefill {n:>5} tok: {n / pre_s:8.2f} tok/s, "
                        f"{gf:6.1f} GFLOP/s" + (f" = {gf / s:.2f} of sgemm(model)" if s else "")
                        + f"; TTFT {ttft:.3f} s; start-up {wall - ttft - dec_s:.2f} s; "
                        f"peak RSS {rss:.0f} MiB")
                if steps > 1:
                    tps = a.decode / dec_s
                    gbs = dbytes * tps / 1e9
                    results[("decode", name, th)] = (tps, gbs)
                    # What the steps read beside the weights (the KV rows
                    # attention sees, the scan's states), at the middle step.
                    sbytes = model.decode_state_bytes(d, d.num_meta + n + a.decode // 2)
                    with_state = gbs + sbytes * tps / 1e9
                    results[("decode state", name, th)] = with_state
                    # The read bandwidth again, right after the decode: it
                    # moves during a run (other tenants of the host), most
                    # at 2 threads, and a ratio against the probe at the
                    # start alone could not tell a slow decode from a slow
                    # memory.
                    try:
                        now = machine.bandwidth(th, work, gib=a.bw_gib, passes=3)
                        results[("decode bw now", name, th)] = now
                    except (OSError, subprocess.CalledProcessError, ValueError):
                        now = None
                    say(f"  [{name}] {th} thr  decode {a.decode} steps after {n} tok: "
                        f"{tps:8.2f} tok/s, {gbs:6.1f} GB/s of weights"
                        + (f" = {gbs / bw[th]:.2f} of read bandwidth" if th in bw else "")
                        + (f" ({gbs / now:.2f} of the {now:.1f} GB/s measured just after)"
                           if now else "")
                        + f"; with the {sbytes / 1e6:.1f} MB of KV rows and states per "
                        f"step, {with_state:.1f} GB/s"
                        + (f" = {with_state / bw[th]:.2f} of read bandwidth"
                           if th in bw else ""))
            # TTFT of a short prompt: the meta-token folding case.
            try:
                _, _, _, err = timed([exe, "--tokens", prompts[16], "-n", "1", "--ids",
                                      "--stats"], env)
                ttft = stat(err, r"time to first token: ([\d.]+)", "TTFT")
                say(f"  [{name}] {th} thr  TTFT of a 16-token prompt: {ttft:.3f} s")
            except RuntimeError as e:
                failed(f"{name} {th} threads, 16 tokens", e)
        if name == "f32":
            # The logits PyTorch's are compared with (same prompt, same math).
            out = os.path.join(work, "ours-f32-logits.npy")
            try:
                timed([exe, "--tokens", prompts[16], "-n", "1", "--ids",
                       "--logits-out", out])
                results["ours logits"] = (prompts[16], out)
            except RuntimeError as e:
                failed("f32 logits for the PyTorch comparison", e)
        os.remove(exe)


def pytorch(a, ck, d, bw, results):
    section("PyTorch 1.13 eager f32 (OpenMP OpenBLAS, torch.mv decode, chunked scan)")
    cmd = [sys.executable, os.path.join(BENCH, "torch_hymba.py"), ck,
           "--threads", ",".join(map(str, a.threads)),
           "--prefill", ",".join(map(str, a.prefill)),
           "--decode", str(a.decode), "--decode-after", str(a.decode_after)]
    check = os.path.join(ROOT, "out", "bench", "torch-f32-logits.npy")
    if "ours logits" in results:
        cmd += ["--check-tokens", results["ours logits"][0], "--check-out", check]
    p = subprocess.Popen(cmd, env=machine.blas_env(max(a.threads)),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    dbytes = model.decode_bytes(d, 4)
    for line in p.stdout:
        f = line.split()
        if not f:
            continue
        if f[0] == "loaded":
            say(f"  weights loaded as f32 + meta prefix run in {float(f[1]):.1f} s (not timed)")
        elif f[0] == "checked":
            compare_logits(results["ours logits"][1], check)
        elif f[0] == "blas":
            say(f"  {f[1]} thread(s): blas {line.split(maxsplit=2)[2].strip()}")
        elif f[0] == "prefill":
            th, n, s = int(f[1]), int(f[2]), float(f[3])
            results[("torch prefill", th, n)] = n / s
            # Its forward ends with the last row's logits: the prefill time
            # is its time to first token.
            say(f"  torch {th} thr  prefill {n:>5} tok: {n / s:8.2f} tok/s; TTFT {s:.3f} s")
        elif f[0] == "decode":
            th, n, s = int(f[1]), int(f[2]), float(f[3])
            tps = n / s
            results[("torch decode", th)] = tps
            say(f"  torch {th} thr  decode {n} steps after {a.decode_after} tok: "
                f"{tps:8.2f} tok/s, {dbytes * tps / 1e9:6.1f} GB/s of weights"
                + (f" = {dbytes * tps / 1e9 / bw[th]:.2f} of read bandwidth"
                   if th in bw else ""))
        else:
            say("  " + line.rstrip())
    if p.wait():
        failed("PyTorch baseline", p.stderr.read())


def compare_logits(ours_npy, torch_npy):
    """Prints how far PyTorch's last-row logits are from ours (f32), so the
    two sides are seen to compute the same model."""
    o = np.load(ours_npy)[-1].astype(np.float64)
    t = np.load(torch_npy).astype(np.float64)
    rel = float(np.abs(o - t).max() / np.abs(o).max())
    same = int(o.argmax()) == int(t.argmax())
    say(f"  same model: last-row logits of a 16-token prompt, PyTorch vs ours f32: "
        f"max rel diff {rel:.1e}, same argmax: {'yes' if same else 'NO'}")
    if rel > 1e-3 or not same:
        failed("PyTorch and ours disagree", f"rel diff {rel:.2e}, argmax equal {same}")


def summary(a, d, bw, sg, rates, results):
    section("ratios against the goals of issue 11")
    shapes = model.projections(d)
    cols = "".join(f"{f'{th} thr':>10}" for th in a.threads)
    say(f"  {'':<44}{cols}   goal")

    def row(label, fn, goal):
        vals = []
        for th in a.threads:
            try:
                v = fn(th)
            except (KeyError, TypeError, ZeroDivisionError):
                v = None
            vals.append(f"{v:>10.2f}" if v is not None else f"{'-':>10}")
        say(f"  {label:<44}{''.join(vals)}   {goal}")

    names = [k[1] for k in results if k[0] == "compile"]
    for name in names:
        for n in a.prefill:
            row(f"prefill {n} {name} / sgemm(model, T={a.gemm_rows})",
                lambda th: results[("prefill", name, th, n)] * model.prefill_flops(d, n) / n / 1e9
                / model_sgemm_rate(sg[th], a.gemm_rows, shapes),
                f">= {GOALS['prefill/sgemm']}")
        for n in a.prefill:
            row(f"prefill {n} {name} / PyTorch f32",
                lambda th: results[("prefill", name, th, n)] / results[("torch prefill", th, n)],
                f">= {GOALS['prefill/torch']}x")
        for n in a.prefill:
            row(f"TTFT {n} {name}: PyTorch f32 / ours",
                lambda th: n / results[("torch prefill", th, n)]
                / results[("ttft", name, th, n)], f">= {GOALS['prefill/torch']}x")
        row(f"decode {name} / read bandwidth",
            lambda th: results[("decode", name, th)][1] / bw[th], f">= {GOALS['decode/bw']}")
        row(f"decode {name} / read bandwidth just after",
            lambda th: results[("decode", name, th)][1] / results[("decode bw now", name, th)],
            f">= {GOALS['decode/bw']}")
        row(f"decode {name} + KV, states / read bw",
            lambda th: results[("decode state", name, th)] / bw[th], "")
        row(f"decode {name} / PyTorch f32",
            lambda th: results[("decode", name, th)][0] / results[("torch decode", th)], "")
    for name, goal in (("int8", 1.8), ("int4", 3.0), ("int8 --compute=int8", 1.8),
                       ("int4 --compute=int8", 3.0)):
        if name in names and "bf16" in names:
            row(f"decode {name} / our bf16 decode",
                lambda th: results[("decode", name, th)][0] / results[("decode", "bf16", th)][0],
                f">= {goal}x")
            for n in a.prefill:
                row(f"prefill {n} {name} / our bf16 prefill",
                    lambda th: results[("prefill", name, th, n)]
                    / results[("prefill", "bf16", th, n)], ">= 1")
    for wd in ("f32", "bf16"):
        row(f"kernel, {wd} weights / sgemm (model shapes)",
            lambda th: rates[th][wd] / model_sgemm_rate(sg[th], a.gemm_rows, shapes),
            f">= {GOALS['prefill/sgemm']}")
    for name in names:
        s, mib = results[("compile", name)]
        say(f"  compile {name}: {s:.1f} s, {mib / 1024:.2f} GiB peak RSS"
            f"   goal < {GOALS['compile_s']:.0f} s, < {GOALS['compile_gb']} GB")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="small model and shapes, few tokens: a smoke test")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--prefill", default=None, help="prompt lengths (default 512,2048)")
    ap.add_argument("--decode", type=int, default=None, help="decode steps (default 32)")
    ap.add_argument("--preset", default=None, help="model (default hymba-1.5b)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--dtypes", default="f32,bf16,int8,int4",
                    help="weight storage of our builds (default f32,bf16,int8,int4)")
    ap.add_argument("--skip-torch", action="store_true")
    ap.add_argument("--skip-gemm", action="store_true", help="no per-projection table")
    a = ap.parse_args()
    a.threads = [int(t) for t in a.threads.split(",")]
    a.dtypes = [t for t in a.dtypes.split(",") if t]
    if not a.dtypes or any(t not in ("f32", "bf16", "int8", "int4") for t in a.dtypes):
        ap.error("--dtypes takes f32, bf16, int8 and int4, comma-separated")
    q = a.quick
    a.preset = a.preset or ("demo" if q else "hymba-1.5b")
    a.prefill = [int(n) for n in (a.prefill or ("64,128" if q else "512,2048")).split(",")]
    a.decode = a.decode or (8 if q else 32)
    a.decode_after = a.prefill[0]
    a.gemm_rows = 64 if q else 512
    a.square = 512 if q else 2048
    a.seconds = 0.2 if q else 1.0
    a.bw_gib = 1.0  # smaller buffers measure caches here (a 64 MiB one ran 2x)
    for tool in ("hymba-compile", "hymba-opt"):
        if not os.path.exists(os.path.join(a.build, "bin", tool)):
            sys.exit(f"bench: {a.build}/bin/{tool} not found; run scripts/build.sh first")
    if not os.path.exists("/usr/bin/time"):
        sys.exit("bench: /usr/bin/time not found; run scripts/setup.sh --bench")

    t_start = time.perf_counter()
    info = machine.cpu_info()
    target = machine.kernel_target(os.path.join(a.build, "bin", "hymba-compile"))
    say(f"hymba-mlir benchmark: {a.preset}{' (--quick)' if q else ''}, prompts "
        f"{', '.join(map(str, a.prefill))}, decode {a.decode} steps, threads "
        f"{', '.join(map(str, a.threads))}")
    header(a, info, target)
    if q:
        say("  --quick: a small model whose weights fit in cache and few tokens; the figures "
            "check that every part runs, they say nothing about the machine")
    d = hc.dims_from_config(model.config(a.preset))
    shapes = model.projections(d)
    bw, sg = limits(a, d, shapes)
    rates = {}
    if not a.skip_gemm:
        rates = per_projection(a, shapes, sg, bw, target)
    ck = model.ensure_checkpoint(a.preset, os.path.join(ROOT, "out", "bench"))
    results = {}
    ours(a, d, ck, bw, sg, results)
    if not a.skip_torch:
        pytorch(a, ck, d, bw, results)
    summary(a, d, bw, sg, rates, results)
    say(f"\ntotal {time.perf_counter() - t_start:.0f} s"
        + (f"; FAILED: {', '.join(failures)}" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
