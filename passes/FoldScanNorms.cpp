//===- FoldScanNorms.cpp - B and C norms as operands of the scan ----------===//
//
// Hymba normalises the scan's B and C rows (d_state wide) with RMS norms of
// their own. As separate kernels each norm writes a [T, d_state] buffer that
// the scan reads right back; the GPU-form scan can instead normalise each
// row as it reads it (one more loop over d_state per row, in registers).
// This pass states that choice in the IR, on tensors: the scan takes the
// norms' inputs, weights and epsilon (`norms(%wb, %wc)`, `norm_epsilon`), so
// every later pass, bufferization included, sees what the scan computes
// without looking for the ops that produced its operands.
//
//===----------------------------------------------------------------------===//

#include "dialects/hymba/HymbaOps.h"
#include "passes/Passes.h"

namespace mlir::hymba {
#define GEN_PASS_DEF_HYMBAFOLDSCANNORMS
#include "passes/Passes.h.inc"
} // namespace mlir::hymba

using namespace mlir;
using namespace mlir::hymba;

namespace {
struct FoldScanNormsPass
    : hymba::impl::HymbaFoldScanNormsBase<FoldScanNormsPass> {
  void runOnOperation() override {
    getOperation()->walk([](SelectiveScanOp scan) {
      if (scan.isBufferized() || scan.getBNorm())
        return;
      auto bNorm = scan.getB().getDefiningOp<RMSNormOp>();
      auto cNorm = scan.getC().getDefiningOp<RMSNormOp>();
      // The op has one epsilon for both norms (Hymba's config has one).
      if (!bNorm || !cNorm || bNorm.getEpsilon() != cNorm.getEpsilon())
        return;
      scan.getBMutable().assign(bNorm.getInput());
      scan.getCMutable().assign(cNorm.getInput());
      scan.getBNormMutable().assign(bNorm.getWeight());
      scan.getCNormMutable().assign(cNorm.getWeight());
      scan.setNormEpsilonAttr(bNorm.getEpsilonAttr());
      // B and C may be one norm's result: erase it once.
      if (bNorm->use_empty())
        bNorm->erase();
      if (cNorm != bNorm && cNorm->use_empty())
        cNorm->erase();
    });
  }
};
} // namespace
