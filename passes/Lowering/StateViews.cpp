//===- StateViews.cpp - hymba.state_buffer to views -----------------------===//
//
// After hymba-assign-buffer-layout every state buffer has a byte offset in
// the state arena; lowering makes it a typed memref.view at that offset.
//
//===----------------------------------------------------------------------===//
#include "../LoweringUtils.h"
#include "Patterns.h"

#include "dialects/hymba/HymbaOps.h"

using namespace mlir;
using namespace mlir::hymba;

namespace {
struct LowerStateBuffer : OpRewritePattern<StateBufferOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(StateBufferOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getOffset())
      return rewriter.notifyMatchFailure(op, "no offset assigned");
    ImplicitLocOpBuilder b = builderAt(rewriter, op);
    rewriter.replaceOp(op, viewAt(b, op.getState(), *op.getOffset(),
                                  op.getResult().getType()));
    return success();
  }
};
} // namespace

void hymba::populateStateViewLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerStateBuffer>(patterns.getContext());
}
