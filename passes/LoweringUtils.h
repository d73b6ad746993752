//===- LoweringUtils.h - Builders shared by the Hymba lowerings -*- C++ -*-===//
#ifndef HYMBA_PASSES_LOWERINGUTILS_H
#define HYMBA_PASSES_LOWERINGUTILS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::hymba {

/// A builder inserting before `op` that notifies `rewriter` (so patterns and
/// imperative rewrites can share the same builder code).
inline ImplicitLocOpBuilder builderAt(RewriterBase &rewriter, Operation *op) {
  ImplicitLocOpBuilder b(op->getLoc(), rewriter);
  b.setInsertionPoint(op);
  return b;
}

/// `v` as f32: weights may be stored as bf16/f16 and are widened exactly.
Value widenToF32(ImplicitLocOpBuilder &b, Value v);

/// The bits of f32 `x` (a scalar or a vector) rounded to bf16, to nearest
/// even, as i32 with the low 16 bits zero (NaN stays NaN): integer ops only,
/// so it needs no bf16 support from the target.
Value roundedBF16Bits(ImplicitLocOpBuilder &b, Value x);

/// f32 `x` rounded to bf16 and widened back (the value a bf16 dot product
/// multiplies): bitcast(roundedBF16Bits(x)).
Value roundToBF16(ImplicitLocOpBuilder &b, Value x);

/// A vector of bf16 widened to f32 as bits << 16, which is exact. LLVM
/// would narrow extf(s) * c back to a bf16 multiply, which targets without
/// AVX512_BF16 emulate with a libcall per lane.
Value widenBF16Exactly(ImplicitLocOpBuilder &b, Value bf16Vector);

/// Whether `op`, in a linalg.generic body, can be cloned on vectors by
/// cloneElementwiseOps: a constant or an element-wise op, no regions, one
/// result, every operand and result an integer or float scalar.
bool isScalarElementwiseOp(Operation &op);

/// Clones the ops of the linalg body `body` (not its terminator, nor the ops
/// `skip` accepts) at `b` on `lanes`-wide vectors (0: as they are), after
/// `map`, which must map the block arguments the ops read: values from
/// outside the body are broadcast, constants splat, and bf16 -> f32
/// extensions widen by bits (widenBF16Exactly). Each op must pass
/// isScalarElementwiseOp.
void cloneElementwiseOps(ImplicitLocOpBuilder &b, Block &body, int64_t lanes,
                         IRMapping &map,
                         function_ref<bool(Operation &)> skip = nullptr);

/// f32 constant.
Value f32Const(ImplicitLocOpBuilder &b, double v);
/// f32 constant of `type`: f32, or a splat for a vector of f32.
Value f32Const(ImplicitLocOpBuilder &b, Type type, double v);
/// Integer constant of `type`: an integer or index type, or a splat for a
/// vector of one.
Value intConst(ImplicitLocOpBuilder &b, Type type, int64_t v);

/// The (possibly dynamic) row count of a 2-D tensor or memref.
Value rowCount(ImplicitLocOpBuilder &b, Value shaped);

/// An uninitialised f32 tensor [rows, width] with `rows` taken from `like`.
Value emptyRows(ImplicitLocOpBuilder &b, Value like, int64_t width);

/// x @ w^T for x [T, K] (f32) and an `n` x K weight w: a linalg.generic
/// matmul that reads the weight in its storage layout and widens (or
/// dequantizes) it in the body (WeightAccess.h). `w` is the [N, K] matrix,
/// its [ceil(N / W), K, W] panel storage (#hymba.panels), read through the
/// map (n floordiv W, k, n mod W), or a hymba.dequantize of either; bf16
/// panels interleaved by 2 along K (the --compute=bf16 layout) multiply x
/// rounded to bf16 (roundToBF16), as the dot products that read them. With
/// `accumulator` the product is added to it (an epilogue add for free),
/// else to zeros.
Value buildLinear(ImplicitLocOpBuilder &b, Value x, Value w, int64_t n,
                  Value accumulator = Value());

/// (rms_norm(a; wa) + rms_norm(s; ws)) / 2 as one reduction generic (both
/// sums of squares) and one element-wise generic.
Value buildNormMean(ImplicitLocOpBuilder &b, Value a, Value wa, Value s,
                    Value ws, float eps);

/// Row-wise RMSNorm of x [T, N] with weight w [N].
Value buildRMSNorm(ImplicitLocOpBuilder &b, Value x, Value w, float eps);

/// 1 / rms of a row from its sum of squares: rsqrt(sumSq / width + eps), the
/// one formula every norm lowering uses.
Value buildInvRMS(ImplicitLocOpBuilder &b, Value sumSq, int64_t width,
                  float eps);

/// A linalg.generic applying `fn` element-wise to equally shaped f32 tensors.
Value buildElementwise(
    ImplicitLocOpBuilder &b, ValueRange inputs,
    function_ref<Value(ImplicitLocOpBuilder &, ValueRange)> fn);

/// silu(x) = x * sigmoid(x), of an f32 scalar or vector.
Value buildSilu(ImplicitLocOpBuilder &b, Value x);

/// A read-only memref of `tensor` (bufferization.to_buffer read_only) with a
/// fully dynamic layout, so that any buffer bufferization picks for it
/// (including strided slices) fits without a copy: how a GPU-form kernel of
/// the dense lowering, a generic whose items walk whole rows, reads its
/// tensor inputs. Nothing is written through it.
Value toReadOnlyBuffer(ImplicitLocOpBuilder &b, Value tensor);

/// A typed view at a constant byte offset of an i8 buffer.
Value viewAt(ImplicitLocOpBuilder &b, Value bytes, int64_t offset,
             MemRefType type);

/// Fails with an error on the first `OpTy` (hymba.weight or
/// hymba.state_buffer) that hymba-assign-buffer-layout has not placed.
/// An index constant.
Value indexConst(ImplicitLocOpBuilder &b, int64_t v);

/// memref.load widened to f32.
Value loadF32(ImplicitLocOpBuilder &b, Value mem, ValueRange idx);

/// The memref `v` is a view of (through a view-like op or
/// memref.extract_strided_metadata's base buffer), or null if `v` is not
/// defined by one. Repeat it to reach the underlying buffer.
Value viewedBuffer(Value v);

template <typename OpTy> LogicalResult verifyOffsetsAssigned(Operation *root) {
  WalkResult missing = root->walk([](OpTy op) {
    if (op.getOffset())
      return WalkResult::advance();
    op.emitOpError("has no offset; run -hymba-assign-buffer-layout first");
    return WalkResult::interrupt();
  });
  return failure(missing.wasInterrupted());
}

} // namespace mlir::hymba

#endif // HYMBA_PASSES_LOWERINGUTILS_H
