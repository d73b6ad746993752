#!/usr/bin/env bash
# Builds the compiler, the runtime (so every executable the suite compiles)
# and the Python module with AddressSanitizer + UBSan into build-asan/, and
# runs the whole lit suite with them. Any sanitizer report fails the test
# that triggered it. (The libFuzzer targets are instrumented in the normal
# build and run there.) About 4x the time of scripts/test.sh.
#   scripts/sanitize.sh [lit args...]     e.g. scripts/sanitize.sh build-asan/test/e2e
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH=/usr/lib/llvm-22/bin:$PATH
if [[ ! -f build-asan/build.ninja ]]; then
  cmake -G Ninja -S . -B build-asan -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DLLVM_USE_LINKER=lld \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit -DHYMBA_SANITIZE=ON
fi
cmake --build build-asan
if (($#)); then
  lit -sv "$@"
else
  lit -sv build-asan/test
fi
