#!/usr/bin/env bash
# Installs what is needed, builds hymba-mlir, compiles the model the project
# trained (models/hymba-kjv: a 3.3 M-parameter Hymba trained on the King
# James Bible by python/hymba_tools/train.py) into one executable and
# streams text from it.
#   scripts/demo.sh ["prompt text"]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh

mkdir -p out
build/bin/hymba-compile models/hymba-kjv --dtype bf16 -o out/hymba-demo
echo "compiled out/hymba-demo ($(du -h out/hymba-demo | cut -f1)); generating:"
prompt=${1:-"And God said unto Moses,"}
printf '%s' "$prompt"
out/hymba-demo --prompt "$prompt" -n 64 --temperature 0.7 --top-k 40 \
  --seed 1 --stats
