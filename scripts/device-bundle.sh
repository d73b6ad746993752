#!/usr/bin/env bash
# Prepares out/device-bundle/ here, for scripts/device-check.sh on a GPU
# machine that has no LLVM/MLIR (the project's device machines have CUDA and
# PyTorch only). Everything that needs the compiler happens here:
#   small/  a random small config: checkpoint, complete CPU and CUDA executables
#   big/    1.5B-shaped CPU and CUDA builds as program parts + payload layouts
#           (the 3 GB of weights are generated and packed on the GPU machine)
#   lib/    the shared libraries the executables need beyond libc/libstdc++
# Then carry out/device-bundle and run scripts/device-check.sh there.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/lib/llvm-22/bin:$PATH
[[ -x build/bin/hymba-compile ]] || scripts/build.sh
PY=/usr/bin/python3
HC=build/bin/hymba-compile
B=out/device-bundle
rm -rf "$B" && mkdir -p "$B/lib" "$B/small" "$B/big"

echo "device-bundle: small config"
(cd python && $PY -m hymba_tools.make_checkpoint --preset group3 --dtype bf16 --out "../$B/small/ck")
for t in cpu cuda; do
  $HC "$B/small/ck" --target=$t --dtype=bf16 --max-seq-len=256 -o "$B/small/$t"
done

echo "device-bundle: 1.5B shape (program parts)"
CK=${HYMBA_15B_CHECKPOINT:-out/bench/hymba-1.5b-bf16}
if [[ ! -f "$CK/config.json" ]]; then
  (cd python && $PY -m hymba_tools.make_checkpoint --preset hymba-1.5b --dtype bf16 --out "../$CK")
fi
for t in cpu cuda; do
  # No folded prefix: its state depends on the weights, which are packed there.
  $HC "$CK" --target=$t --dtype=bf16 --max-seq-len=2048 --no-fold-meta \
    -o "$B/big/$t.full" --payload-layout="$B/big/$t.layout.json"
  (cd python && $PY -m hymba_tools.pack_payload --program "../$B/big/$t.full" \
    "../$B/big/$t.layout.json" "../$B/big/$t.program")
  rm "$B/big/$t.full"
done

# The GPU machine has no ../shared: take the 1.5B config along.
cp "$CK/config.json" "$B/big/config.json"

# (exe --serve links cpp-httplib, which links brotli; OpenSSL is assumed.)
for lib in libsentencepiece.so.0 libomp.so.5 libcpp-httplib.so.0.11 \
    libbrotlidec.so.1 libbrotlienc.so.1 libbrotlicommon.so.1; do
  path=$(ldd "$B/small/cpu" | awk -v l="$lib" '$1 == l {print $3}')
  cp -L "$path" "$B/lib/"
done
du -sh "$B"
echo "device-bundle: ready; carry $B and run scripts/device-check.sh on the GPU machine"
