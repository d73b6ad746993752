# -*- Python -*-
import os
import shutil
import subprocess
import sys

import lit.formats
from lit.llvm import llvm_config

config.name = "HYMBA"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "Inputs", "mock-cuda",
                   "corpus", "node_modules"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.hymba_obj_root, "test")

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(
    ["hymba-opt", "hymba-compile"], [config.hymba_tools_dir])

# numpy and torch exist only for Debian's interpreter.
_python = "/usr/bin/python3"
if config.hymba_sanitize:
    # scripts/sanitize.sh: the instrumented Python module needs the shared
    # ASan runtime in the (uninstrumented) interpreter; what the scripts run
    # inherits it. Leak checks are off: uninstrumented tools (python3, the
    # linker) would report their own.
    _python = "env LD_PRELOAD=%s %s" % (os.path.join(
        config.hymba_sanitizer_runtime_dir, "libclang_rt.asan-x86_64.so"), _python)
    # allow_user_poisoning=0: LLVM's BumpPtrAllocator poisons a new slab
    # when its inline code is compiled with ASan (our code) but the
    # uninstrumented libMLIR hands out memory from that slab without
    # unpoisoning it, so MLIR's own uniquing (a location parsed by
    # roundtrip.mlir) reported use-after-poison. ASan's own checks (heap
    # redzones, use after free) stay on.
    config.environment["ASAN_OPTIONS"] = (
        "detect_leaks=0:abort_on_error=0:allow_user_poisoning=0")
    config.environment["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    config.available_features.add("sanitizers")
    config.environment["HYMBA_SANITIZED"] = "1"
# (lit's default substitutions have a %python of their own: replace it.)
config.substitutions = [s for s in config.substitutions if s[0] != "%python"]
config.substitutions.append(("%python", _python))
config.substitutions.append(
    ("%pytools", os.path.join(config.hymba_src_root, "python")))
# Runs an LLVM-dialect module's main with MLIR's runtime support libraries
# (printMemrefF32).
_mlir_libs = os.path.join(os.path.dirname(config.llvm_tools_dir), "lib")
config.substitutions.append(
    ("%mlir-runner", "mlir-runner -e main -entry-point-result=void "
     "-shared-libs=%s,%s" % (
         os.path.join(_mlir_libs, "libmlir_c_runner_utils.so"),
         os.path.join(_mlir_libs, "libmlir_runner_utils.so"))))
config.substitutions.append(
    ("%pybindings", os.path.join(config.hymba_obj_root, "python")))
config.substitutions.append(
    ("%mockcuda", os.path.join(config.hymba_obj_root, "test", "mock-cuda")))
# Programs the tests link against a compiled library (test/lib, examples/):
# in a sanitizer build the library is instrumented, so they are linked with
# the sanitizer runtime too.
_link_flags = ""
if config.hymba_sanitize:
    # -shared-libasan: the library links the shared ASan runtime, and a
    # program must not bring a second, static one.
    _link_flags = "-fsanitize=address,undefined -fno-sanitize=vptr -shared-libasan -Wl,-rpath,%s" % (
        config.hymba_sanitizer_runtime_dir)
config.substitutions.append(("%sanitizer_link_flags", _link_flags))
config.substitutions.append(
    ("%examples", os.path.join(config.hymba_src_root, "examples")))
# The model the project trains and ships (python/hymba_tools/train.py).
config.substitutions.append(
    ("%models", os.path.join(config.hymba_src_root, "models")))

if os.path.isdir("/usr/local/cuda/bin") and shutil.which(
        "ptxas", path="/usr/local/cuda/bin"):
    config.available_features.add("ptxas")
config.substitutions.append(
    ("%hymba-compile-bin", os.path.join(config.hymba_tools_dir, "hymba-compile")))

import ctypes
try:
    ctypes.CDLL("libcuda.so.1")
    config.available_features.add("cuda-driver")
except OSError:
    config.available_features.add("no-cuda-driver")
if "ptxas" not in config.available_features:
    lit_config.note("skipping GPU tests: /usr/local/cuda/bin/ptxas not found")

# Whether this machine runs the --compute=int8 and --compute=bf16
# executables numerics.py builds (for the host, x86-64-v3 and x86-64-v4):
# the compiler says so itself (`hymba-compile --print-target`, the rules
# the driver and pipeline use; e2e/target-cpu.test checks them on named
# CPUs), and numerics.py asks the same question. Where the answer is no,
# numerics.py skips those runs saying why, and compute-int8.test and
# compute-bf16.test check that message instead of every check.
sys.path.insert(0, os.path.join(config.hymba_src_root, "python"))
from hymba_tools import target as _target  # noqa: E402
_compiler = os.path.join(config.hymba_tools_dir, "hymba-compile")
_facts = {}  # --print-target of each CPU asked about
for _feature, _cpu, _compute in [("cpu-int8-dot", "native", "int8"),
                                 ("cpu-int8-dot-v3", "x86-64-v3", "int8"),
                                 ("cpu-int8-dot-v4", "x86-64-v4", "int8"),
                                 ("cpu-avx512bf16", "native", "bf16")]:
    try:
        if _cpu not in _facts:
            _facts[_cpu] = _target.describe(_compiler, _cpu)
        _why = _target.compute_obstacle(_facts[_cpu], _compute)
    except (OSError, subprocess.CalledProcessError) as e:
        _why = f"hymba-compile --print-target failed: {e}"
    if _why is None:
        config.available_features.add(_feature)
    else:
        lit_config.note(f"the --compute={_compute} numerics for "
                        f"--target-cpu={_cpu} only check their skip "
                        f"message: {_why}")

# libFuzzer targets (test/fuzz), built when libclang-rt-22-dev is installed.
_fuzz_dir = os.path.join(config.hymba_obj_root, "fuzz")
config.substitutions.append(("%fuzzdir", _fuzz_dir))
if os.path.exists(os.path.join(_fuzz_dir, "hymba-fuzz-cli")):
    config.available_features.add("fuzzer")
elif config.hymba_sanitize:
    lit_config.note("skipping fuzz smoke runs: the fuzz targets are built "
                    "(with their own ASan+UBSan) by the normal build")
else:
    lit_config.note("skipping fuzz smoke runs: %s has no fuzz targets "
                    "(install libclang-rt-22-dev: scripts/setup.sh)" % _fuzz_dir)

# The openai npm client (test/server), installed by scripts/setup.sh.
_openai_pkg = os.path.join(config.hymba_src_root, "test", "server",
                           "node_modules", "openai", "package.json")
if not shutil.which("node"):
    lit_config.note("skipping the openai client tests: node is not installed "
                    "(scripts/setup.sh installs it)")
elif not os.path.exists(_openai_pkg):
    lit_config.note("skipping the openai client tests: %s is missing (run "
                    "scripts/setup.sh, which runs npm ci in test/server)"
                    % _openai_pkg)
else:
    config.available_features.add("openai-npm")
