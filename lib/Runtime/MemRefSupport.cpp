//===- MemRefSupport.cpp - Support calls emitted by MLIR's memref lowering ===//
//
// finalize-memref-to-llvm lowers a memref.copy between non-contiguous
// buffers to a call to `memrefCopy`, which upstream ships in
// libmlir_c_runner_utils. Linking that library would drag libMLIR and
// libLLVM into every executable, so the runtime provides the same entry
// point: a strided N-d copy, no model math.
//
//===----------------------------------------------------------------------===//

#include <cstdint>
#include <cstring>
#include <vector>

namespace {
struct UnrankedDescriptor {
  int64_t rank;
  void *descriptor;
};

/// Views a ranked descriptor {alloc, aligned, offset, sizes[r], strides[r]}.
struct RankedView {
  char *aligned;
  int64_t offset;
  const int64_t *sizes;
  const int64_t *strides;
  explicit RankedView(const UnrankedDescriptor &d) {
    auto *words = static_cast<int64_t *>(d.descriptor);
    aligned = reinterpret_cast<char *>(words[1]);
    offset = words[2];
    sizes = words + 3;
    strides = words + 3 + d.rank;
  }
};
} // namespace

extern "C" void memrefCopy(int64_t elemSize, UnrankedDescriptor *srcArg,
                           UnrankedDescriptor *dstArg) {
  int64_t rank = srcArg->rank;
  RankedView src(*srcArg), dst(*dstArg);
  int64_t total = 1;
  for (int64_t d = 0; d < rank; ++d)
    total *= src.sizes[d];
  if (total == 0)
    return;
  std::vector<int64_t> index(rank, 0);
  for (int64_t n = 0; n < total; ++n) {
    int64_t s = src.offset, t = dst.offset;
    for (int64_t d = 0; d < rank; ++d) {
      s += index[d] * src.strides[d];
      t += index[d] * dst.strides[d];
    }
    std::memcpy(dst.aligned + t * elemSize, src.aligned + s * elemSize,
                elemSize);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < src.sizes[d])
        break;
      index[d] = 0;
    }
  }
}
