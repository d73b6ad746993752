//===- LowerStatefulToLoops.cpp - State-carrying Hymba ops to loops -------===//
//
// Attention, the KV-cache append, the causal conv and the selective scan read
// and update explicit state buffers, so they are lowered to scf loops over
// memrefs. Each op family's patterns live in passes/Lowering/<Family>.cpp;
// this pass applies them all under a ConversionTarget on which those ops are
// illegal, so an op that no pattern lowers fails the pass with its location.
//
//===----------------------------------------------------------------------===//

#include "Lowering/Patterns.h"
#include "LoweringUtils.h"
#include "dialects/hymba/HymbaOps.h"
#include "passes/Passes.h"

#include "mlir/Transforms/DialectConversion.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::hymba {
#define GEN_PASS_DEF_HYMBALOWERSTATEFULTOLOOPS
#include "passes/Passes.h.inc"
} // namespace mlir::hymba

using namespace mlir;
using namespace mlir::hymba;

void hymba::addStatefulOpsIllegal(ConversionTarget &target) {
  target.addIllegalOp<StateBufferOp, AttentionOp, KVCacheWriteOp,
                      CausalConv1dOp, SelectiveScanOp, ParallelBranchesOp>();
}

namespace {
struct LowerStatefulToLoopsPass
    : hymba::impl::HymbaLowerStatefulToLoopsBase<LowerStatefulToLoopsPass> {
  using HymbaLowerStatefulToLoopsBase::HymbaLowerStatefulToLoopsBase;
  void runOnOperation() override {
    Operation *root = getOperation();
    if (failed(verifyOffsetsAssigned<StateBufferOp>(root)))
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    populateStateViewLoweringPatterns(patterns);
    populateKVCacheLoweringPatterns(patterns);
    populateConv1dLoweringPatterns(patterns);
    populateAttentionLoweringPatterns(patterns, kernelForm, vectorWidth);
    populateScanLoweringPatterns(patterns, kernelForm);
    populateParallelBranchesLoweringPatterns(patterns, kernelForm, vectorWidth);
    // Everything else (the stateless Hymba ops included) stays as it is.
    ConversionTarget target(getContext());
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    addStatefulOpsIllegal(target);
    if (failed(applyPartialConversion(root, target, std::move(patterns))))
      return signalPassFailure();
    // The conversion driver neither folds nor erases dead ops: fold the
    // index arithmetic the patterns built, share constants, and drop the
    // RMS norms the GPU scan folded into its row reads (a dead norm would
    // otherwise still be lowered to a kernel of its own).
    if (failed(applyPatternsGreedily(root, FrozenRewritePatternSet())))
      return signalPassFailure();
  }
};
} // namespace
