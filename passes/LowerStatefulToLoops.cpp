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
#include "llvm/ADT/TypeSwitch.h"

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
/// The loops read and write buffers, so the ops must be in their memref form
/// (one-shot-bufferize gives it to them through their
/// BufferizableOpInterface); a tensor-form op fails the pass here, by name,
/// rather than as an op no pattern lowered.
LogicalResult verifyBufferized(Operation *root) {
  WalkResult tensors = root->walk([](Operation *op) {
    bool tensorForm =
        TypeSwitch<Operation *, bool>(op)
            .Case<AttentionOp, CausalConv1dOp, SelectiveScanOp>(
                [](auto dps) { return !dps.isBufferized(); })
            .Case([](KVCacheWriteOp write) {
              return isa<TensorType>(write.getKey().getType());
            })
            .Case([](ParallelBranchesOp branches) {
              return isa<TensorType>(branches.getAttentionResult().getType());
            })
            .Default(false);
    if (!tensorForm)
      return WalkResult::advance();
    op->emitOpError("is lowered to loops in its memref form only; run "
                    "one-shot-bufferize first");
    return WalkResult::interrupt();
  });
  return failure(tensors.wasInterrupted());
}

struct LowerStatefulToLoopsPass
    : hymba::impl::HymbaLowerStatefulToLoopsBase<LowerStatefulToLoopsPass> {
  using HymbaLowerStatefulToLoopsBase::HymbaLowerStatefulToLoopsBase;
  void runOnOperation() override {
    Operation *root = getOperation();
    if (failed(verifyOffsetsAssigned<StateBufferOp>(root)) ||
        failed(verifyBufferized(root)))
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    populateStateViewLoweringPatterns(patterns);
    populateKVCacheLoweringPatterns(patterns);
    populateConv1dLoweringPatterns(patterns, kernelForm, vectorWidth);
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
    // index arithmetic the patterns built and share constants.
    if (failed(applyPatternsGreedily(root, FrozenRewritePatternSet())))
      return signalPassFailure();
  }
};
} // namespace
