//===- RegisterKernels.h - GPU-form builders for the dense ops --*- C++ -*-===//
//
// The GPU form of hymba-lower-dense-to-linalg: every projection becomes one
// all-parallel linalg.generic over output elements (an scf.parallel once
// bufferized and converted to loops) whose dot product is an scf.for
// carried in a register over read-only buffers of its inputs (no zero fill,
// no accumulator buffer, no copy), and an RMS norm
// that feeds a projection is folded into it: the row's sum of squares is
// accumulated in the same k loop and applied to the finished dot product,
// since rms(x) is a per-row scalar. Each builder is one kernel after GPU
// mapping.
//
//===----------------------------------------------------------------------===//
#ifndef HYMBA_PASSES_REGISTERKERNELS_H
#define HYMBA_PASSES_REGISTERKERNELS_H

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::hymba {

/// Rows a projection reads: `x`, RMS-normalised with `gamma` and `eps` when
/// `gamma` is set (the look-through of a hymba.rms_norm producer).
struct ProjectionInput {
  Value x;
  Value gamma;
  float eps = 0.0f;
};

/// `input`, looking through a hymba.rms_norm that produces it.
ProjectionInput projectionInputOf(Value input);

/// y[t, j] = (residual[t, j] +) coefficient * sum_i norm_i(t) * (x_i[t, :] *
/// gamma_i) . w[j, :]. One input for a linear; two (coefficient 0.5) for
/// the hybrid merge's mean of two normalised branches. `residual` may be
/// null.
Value buildRegisterProjection(ImplicitLocOpBuilder &b,
                              ArrayRef<ProjectionInput> inputs, Value w,
                              float coefficient, Value residual);

/// silu(x . gate[j]) * (x . up[j]) for every intermediate column j, both dot
/// products in one k loop over the (possibly normalised) input.
Value buildRegisterGatedUp(ImplicitLocOpBuilder &b, const ProjectionInput &in,
                           Value gate, Value up);

/// A standalone RMS norm: one item per row accumulates the sum of squares in
/// a register, then a linalg element-wise op scales the row.
Value buildRegisterRMSNorm(ImplicitLocOpBuilder &b, Value x, Value gamma,
                           float eps);

} // namespace mlir::hymba

#endif // HYMBA_PASSES_REGISTERKERNELS_H
