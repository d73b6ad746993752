#!/usr/bin/env bash
# Installs what is needed, builds hymba-mlir, generates the small default
# checkpoint (random weights, the real Hymba tokenizer) once, compiles it into
# one executable and generates text with it.
#   scripts/demo.sh ["prompt text"]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh

ckpt=out/demo-checkpoint
tokenizer=../shared/hymba/tokenizer.model
if [[ ! -f $ckpt/config.json ]]; then
  args=(--preset demo --dtype bf16 --out "$ckpt")
  if [[ -f $tokenizer ]]; then
    args+=(--tokenizer "$tokenizer")
  else
    echo "demo: $tokenizer not found; the demo model will take token ids" >&2
  fi
  PYTHONPATH=python /usr/bin/python3 -m hymba_tools.make_checkpoint "${args[@]}"
fi
build/bin/hymba-compile "$ckpt" -o out/hymba-demo
echo "compiled out/hymba-demo ($(du -h out/hymba-demo | cut -f1)); generating:"
if [[ -f $ckpt/tokenizer.model ]]; then
  out/hymba-demo --prompt "${1:-The tensor compiler}" -n 24 --temperature 0.8 \
    --top-k 40 --seed 1 --stats
else
  out/hymba-demo --tokens 1,450,12489 -n 24 --stats
fi
