#!/usr/bin/env bash
# The one command for a machine with an NVIDIA GPU. That machine has no
# LLVM, so first run scripts/device-bundle.sh on the build machine and carry
# out/device-bundle along. This then runs a random small config and the
# Hymba-1.5B shape (weights generated and packed here) with greedy decoding
# on the CPU and the GPU executable, checks that the logits match (1e-3
# relative) and reports tokens/s and kernel launches next to PyTorch eager
# on the same GPU.
#   scripts/device-check.sh [--skip-1.5b]
set -euo pipefail
cd "$(dirname "$0")/.."
B=out/device-bundle
if [[ ! -d $B/small ]]; then
  echo "device-check: $B is missing: run scripts/device-bundle.sh on the build machine and carry it" >&2
  exit 1
fi
if ! command -v nvidia-smi > /dev/null; then
  echo "device-check: no nvidia-smi: this needs a machine with an NVIDIA GPU" >&2
  exit 1
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
export LD_LIBRARY_PATH=$PWD/$B/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
exec "$PY" bench/device_check.py --bundle "$B" "$@"
