//===- GPUFlattenParallelLoops.cpp - One flat index space per kernel ------===//
//
// gpu-map-parallel-loops maps the first dimension of a tiled scf.parallel to
// threads and the others to grid dimensions, so a [rows, cols] loop puts its
// rows on the threads of a block: in a decode step (one row) all but one
// thread of every block idles and neighbouring threads read rows apart.
// Collapsing every outermost parallel loop into one dimension, row-major,
// puts consecutive columns on consecutive threads (coalesced accesses) and
// sizes the grid by the real item count.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"

#include <numeric>

namespace mlir::hymba {
#define GEN_PASS_DEF_HYMBAGPUFLATTENPARALLELLOOPS
#include "passes/Passes.h.inc"
} // namespace mlir::hymba

using namespace mlir;

namespace {
struct GPUFlattenParallelLoopsPass
    : hymba::impl::HymbaGPUFlattenParallelLoopsBase<
          GPUFlattenParallelLoopsPass> {
  void runOnOperation() override {
    SmallVector<scf::ParallelOp> outermost;
    getOperation()->walk([&](scf::ParallelOp loop) {
      if (loop.getNumLoops() > 1 && !loop->getParentOfType<scf::ParallelOp>() &&
          !loop->getParentOfType<gpu::LaunchOp>())
        outermost.push_back(loop);
    });
    IRRewriter rewriter(&getContext());
    for (scf::ParallelOp loop : outermost) {
      std::vector<unsigned> dims(loop.getNumLoops());
      std::iota(dims.begin(), dims.end(), 0u);
      rewriter.setInsertionPoint(loop);
      collapseParallelLoops(rewriter, loop, {dims});
    }
  }
};
} // namespace
