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

/// Bytes of one k row of `w` ([P, rows, row elements]), or 0 when unknown.
inline int64_t rowBytes(Value w) {
  auto type = dyn_cast<MemRefType>(w.getType());
  if (!type || type.getRank() != 3 || type.isDynamicDim(2))
    return 0;
  return type.getDimSize(2) * int64_t(type.getElementTypeBitWidth()) / 8;
}

/// k rows of `w` that make up at least `bytes`.
inline int64_t rowsForBytes(Value w, int64_t bytes) {
  int64_t row = rowBytes(w);
  if (bytes <= 0 || row <= 0)
    return 0;
  return (bytes + row - 1) / row;
}

/// k rows of `w` that share a 64-byte line: 1 unless rows are shorter than
/// a line and tile it exactly (int8 panels of 32 bytes: 2; int4: 4).
inline int64_t rowsPerLine(Value w) {
  int64_t row = rowBytes(w);
  return row > 0 && row < 64 && 64 % row == 0 ? 64 / row : 1;
}

} // namespace mlir::hymba

#endif // HYMBA_PASSES_WEIGHTPREFETCH_H
