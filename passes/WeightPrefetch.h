//===- WeightPrefetch.h - Software prefetch of a decode tile's weights ----===//
//
// A one-row (decode) tile does a few instructions per cache line of
// weights, so it is bound by how many lines are in flight. The hardware
// prefetcher keeps too few of them for one sequential stream: a prefetch a
// few KB ahead of the loads raises one thread's weight rate by about 10%.
// Panels are stored back to back, so past the end of a panel the address is
// the next panel's start, which the thread reads next; past the last panel
// it is an address nobody reads, which a prefetch may name (it never
// faults).
//
//===----------------------------------------------------------------------===//

#ifndef HYMBA_PASSES_WEIGHTPREFETCH_H
#define HYMBA_PASSES_WEIGHTPREFETCH_H

#include "LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::hymba {

/// Prefetches w[p, k + rowsAhead, column] (w: [P, rows, row elements], the
/// weight panels or their scales [P, groups, W]) when rowsAhead > 0 and the
/// element starts a 64-byte line of the row, so that a row's loads issue one
/// prefetch per line.
inline void prefetchWeights(ImplicitLocOpBuilder &b, Value w, Value p, Value k,
                            int64_t column, int64_t rowsAhead) {
  auto type = cast<MemRefType>(w.getType());
  int64_t bitOffset = column * type.getElementTypeBitWidth();
  if (rowsAhead <= 0 || bitOffset % (64 * 8) != 0)
    return;
  Value ahead = arith::AddIOp::create(b, k, indexConst(b, rowsAhead));
  memref::PrefetchOp::create(b, w, ValueRange{p, ahead, indexConst(b, column)},
                             /*isWrite=*/false, /*localityHint=*/3,
                             /*isDataCache=*/true);
}

/// k rows of `w` ([P, rows, row elements]) that make up at least `bytes`.
inline int64_t rowsForBytes(Value w, int64_t bytes) {
  auto type = cast<MemRefType>(w.getType());
  if (bytes <= 0 || type.getRank() != 3 || type.isDynamicDim(2))
    return 0;
  int64_t rowBytes =
      type.getDimSize(2) * int64_t(type.getElementTypeBitWidth()) / 8;
  if (rowBytes <= 0)
    return 0;
  return (bytes + rowBytes - 1) / rowBytes;
}

} // namespace mlir::hymba

#endif // HYMBA_PASSES_WEIGHTPREFETCH_H
