//===- ActivationQuantization.h - x quantized for integer dot products ----===//
//
// With --compute=int8 a projection over int8 weights multiplies int8 x too
// (Int8DotKernel.h). x is quantized like the weights, per row and per group
// of the weight's group size along K, symmetric, in f32:
//
//   amax = max |x|,  q = clamp(roundeven(x * C / amax), -127, 127),
//   scale = amax / C            (an all-zero group: q = 0, scale = 0)
//
// with the quotient in f64 (exact numerator, one rounding), so that q
// depends only on the ratio x / amax, and C = 127 - 1/64 rather than 127:
// with C = 127, a value at exactly half a step (x = amax / 2 gives 63.5) is
// common when activations come from bf16 weights and inputs, and then the
// last f32 bit of x, which depends on the order of the arithmetic before,
// decides which way it rounds. A rounding boundary of C = 8127 / 64 is a
// ratio x / amax whose denominator has the factors 3, 7 and 43, which the
// short binary fractions that bf16 data produce never hit exactly. The
// largest value still maps to 127 (126.98 rounds up), and the scale keeps
// the group's range: the change costs nothing measurable in accuracy.
//
// so that the projection is sum over groups of scale_x * scale_w *
// dot(q_x, q_w). python/hymba_tools/quantize.py (quantize_activations)
// mirrors it operation for operation.
//
//===----------------------------------------------------------------------===//

#ifndef HYMBA_PASSES_ACTIVATIONQUANTIZATION_H
#define HYMBA_PASSES_ACTIVATIONQUANTIZATION_H

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::hymba {

/// C: quantization steps per group amax.
constexpr double kActivationQuantSteps = 127.0 - 1.0 / 64.0;

/// Lanes of the vectors that walk one group of x: the widest power of two
/// up to 32 that divides the group (one vector for the usual group of 32),
/// so that a large --quant-group never makes one huge vector.
int64_t groupChunkLanes(int64_t group);

struct QuantizedActivations {
  Value values; // tensor [T, K] i8
  Value scales; // tensor [T, ceil(K / group)] f32
};

/// x [T, K] (f32) quantized per row and group: loops over the rows and
/// groups whose body reads the group as vectors of up to 32 lanes (its
/// absolute maximum, its scale, its values).
QuantizedActivations buildQuantizedActivations(ImplicitLocOpBuilder &b,
                                               Value x, int64_t group);

} // namespace mlir::hymba

#endif // HYMBA_PASSES_ACTIVATIONQUANTIZATION_H
