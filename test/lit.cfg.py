# -*- Python -*-
import os
import shutil

import lit.formats
from lit.llvm import llvm_config

config.name = "HYMBA"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "Inputs", "mock-cuda",
                   "corpus"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.hymba_obj_root, "test")

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(
    ["hymba-opt", "hymba-compile"], [config.hymba_tools_dir])

# numpy and torch exist only for Debian's interpreter.
config.substitutions.append(("%python", "/usr/bin/python3"))
config.substitutions.append(
    ("%pytools", os.path.join(config.hymba_src_root, "python")))
config.substitutions.append(
    ("%pybindings", os.path.join(config.hymba_obj_root, "python")))
config.substitutions.append(
    ("%mockcuda", os.path.join(config.hymba_obj_root, "test", "mock-cuda")))
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

# libFuzzer targets (test/fuzz), built when libclang-rt-22-dev is installed.
_fuzz_dir = os.path.join(config.hymba_obj_root, "fuzz")
config.substitutions.append(("%fuzzdir", _fuzz_dir))
if os.path.exists(os.path.join(_fuzz_dir, "hymba-fuzz-cli")):
    config.available_features.add("fuzzer")
else:
    lit_config.note("skipping fuzz smoke runs: %s has no fuzz targets "
                    "(install libclang-rt-22-dev: scripts/setup.sh)" % _fuzz_dir)
