#!/usr/bin/env bash
# Installs the Debian 12 packages hymba-mlir needs. Idempotent: packages that
# are already installed are skipped, and the ones it installs are named.
#   scripts/setup.sh          build + test dependencies
#   scripts/setup.sh --bench  also OpenBLAS and time(1) for bench/
#   scripts/setup.sh --train  also the corpus and OpenBLAS for
#                             python/hymba_tools/train.py
set -euo pipefail

# PyTorch is a test dependency: the perplexity and model tests run the
# PyTorch Hymba of python/hymba_tools.
packages=(
  build-essential cmake ninja-build pkg-config git ccache
  python3 python3-numpy python3-dev pybind11-dev python3-torch
  llvm-22 llvm-22-dev llvm-22-tools llvm-22-linker-tools clang-22 lld-22
  libmlir-22 libmlir-22-dev mlir-22-tools libomp-22-dev
  libclang-rt-22-dev  # libFuzzer, ASan, UBSan (test/fuzz, scripts/sanitize.sh)
  libsentencepiece-dev sentencepiece python3-sentencepiece
  # exe --serve (lib/Runtime/Server.cpp); node runs the openai npm client
  # tests (test/server).
  libcpp-httplib-dev nlohmann-json3-dev nodejs
)
# Debian's npm is a package of its own; NodeSource's nodejs includes it.
if ! command -v npm >/dev/null 2>&1; then packages+=(npm); fi
case "${1:-}" in
  --bench) packages+=(libopenblas-dev libopenblas0-openmp time) ;;
  # bible-kjv's `bible` program reads the KJV text of bible-kjv-text.
  --train) packages+=(bible-kjv bible-kjv-text libopenblas-dev) ;;
  "") ;;
  *) echo "setup: unknown option '$1' (--bench or --train)" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages already installed"
else
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The openai npm client of test/server, at the version package-lock.json
# pins, into test/server/node_modules (git-ignored); again only when the
# lock file changed.
server_tests="$(dirname "$0")/../test/server"
if [[ ! -f "$server_tests/node_modules/.package-lock.json" ||
      "$server_tests/package-lock.json" -nt "$server_tests/node_modules/.package-lock.json" ]]; then
  echo "setup: npm ci in test/server (the openai client for the server tests)"
  (cd "$server_tests" && npm ci --no-audit --no-fund --loglevel=error)
fi
