//===- ParallelBranches.cpp - Hybrid heads in one parallel region
//----------===//
//
// A layer's attention and selective scan that hymba-fuse-hybrid-heads
// paired up run as one scf.parallel: the attention's items followed by the
// scan's channel tiles (CPU) or channels (GPU), one fork/join (one GPU
// kernel) per layer instead of two.
//
//===----------------------------------------------------------------------===//
#include "Attention.h"
#include "Patterns.h"
#include "Scan.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::hymba;

namespace {
/// Channels per scan work item in a fused hybrid head.
constexpr int64_t kFusedScanTile = 16;

/// An attention and the scan of the same layer that hymba-fuse-hybrid-heads
/// placed side by side: one scf.parallel whose items are the attention's
/// (row, head) pairs followed by the scan's channel tiles, so both branches
/// run in one parallel region (one fork/join per layer in decode).
void lowerFusedBranches(RewriterBase &rewriter, AttentionOp attOp,
                        SelectiveScanOp scanOp, bool gpuForm,
                        int64_t vectorWidth) {
  ImplicitLocOpBuilder b = builderAt(rewriter, attOp);
  AttentionLowering att(b, attOp, gpuForm ? 0 : vectorWidth);
  ScanBuffers scan(b, scanOp, /*foldNorms=*/gpuForm);
  int64_t channels = scanOp.getU().getType().getDimSize(1);
  int64_t dState = scanOp.getALog().getType().getDimSize(1);
  Value scanOut, scanTensor;
  std::tie(scanOut, scanTensor) = allocRows(b, rowCount(b, scan.u), channels);
  if (gpuForm) {
    // One kernel: attention output elements, then one scan channel each.
    Value lanes = att.laneCount(b);
    Value items = arith::AddIOp::create(b, lanes, indexConst(b, channels));
    scf::ParallelOp::create(b, ValueRange{indexConst(b, 0)}, ValueRange{items},
                            ValueRange{indexConst(b, 1)},
                            [&](OpBuilder &nb, Location loc, ValueRange iv) {
                              ImplicitLocOpBuilder ib(loc, nb);
                              Value isAttention = arith::CmpIOp::create(
                                  ib, arith::CmpIPredicate::ult, iv[0], lanes);
                              scf::IfOp::create(
                                  ib, isAttention,
                                  [&](OpBuilder &tb, Location l) {
                                    ImplicitLocOpBuilder eb(l, tb);
                                    att.emitLaneAt(eb, iv[0]);
                                    scf::YieldOp::create(eb);
                                  },
                                  [&](OpBuilder &tb, Location l) {
                                    ImplicitLocOpBuilder eb(l, tb);
                                    emitScanChannel(
                                        eb, scan,
                                        arith::SubIOp::create(eb, iv[0], lanes),
                                        dState, scanOut);
                                    scf::YieldOp::create(eb);
                                  });
                              scf::ReduceOp::create(ib);
                            });
    rewriter.replaceOp(scanOp, scanTensor);
    rewriter.replaceOp(attOp, att.outTensor);
    return;
  }
  // Scratch for every tile, allocated outside the parallel region (stack
  // buffers inside it would not survive the OpenMP lowering of the scf.if).
  int64_t tiles = channels / kFusedScanTile;
  auto alloc = [&](int64_t rows, int64_t cols) -> Value {
    return memref::AllocOp::create(
        b, MemRefType::get({rows, cols}, b.getF32Type()));
  };
  Value hAll = alloc(tiles * dState, kFusedScanTile);
  Value aAll = alloc(tiles * dState, kFusedScanTile);
  Value vecAll = alloc(3 * tiles, kFusedScanTile); // delta, du, y per tile
  Value attItems = arith::MulIOp::create(b, att.rows, indexConst(b, att.heads));
  Value items = arith::AddIOp::create(b, attItems,
                                      indexConst(b, channels / kFusedScanTile));
  scf::ParallelOp::create(
      b, ValueRange{indexConst(b, 0)}, ValueRange{items},
      ValueRange{indexConst(b, 1)},
      [&](OpBuilder &nb, Location loc, ValueRange iv) {
        ImplicitLocOpBuilder ib(loc, nb);
        Value isAttention = arith::CmpIOp::create(ib, arith::CmpIPredicate::ult,
                                                  iv[0], attItems);
        scf::IfOp::create(
            ib, isAttention,
            [&](OpBuilder &tb, Location l) {
              ImplicitLocOpBuilder eb(l, tb);
              Value heads = indexConst(eb, att.heads);
              att.emitItem(eb, arith::DivUIOp::create(eb, iv[0], heads),
                           arith::RemUIOp::create(eb, iv[0], heads));
              scf::YieldOp::create(eb);
            },
            [&](OpBuilder &tb, Location l) {
              ImplicitLocOpBuilder eb(l, tb);
              Value c0 = arith::MulIOp::create(
                  eb, arith::SubIOp::create(eb, iv[0], attItems),
                  indexConst(eb, kFusedScanTile));
              SmallVector<OpFoldResult> one = {eb.getIndexAttr(1),
                                               eb.getIndexAttr(1)};
              Value outTile = memref::SubViewOp::create(
                  eb, scanOut, ArrayRef<OpFoldResult>{eb.getIndexAttr(0), c0},
                  ArrayRef<OpFoldResult>{rowCount(eb, scanOut),
                                         eb.getIndexAttr(kFusedScanTile)},
                  one);
              Value tileIdx = arith::SubIOp::create(eb, iv[0], attItems);
              auto rowsAt = [&](Value all, Value first, int64_t n) -> Value {
                return memref::SubViewOp::create(
                    eb, all, ArrayRef<OpFoldResult>{first, eb.getIndexAttr(0)},
                    ArrayRef<OpFoldResult>{eb.getIndexAttr(n),
                                           eb.getIndexAttr(kFusedScanTile)},
                    one);
              };
              auto vecAt = [&](int64_t which) -> Value {
                Value row = arith::AddIOp::create(
                    eb, arith::MulIOp::create(eb, tileIdx, indexConst(eb, 3)),
                    indexConst(eb, which));
                auto type = MemRefType::get(
                    {kFusedScanTile}, eb.getF32Type(),
                    StridedLayoutAttr::get(eb.getContext(),
                                           ShapedType::kDynamic, {1}));
                return memref::SubViewOp::create(
                    eb, type, vecAll,
                    ArrayRef<OpFoldResult>{row, eb.getIndexAttr(0)},
                    ArrayRef<OpFoldResult>{eb.getIndexAttr(1),
                                           eb.getIndexAttr(kFusedScanTile)},
                    one);
              };
              Value first =
                  arith::MulIOp::create(eb, tileIdx, indexConst(eb, dState));
              ScanScratch scratch{rowsAt(hAll, first, dState),
                                  rowsAt(aAll, first, dState), vecAt(0),
                                  vecAt(1), vecAt(2)};
              lowerScanTile(eb, sliceChannels(eb, scan, c0, kFusedScanTile),
                            kFusedScanTile, dState, outTile, &scratch);
              scf::YieldOp::create(eb);
            });
        scf::ReduceOp::create(ib);
      });
  // buffer-deallocation-pipeline frees the scratch (it owns every alloc).
  rewriter.replaceOp(scanOp, scanTensor);
  rewriter.replaceOp(attOp, att.outTensor);
}

/// A marked attention and the scan right after it.
struct LowerFusedBranches : OpRewritePattern<AttentionOp> {
  LowerFusedBranches(MLIRContext *ctx, KernelForm form, int64_t vectorWidth)
      : OpRewritePattern(ctx, /*benefit=*/2), gpuForm(form == KernelForm::GPU),
        vectorWidth(vectorWidth) {}
  LogicalResult matchAndRewrite(AttentionOp att,
                                PatternRewriter &rewriter) const override {
    auto scan = dyn_cast_or_null<SelectiveScanOp>(att->getNextNode());
    if (!att->hasAttr(kFusedBranchesAttr) || !scan)
      return rewriter.notifyMatchFailure(att, "not a fused hybrid head");
    int64_t channels = scan.getU().getType().getDimSize(1);
    if (!gpuForm && channels % kFusedScanTile != 0)
      return rewriter.notifyMatchFailure(att, "channels not in whole tiles");
    lowerFusedBranches(rewriter, att, scan, gpuForm, vectorWidth);
    return success();
  }
  bool gpuForm;
  int64_t vectorWidth;
};
} // namespace

void hymba::populateParallelBranchesLoweringPatterns(
    RewritePatternSet &patterns, KernelForm form, int64_t vectorWidth) {
  patterns.add<LowerFusedBranches>(patterns.getContext(), form, vectorWidth);
}
