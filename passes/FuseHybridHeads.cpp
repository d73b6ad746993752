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
#include "dialects/hymba/HymbaOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::hymba {
#define GEN_PASS_DEF_HYMBAFUSEHYBRIDHEADS
#include "passes/Passes.h.inc"
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

/// Whether two buffers may overlap: state buffers naming different state
/// are disjoint; anything else may alias.
bool mayAlias(Value a, Value b) {
  if (a == b)
    return true;
  auto sa = a.getDefiningOp<StateBufferOp>();
  auto sb = b.getDefiningOp<StateBufferOp>();
  return !sa || !sb || sa.getName() == sb.getName();
}

/// Whether `a` and `b` may run in either order, as far as their declared
/// memory effects (MemoryEffectOpInterface, nested ops included) tell: one
/// may write a buffer only if the other does not touch it. An op that
/// declares no effects is assumed to conflict with everything.
bool commute(Operation *a, Operation *b) {
  auto ea = getEffectsRecursively(a), eb = getEffectsRecursively(b);
  if (!ea || !eb)
    return false;
  for (const MemoryEffects::EffectInstance &x : *ea) {
    for (const MemoryEffects::EffectInstance &y : *eb) {
      if (isa<MemoryEffects::Read>(x.getEffect()) &&
          isa<MemoryEffects::Read>(y.getEffect()))
        continue;
      if (!x.getValue() || !y.getValue() ||
          mayAlias(x.getValue(), y.getValue()))
        return false;
    }
  }
  return true;
}

/// Whether `op` uses a result of one of `producers`.
bool usesResultOf(Operation *op, ArrayRef<Operation *> producers) {
  return llvm::any_of(op->getOperands(), [&](Value v) {
    return llvm::is_contained(producers, v.getDefiningOp());
  });
}

/// Wraps `att` and the next hymba.selective_scan of its block (the same
/// layer's: the search stops at another attention or a merge) in one
/// hymba.parallel_branches at the scan's place. The ops between them that
/// must stay after the attention (they use its result, or their memory
/// effects conflict with it or with such an op: the KV-cache write) move
/// after the new op; the others stay before it. Nothing happens when the
/// scan itself would have to stay after the attention.
void pairWithScan(AttentionOp att, int64_t scanTile) {
  SelectiveScanOp scan;
  SmallVector<Operation *> after = {att}; // ops that stay after `att`
  for (Operation *op = att->getNextNode(); op; op = op->getNextNode()) {
    if ((scan = dyn_cast<SelectiveScanOp>(op)))
      break;
    if (isa<AttentionOp, HybridMergeOp, ParallelBranchesOp>(op))
      return; // another layer's branch or the merge: not this layer's scan
    if (usesResultOf(op, after) ||
        llvm::any_of(after, [&](Operation *a) { return !commute(a, op); }))
      after.push_back(op);
  }
  // Only the tensor form is wrapped (the region yields the branch results).
  if (!scan || att.isBufferized() || scan.isBufferized() ||
      usesResultOf(scan, after) ||
      llvm::any_of(after, [&](Operation *a) { return !commute(a, scan); }))
    return;

  OpBuilder b(scan);
  Location loc = b.getFusedLoc({att.getLoc(), scan.getLoc()});
  auto branches = ParallelBranchesOp::create(
      b, loc, att.getResult().getType(), scan.getResult().getType(),
      b.getI64IntegerAttr(scanTile));
  auto wrap = [&](Operation *op, Region &region, Value result) {
    result.replaceAllUsesWith(branches->getResult(region.getRegionNumber()));
    Block *block = b.createBlock(&region);
    op->moveBefore(block, block->end());
    b.setInsertionPointToEnd(block);
    YieldOp::create(b, op->getLoc(), result);
  };
  wrap(att, branches.getAttention(), att.getResult());
  wrap(scan, branches.getSsm(), scan.getResult());
  Operation *last = branches;
  for (Operation *op : llvm::drop_begin(after)) {
    op->moveAfter(last);
    last = op;
  }
}

struct FuseHybridHeadsPass
    : hymba::impl::HymbaFuseHybridHeadsBase<FuseHybridHeadsPass> {
  using Base::Base;
  void runOnOperation() override {
    if (scanTile <= 0) {
      getOperation()->emitError("scan-tile must be positive");
      return signalPassFailure();
    }
    SmallVector<AttentionOp> attentions;
    getOperation()->walk([&](AttentionOp att) {
      if (!isa<ParallelBranchesOp>(att->getParentOp()))
        attentions.push_back(att);
    });
    for (AttentionOp att : attentions)
      pairWithScan(att, scanTile);

    RewritePatternSet patterns(&getContext());
    patterns.add<FoldResidualIntoMerge>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
