//===- UnshareFillInits.cpp - One linalg.fill per op that writes it -------===//
//
// CSE merges identical `linalg.fill`s of `tensor.empty`: every projection of
// the same output width, in every layer, then starts from one zero tensor.
// Bufferization gives that tensor one buffer and, since each projection
// accumulates into its init in place, copies it into a fresh buffer for
// every writer. The copies ran serially (memmove) and kept the shared buffer
// alive across all layers. A fill of its own per writer bufferizes in place:
// the zeros are written straight into the projection's output.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

namespace mlir::hymba {
#define GEN_PASS_DEF_HYMBAUNSHAREFILLINITS
#include "passes/Passes.h.inc"
} // namespace mlir::hymba

using namespace mlir;

namespace {
struct UnshareFillInitsPass
    : hymba::impl::HymbaUnshareFillInitsBase<UnshareFillInitsPass> {
  void runOnOperation() override {
    SmallVector<linalg::FillOp> fills;
    getOperation()->walk([&](linalg::FillOp fill) {
      if (fill.hasPureTensorSemantics() &&
          fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>())
        fills.push_back(fill);
    });
    for (linalg::FillOp fill : fills) {
      Value filled = fill.getResult(0);
      // The uses that write into the tensor (a destination operand) in the
      // fill's block; reads can share it. (A writer inside a loop would get
      // a fill per iteration: left to bufferization.)
      SmallVector<OpOperand *> inits;
      for (OpOperand &use : filled.getUses()) {
        auto dps = dyn_cast<DestinationStyleOpInterface>(use.getOwner());
        if (dps && dps.isDpsInit(&use) && dps->getBlock() == fill->getBlock())
          inits.push_back(&use);
      }
      llvm::sort(inits, [](OpOperand *a, OpOperand *b) {
        return a->getOwner()->isBeforeInBlock(b->getOwner());
      });
      // The first writer keeps the original when nothing else reads it.
      bool shared = size_t(std::distance(filled.use_begin(),
                                         filled.use_end())) > inits.size();
      for (size_t i = shared ? 0 : 1; i < inits.size(); ++i) {
        OpOperand *use = inits[i];
        OpBuilder b(use->getOwner());
        Operation *empty =
            b.clone(*fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>());
        IRMapping map;
        map.map(fill.getOutputs()[0], empty->getResult(0));
        use->set(b.clone(*fill, map)->getResult(0));
      }
    }
  }
};
} // namespace
