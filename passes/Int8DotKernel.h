//===- Int8DotKernel.h - Integer dot products for quantized projections ---===//
//
// The register tile of hymba-vectorize-linear for a projection whose input
// is quantized too (hymba-compile --compute=int8): int8 weights in panels
// interleaved by four along K (#hymba.panels<W, interleave = 4>) and x
// quantized per group to int8 with one f32 scale per row and group
// (LoweringUtils.h: buildLinear). Each 32-bit lane of the VNNI instruction
// vpdpbusd adds four u8 x s8 products, so one instruction does 4 * lanes
// multiply-adds where the f32 kernel does `lanes`, and the weights are never
// converted to float.
//
//===----------------------------------------------------------------------===//

#ifndef HYMBA_PASSES_INT8DOTKERNEL_H
#define HYMBA_PASSES_INT8DOTKERNEL_H

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::hymba {

struct Int8DotKernel {
  Value qx;      // memref [T, K] i8: x quantized, per row and group
  Value sx;      // memref [T, groups] f32: the scale of each row's group
  Value xSums;   // memref [T, groups] i32: sum of each row's group of qx
                 // (buildGroupSums)
  Value w;       // memref [P, K / 4, 4 W] i8: panel rows of 4-input quads
                 // (int4: [P, K / 4, 2 W], the quads of lanes j and
                 // j + W / 2 in the low and high nibbles of one byte quad)
  Value scales;  // memref [P, groups, W] bf16
  int64_t group; // inputs per scale, a multiple of 4
  int64_t bits;  // 8 or 4: the weights' values
  int64_t vl;    // i32 lanes per vector: 16 (AVX512_VNNI) or 8 (AVX-VNNI)
  /// The instructions that sum the products (Int8DotKernel.cpp): every
  /// form gives the same exact integers.
  enum class Form {
    /// VNNI's vpdpbusd (AVX512_VNNI, AVX-VNNI).
    VNNI,
    /// pmaddubsw + pmaddwd, for AVX2 (vl 8) and AVX512BW (vl 16) without
    /// VNNI.
    MaddUbs,
    /// Widening multiplies and shuffles, for any target: a build machine
    /// without either that runs the model (the meta-token prefix) at
    /// compile time.
    Portable,
  };
  Form form = Form::VNNI;
  /// What the unsigned weight operand of `form` adds to a group's sum, as
  /// a left shift of the group's sum(q_x) (`xSums`): 7 (128 sum(x): the
  /// weights + 128), 3 for pmaddubsw's int4 (the nibbles' q + 8), or -1
  /// when nothing is added (pmaddubsw's int8), which needs no `xSums`.
  static int64_t biasShift(Form form, int64_t bits) {
    return form != Form::MaddUbs ? 7 : bits == 4 ? 3 : -1;
  }
  /// > 0: a one-row tile (decode) prefetches the weights this many quad
  /// rows of `w` ahead (WeightPrefetch.h).
  int64_t prefetchRows = 0;

  /// The f32 accumulators `init` (rows.size() x (panels.size() x
  /// laneOffsets.size()), row major, panel major within a row) plus sum
  /// over k in [k0, k1) of x[rows[i], k] * w(p, k) for each panel p of
  /// `panels` and its lanes starting at each of `laneOffsets`. k0 is a
  /// multiple of the group and k1 - k0 of 4.
  SmallVector<Value> accumulate(ImplicitLocOpBuilder &b, ArrayRef<Value> rows,
                                ArrayRef<Value> panels,
                                ArrayRef<int64_t> laneOffsets, Value k0,
                                Value k1, ValueRange init) const;
};

/// The sum of each row's group of x's int8 values, qx [T, K] i8 ->
/// [T, ceil(K / group)] i32, in a buffer the caller deallocates: the
/// correction of the weights' +128 bias (Int8DotKernel.cpp).
Value buildGroupSums(ImplicitLocOpBuilder &b, Value qx, int64_t group);

} // namespace mlir::hymba

#endif // HYMBA_PASSES_INT8DOTKERNEL_H
