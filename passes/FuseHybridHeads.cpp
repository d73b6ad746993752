//===- FuseHybridHeads.cpp - One epilogue for the hybrid head -------------===//
//
// A Hymba layer's attention and SSM branches start from one fused input
// projection (one hymba.linear whose column slices feed both branches, views
// after bufferization) and end in hymba.hybrid_merge followed by the
// residual add. This pass folds that add into the merge, so the merge's
// epilogue (two RMSNorms, their mean, the output projection) accumulates
// straight into the residual stream: one pass over memory and one buffer
// fewer per layer.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "hymba/Dialect/HymbaOps.h"
#include "hymba/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::hymba {
#define GEN_PASS_DEF_HYMBAFUSEHYBRIDHEADS
#include "hymba/Passes.h.inc"
} // namespace mlir::hymba

using namespace mlir;
using namespace mlir::hymba;

namespace {
/// addf(x, merge(...)) or addf(merge(...), x) -> merge(...) residual(x),
/// when the merge has no other user.
struct FoldResidualIntoMerge : OpRewritePattern<arith::AddFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::AddFOp add,
                                PatternRewriter &rewriter) const override {
    for (unsigned i = 0; i < 2; ++i) {
      auto merge = add->getOperand(i).getDefiningOp<HybridMergeOp>();
      Value residual = add->getOperand(1 - i);
      if (!merge || merge.getResidual() || !merge->hasOneUse() ||
          residual.getType() != merge.getResult().getType())
        continue;
      rewriter.replaceOpWithNewOp<HybridMergeOp>(
          add, merge.getResult().getType(), merge.getAttention(),
          merge.getSsm(), merge.getAttentionNorm(), merge.getSsmNorm(),
          merge.getOutProj(), residual, merge.getEpsilonAttr());
      rewriter.eraseOp(merge);
      return success();
    }
    return failure();
  }
};

/// Moves `att` next to the scan of its layer (the next hymba.selective_scan
/// in the block) and marks both, so that the lowering runs them in one
/// parallel region. Legal because the SSM ops in between never touch the KV
/// caches the attention reads; a KV-cache write in between (the chunk joining
/// the cache the attention reads) moves after the scan to stay after it.
void pairWithScan(AttentionOp att) {
  Operation *next = att->getNextNode();
  SmallVector<KVCacheWriteOp> writes;
  SelectiveScanOp scan;
  for (Operation *op = next; op; op = op->getNextNode()) {
    if (auto s = dyn_cast<SelectiveScanOp>(op)) {
      scan = s;
      break;
    }
    if (isa<AttentionOp, HybridMergeOp>(op))
      return; // another layer's branch or the merge: not this layer's scan
    if (auto w = dyn_cast<KVCacheWriteOp>(op))
      writes.push_back(w);
  }
  if (!scan)
    return;
  att->moveBefore(scan);
  Operation *after = scan;
  for (KVCacheWriteOp w : writes) {
    w->moveAfter(after);
    after = w;
  }
  UnitAttr mark = UnitAttr::get(att.getContext());
  att->setAttr(kFusedBranchesAttr, mark);
  scan->setAttr(kFusedBranchesAttr, mark);
}

struct FuseHybridHeadsPass
    : hymba::impl::HymbaFuseHybridHeadsBase<FuseHybridHeadsPass> {
  void runOnOperation() override {
    SmallVector<AttentionOp> attentions;
    getOperation()->walk([&](AttentionOp att) {
      if (!att->hasAttr(kFusedBranchesAttr))
        attentions.push_back(att);
    });
    for (AttentionOp att : attentions)
      pairWithScan(att);

    RewritePatternSet patterns(&getContext());
    patterns.add<FoldResidualIntoMerge>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
