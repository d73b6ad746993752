//===- Common.h - Shared loop-lowering builders -----------------*- C++ -*-===//
//
// Helpers shared by more than one op family's loop lowering (the row
// selection between stored state and the current chunk, the ring row of a
// sliding-window cache).
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_PASSES_LOWERING_COMMON_H
#define HYMBA_PASSES_LOWERING_COMMON_H

#include "../LoweringUtils.h"

namespace mlir::hymba {

/// Ring-buffer row of absolute position `p` for a cache with `window` > 0:
/// meta rows stay put, later positions cycle through `window` rows.
Value cacheRow(ImplicitLocOpBuilder &b, Value p, int64_t window,
               int64_t numMeta);

/// Rows before `boundary` live in stored state, later ones in this chunk:
/// one scf.if yielding `fromChunk(p - boundary)` when p >= boundary and
/// `fromState()` otherwise (the KV cache for attention keys, the conv
/// window for the conv's left extension).
using RowRead = function_ref<SmallVector<Value>(ImplicitLocOpBuilder &)>;
using ChunkRowRead =
    function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value)>;
ValueRange chunkOrState(ImplicitLocOpBuilder &b, Value p, Value boundary,
                        ChunkRowRead fromChunk, RowRead fromState);

/// Emits `for i in [0, n): body(i)` with n a constant.
void forRange(ImplicitLocOpBuilder &b, int64_t n,
              function_ref<void(ImplicitLocOpBuilder &, Value)> body);

} // namespace mlir::hymba

#endif // HYMBA_PASSES_LOWERING_COMMON_H
