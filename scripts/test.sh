#!/usr/bin/env bash
# Installs what is needed, builds hymba-mlir and runs every test (the lit
# suite: dialect, passes, importer, reference model, end-to-end numerics and
# the executables) through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
export PATH=/usr/lib/llvm-22/bin:$PATH
ctest --test-dir build --output-on-failure -V
