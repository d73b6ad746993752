//===- ApproximateMath.cpp - Inline polynomial exp/log for CPU loops ------===//
//
// math.exp and math.log1p lower to calls of libm's expf/log1pf. A call in a
// loop body keeps LLVM's loop vectorizer from vectorizing the loop (no
// vector variant is known), so the selective scan's exp(dt * A), the
// softplus and SiLU run one element per call. Upstream's polynomial
// approximations expand them into a few dozen arithmetic ops (range
// reduction + polynomial, a few ulp of float32), which vectorize with the
// rest of the loop.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::hymba {
#define GEN_PASS_DEF_HYMBAAPPROXIMATEMATH
#include "passes/Passes.h.inc"
} // namespace mlir::hymba

using namespace mlir;

namespace {
struct ApproximateMathPass
    : hymba::impl::HymbaApproximateMathBase<ApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(
        patterns, [](StringRef name) {
          return name == "math.exp" || name == "math.expm1" ||
                 name == "math.log" || name == "math.log1p";
        });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
