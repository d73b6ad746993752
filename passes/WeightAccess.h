//===- WeightAccess.h - How lowerings read a weight's elements --*- C++ -*-===//
//
// After hymba-lower-dense-to-linalg has turned every hymba.weight into a
// tensor over its storage (LowerDenseToLinalg.cpp: lowerWeight), a weight
// operand is one of
//   * a float tensor, plain [N, K], panel storage [ceil(N / W), K, W], or
//     panels interleaved along K [ceil(N / W), ceil(K / F), W, F];
//   * a hymba.dequantize of such storage: integer values (i8, or i4 bytes)
//     and bf16 scales per group of K (HymbaOps.td, DequantizeOp).
// WeightSource names the pieces once; the builders below read element
// w[n, k] as f32 in each of the places a weight is read (a linalg.generic
// contraction, a scalar tensor.extract or memref.load), so the storage
// format is decoded in one place and never materialized.
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_PASSES_WEIGHTACCESS_H
#define HYMBA_PASSES_WEIGHTACCESS_H

#include "mlir/IR/AffineMap.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::hymba {

struct WeightSource {
  Value data;          // float storage, or the quantized values
  Value scales;        // bf16 scale storage; null unless quantized
  int64_t bits = 0;    // 8 or 4 when quantized
  int64_t group = 0;   // inputs per scale when quantized
  int64_t panel = 0;   // panel width W, or 0 for the plain layout
  int64_t interleave = 1; // F: inputs k grouped by F inside a panel row
  int64_t rows = 0;    // N (output features)
  int64_t cols = 0;    // K (inputs)

  bool quantized() const { return bits != 0; }
};

/// The storage behind a lowered weight operand (see the file comment).
WeightSource weightSource(Value weight);

/// Appends the weight's storage operands and their indexing maps for a
/// linalg.generic with `numDims` loops in which `n` and `k` index w[n, k].
void appendWeightOperands(const WeightSource &w, unsigned numDims, AffineExpr n,
                          AffineExpr k, SmallVectorImpl<Value> &operands,
                          SmallVectorImpl<AffineMap> &maps);

/// In the body of that generic: w[n, k] as f32 from the block arguments of
/// the operands appendWeightOperands added (`args`, in order); `nDim` and
/// `kDim` are the loops of n and k (an i4 nibble is chosen by them).
Value weightFromArguments(ImplicitLocOpBuilder &b, const WeightSource &w,
                          ValueRange args, unsigned nDim, unsigned kDim);

/// w[n, k] as f32, read from `data` and `scales` (the storage tensors or
/// buffers of `w`: tensor.extract or memref.load).
Value loadWeightElement(ImplicitLocOpBuilder &b, const WeightSource &w,
                        Value data, Value scales, Value n, Value k);

/// A quantized value as f32: `stored` is the i8 value, or the byte holding
/// an i4 value in its low (`highNibble` false) or high nibble (an i1 value,
/// or null for i8).
Value unpackQuantized(ImplicitLocOpBuilder &b, Value stored, Value highNibble);

} // namespace mlir::hymba

#endif // HYMBA_PASSES_WEIGHTACCESS_H
