"""What machine the benchmark runs on, and how its subprocesses are set up.

- `cpu_info()`: the CPU model, logical CPUs and the vector features that
  matter here (from /proc/cpuinfo).
- `kernel_target(compiler)`: the register tile hymba-compile picks for this
  CPU (f32 lanes, vector registers, weight panel width), from its
  `--print-target` (python/hymba_tools/target.py).
- `blas_env(threads)`: the environment of every BLAS-using subprocess (numpy
  sgemm, PyTorch): the OpenMP OpenBLAS (Debian `libopenblas0-openmp`) chosen
  by LD_LIBRARY_PATH, OMP_NUM_THREADS, and OPENBLAS_CORETYPE /
  OPENBLAS_L2_SIZE removed (both together: a core type without its cache
  size, or the reverse, mis-tunes OpenBLAS), then OPENBLAS_CORETYPE set
  where `choose_openblas_core` found the library's own choice too weak,
  and glibc's malloc given the policy our executables set for themselves
  (MALLOC_TUNABLES).
- `choose_openblas_core(info)`: the OpenBLAS kernels for this CPU. Debian
  12's OpenBLAS 0.3.21 picks them from CPUID when it loads, and a CPU newer
  than the library may fall back to generic ones (Intel family 6 model 207,
  Emerald Rapids: "Prescott", SSE3). The strongest honest baseline is the
  core a library that knows the CPU would pick, so the benchmark names it
  when the CPU has wider vectors than the detected core uses (AVX-512 with
  BF16: Cooperlake, else SkylakeX; AVX2 + FMA: Haswell), and checks the
  library took it.
- `loaded_blas()`: inside such a process, which BLAS library is really
  mapped (/proc/self/maps) and what it says about itself (openblas_get_config,
  its threading model and thread count).
- `bandwidth(threads)`: memory read bandwidth, a compiled OpenMP read loop
  (bench/bandwidth.c), best of several passes.
"""
import ctypes
import os
import re
import subprocess
import sys

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(BENCH), "python"))
from hymba_tools import target as hymba_target  # noqa: E402

OPENMP_BLAS_DIR = "/usr/lib/x86_64-linux-gnu/openblas-openmp"
FEATURES = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni",
            "amx_tile", "amx_bf16", "amx_int8")
CLEARED_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
OPENMP_OPENBLAS = os.path.join(OPENMP_BLAS_DIR, "libopenblas.so.0")
# OpenBLAS core names (openblas_get_corename, lower case) by the widest
# vectors their sgemm kernels use.
AVX512_CORES = ("skylakex", "cooperlake", "sapphirerapids")
AVX2_CORES = ("haswell", "zen") + AVX512_CORES
AVX512_FLAGS = ("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl")
# Set by choose_openblas_core; blas_env passes it to every BLAS subprocess.
forced_core = None
# The malloc policy our executables set for themselves at start-up
# (lib/Runtime/HostMemory.cpp): no mmap'd blocks, the heap on 2 MB pages,
# never trimmed. With glibc's defaults PyTorch's large temporaries are
# mmap'd and faulted in 4 KB at a time by every op: on a Zen 5 guest where
# page faults are expensive that was 1.6M faults and 31 s of system time
# for a 512-token prefill and 8 decode steps of the 1.5B shape, and its
# prefill took 24.0 s instead of 13.0 s. The strongest honest baseline
# gets the same allocator as ours.
MALLOC_TUNABLES = ("glibc.malloc.mmap_max=0:glibc.malloc.hugetlb=1:"
                   "glibc.malloc.trim_threshold=2147483647")


def cpu_info():
    """{'model', 'family' (e.g. 'family 26 model 2'), 'cpus', 'flags' (set),
    'features' (FEATURES present), 'caches' (e.g. 'L1d 48K, L2 1024K')}."""
    model, flags, cpus, fam = "unknown", set(), 0, {}
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "processor":
                cpus += 1
            elif key == "model name" and model == "unknown":
                model = value.strip()
            elif key in ("cpu family", "model") and key not in fam:
                fam[key] = value.strip()
            elif key == "flags" and not flags:
                flags = set(value.split())
    return {"model": model, "cpus": cpus or os.cpu_count(), "flags": flags,
            "family": f"family {fam.get('cpu family', '?')} model {fam.get('model', '?')}",
            "features": [f for f in FEATURES if f in flags], "caches": _caches()}


def _caches():
    """Per-core cache sizes of cpu0 from sysfs ('' when unavailable)."""
    out = []
    base = "/sys/devices/system/cpu/cpu0/cache"
    for idx in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        try:
            def read(name):
                with open(os.path.join(base, idx, name)) as f:
                    return f.read().strip()
            kind = {"Data": "d", "Instruction": "i"}.get(read("type"), "")
            out.append(f"L{read('level')}{kind} {read('size')}")
        except OSError:
            continue
    return ", ".join(out)


def kernel_target(compiler):
    """(f32 lanes, vector registers, weight panel) hymba-compile uses for
    --target-cpu=native on this CPU, as it says itself (--print-target)."""
    return hymba_target.vector_shape(hymba_target.describe(compiler))


def blas_env(threads, base=None):
    """Environment for a BLAS subprocess on `threads` threads."""
    env = dict(os.environ if base is None else base)
    for key in CLEARED_ENV:
        env.pop(key, None)
    if os.path.isdir(OPENMP_BLAS_DIR):
        prev = env.get("LD_LIBRARY_PATH")
        env["LD_LIBRARY_PATH"] = OPENMP_BLAS_DIR + (":" + prev if prev else "")
    env["OMP_NUM_THREADS"] = str(threads)
    prev = env.get("GLIBC_TUNABLES")
    env["GLIBC_TUNABLES"] = MALLOC_TUNABLES + (":" + prev if prev else "")
    if forced_core:
        env["OPENBLAS_CORETYPE"] = forced_core
    return env


def openblas_corename(lib):
    """The core a loaded OpenBLAS (a ctypes.CDLL) runs on, e.g. 'Haswell'."""
    lib.openblas_get_corename.restype = ctypes.c_char_p
    return lib.openblas_get_corename().decode()


def _detected_core(coretype=None):
    """The core the OpenMP OpenBLAS runs on in a fresh process with the
    benchmark's BLAS environment (and OPENBLAS_CORETYPE=coretype if given);
    None if it cannot be loaded."""
    if not os.path.exists(OPENMP_OPENBLAS):
        return None
    env = blas_env(1)
    env.pop("OPENBLAS_CORETYPE", None)
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    code = ("import ctypes, sys; sys.path.insert(0, sys.argv[1]); import machine; "
            "print(machine.openblas_corename(ctypes.CDLL(sys.argv[2])))")
    r = subprocess.run([sys.executable, "-c", code, BENCH, OPENMP_OPENBLAS],
                       env=env, capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else None


def _stronger_cores(flags):
    """(cores to name, strongest first; cores already good enough) for a
    CPU with these /proc/cpuinfo flags."""
    if all(f in flags for f in AVX512_FLAGS):
        if "avx512_bf16" in flags:
            return ["Cooperlake", "SkylakeX"], AVX512_CORES
        return ["SkylakeX"], AVX512_CORES
    if "avx2" in flags and "fma" in flags:
        return ["Haswell"], AVX2_CORES
    return [], ()


def choose_openblas_core(info):
    """Sets `forced_core` when the OpenMP OpenBLAS would run this CPU on
    kernels narrower than its vectors; returns a line for the header."""
    global forced_core
    forced_core = None
    detected = _detected_core()
    if detected is None:
        return f"OpenBLAS core: cannot ask {OPENMP_OPENBLAS}"
    wanted, good = _stronger_cores(info["flags"])
    if not wanted or detected.lower() in good:
        return f"OpenBLAS core: {detected} (its own choice for this CPU)"
    for core in wanted:
        if (_detected_core(core) or "").lower() == core.lower():
            forced_core = core
            return (f"OpenBLAS core: {core} (OPENBLAS_CORETYPE; by itself this "
                    f"OpenBLAS picks {detected}, narrower than this CPU's vectors)")
    return (f"OpenBLAS core: {detected} (WARNING: narrower than this CPU's vectors, "
            f"and this OpenBLAS has none of {', '.join(wanted)})")


def cleared_env_note():
    """What blas_env removes from this environment, for the header."""
    found = [f"{k}={os.environ[k]}" for k in CLEARED_ENV if k in os.environ]
    return ("unset for benchmark subprocesses: " + ", ".join(found)) if found \
        else "OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE not set"


def _mapped(pattern):
    """Real paths of the libraries matching `pattern` mapped in this process."""
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if re.search(pattern, os.path.basename(path)):
                libs.add(os.path.realpath(path))
    return sorted(libs)


def set_openblas_threads(n):
    """Sets the mapped OpenBLAS' thread count (PyTorch's set_num_threads
    alone leaves OpenBLAS reporting its old count, though its OpenMP build
    follows omp_get_max_threads() on each call)."""
    for path in _mapped(r"openblas"):
        try:
            ctypes.CDLL(path).openblas_set_num_threads(n)
        except (OSError, AttributeError):
            pass


def loaded_blas():
    """A one-line description of the BLAS mapped into this process (call
    after numpy/torch are imported)."""
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if re.search(r"blas|mkl|lapack|libgomp|libomp|libiomp", path):
                libs.add(os.path.realpath(path))
    blas = sorted(p for p in libs if re.search(r"openblas|blas|mkl", p)
                  and "lapack" not in p)
    desc = ", ".join(blas) or "no BLAS library mapped"
    openblas = [p for p in blas if "openblas" in os.path.basename(p)]
    if openblas:
        try:
            lib = ctypes.CDLL(openblas[0])
            lib.openblas_get_config.restype = ctypes.c_char_p
            model = {0: "sequential", 1: "pthreads", 2: "OpenMP"}.get(
                lib.openblas_get_parallel(), "?")
            desc += (f" [{lib.openblas_get_config().decode().strip()}; "
                     f"core {openblas_corename(lib)}; "
                     f"{model} threading, {lib.openblas_get_num_threads()} threads]")
        except (OSError, AttributeError) as e:
            desc += f" [cannot query OpenBLAS: {e}]"
    omp = sorted(p for p in libs if re.search(r"gomp|libomp|iomp", p))
    if omp:
        desc += "; OpenMP runtime " + ", ".join(omp)
        try:
            desc += f", omp_get_max_threads() = {ctypes.CDLL(omp[0]).omp_get_max_threads()}"
        except (OSError, AttributeError):
            pass
    return desc


def bandwidth(threads, work, gib=1.0, passes=5):
    """Best-of-`passes` read bandwidth in GB/s over a `gib` GiB buffer."""
    probe = os.path.join(work, "bandwidth")
    src = os.path.join(BENCH, "bandwidth.c")
    if not os.path.exists(probe) or os.path.getmtime(probe) < os.path.getmtime(src):
        subprocess.run(["clang-22", "-O3", "-march=native", "-ffast-math",
                        "-fopenmp", src, "-o", probe], check=True)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run([probe, str(gib), str(passes)], env=env,
                         capture_output=True, text=True, check=True).stdout
    return float(out)
