#!/usr/bin/env bash
# The one command for a machine with an NVIDIA GPU. Builds hymba-mlir (where
# the LLVM/MLIR packages are installed), compiles a random small config and
# the Hymba-1.5B shape for --target=cuda and for the CPU, runs prefill and
# greedy decode on both, checks that the GPU logits match the CPU executable
# (1e-3 relative) and reports tokens/s next to PyTorch eager on the GPU.
#   scripts/device-check.sh [--skip-1.5b]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/lib/llvm-22/bin:$PATH
if ! command -v nvidia-smi > /dev/null; then
  echo "device-check: no nvidia-smi: this needs a machine with an NVIDIA GPU" >&2
  exit 1
fi
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
[[ -x build/bin/hymba-compile ]] || scripts/build.sh
PY=${PYTHON:-/usr/bin/python3}
exec "$PY" bench/device_check.py "$@"
