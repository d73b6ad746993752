//===- ParallelBranches.cpp - Hybrid heads in one parallel region ---------===//
//
// hymba.parallel_branches (a layer's attention and selective scan, built by
// hymba-fuse-hybrid-heads) runs as one scf.parallel: the attention's items
// and the scan's channel tiles (CPU, spread evenly) or channels (GPU), one
// fork/join (one GPU kernel) per layer instead of two.
//
//===----------------------------------------------------------------------===//
#include "Attention.h"
#include "Patterns.h"
#include "Scan.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;
using namespace mlir::hymba;

namespace {
/// Replaces the op by the buffers its regions yield: the inner ops' inits,
/// which the lowered loops wrote and branchOp checked are defined above the
/// op.
void replaceBranches(RewriterBase &rewriter, ParallelBranchesOp op) {
  rewriter.replaceOp(
      op, ValueRange{ParallelBranchesOp::yieldedValue(op.getAttention()),
                     ParallelBranchesOp::yieldedValue(op.getSsm())});
}

/// An attention and the scan of the same layer that hymba-fuse-hybrid-heads
/// placed side by side: one scf.parallel whose items are the attention's
/// items and the scan's channel tiles, so both branches run in one parallel
/// region (one fork/join per layer in decode).
void lowerFusedBranches(RewriterBase &rewriter, ParallelBranchesOp op,
                        AttentionOp attOp, SelectiveScanOp scanOp, bool gpuForm,
                        int64_t vectorWidth, int64_t tile) {
  ImplicitLocOpBuilder b = builderAt(rewriter, op);
  AttentionLowering att(b, attOp, gpuForm ? 0 : vectorWidth);
  ScanBuffers scan(scanOp);
  int64_t channels = scanOp.getU().getType().getDimSize(1);
  int64_t dState = scanOp.getALog().getType().getDimSize(1);
  Value scanOut = scanOp.getInit();
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
    replaceBranches(rewriter, op);
    return;
  }
  // Scratch for every tile, allocated outside the parallel region (stack
  // buffers inside it would not survive the OpenMP lowering of the scf.if).
  int64_t tiles = channels / tile;
  auto alloc = [&](int64_t rows, int64_t cols) -> Value {
    return memref::AllocOp::create(
        b, MemRefType::get({rows, cols}, b.getF32Type()));
  };
  Value hAll = alloc(tiles * dState, tile);
  Value aAll = alloc(tiles * dState, tile);
  Value vecAll = alloc(3 * tiles, tile); // delta, du, y per tile
  Value attItems = att.itemCount(b);
  Value items =
      arith::AddIOp::create(b, attItems, indexConst(b, channels / tile));
  scf::ParallelOp::create(
      b, ValueRange{indexConst(b, 0)}, ValueRange{items},
      ValueRange{indexConst(b, 1)},
      [&](OpBuilder &nb, Location loc, ValueRange iv) {
        ImplicitLocOpBuilder ib(loc, nb);
        // The A attention items are spread evenly over the N items: item i
        // is attention item floor(i A / N) when (i A) mod N < A, else scan
        // tile i - floor(i A / N) - 1. Threads take contiguous ranges of
        // items, and an attention item of a decode step after a long prompt
        // costs many scan tiles: placed first, they all fell to one thread
        // (2-thread decode after 512 tokens ran at 1.1x one thread).
        Value scaled = arith::MulIOp::create(ib, iv[0], attItems);
        Value attIdx = arith::DivUIOp::create(ib, scaled, items);
        Value isAttention = arith::CmpIOp::create(
            ib, arith::CmpIPredicate::ult,
            arith::RemUIOp::create(ib, scaled, items), attItems);
        scf::IfOp::create(
            ib, isAttention,
            [&](OpBuilder &tb, Location l) {
              ImplicitLocOpBuilder eb(l, tb);
              att.emitItemAt(eb, attIdx);
              scf::YieldOp::create(eb);
            },
            [&](OpBuilder &tb, Location l) {
              ImplicitLocOpBuilder eb(l, tb);
              Value tileIdx = arith::SubIOp::create(
                  eb, iv[0],
                  arith::AddIOp::create(eb, attIdx, indexConst(eb, 1)));
              Value c0 =
                  arith::MulIOp::create(eb, tileIdx, indexConst(eb, tile));
              SmallVector<OpFoldResult> one = {eb.getIndexAttr(1),
                                               eb.getIndexAttr(1)};
              Value outTile = memref::SubViewOp::create(
                  eb, scanOut, ArrayRef<OpFoldResult>{eb.getIndexAttr(0), c0},
                  ArrayRef<OpFoldResult>{rowCount(eb, scanOut),
                                         eb.getIndexAttr(tile)},
                  one);
              auto rowsAt = [&](Value all, Value first, int64_t n) -> Value {
                return memref::SubViewOp::create(
                    eb, all, ArrayRef<OpFoldResult>{first, eb.getIndexAttr(0)},
                    ArrayRef<OpFoldResult>{eb.getIndexAttr(n),
                                           eb.getIndexAttr(tile)},
                    one);
              };
              auto vecAt = [&](int64_t which) -> Value {
                Value row = arith::AddIOp::create(
                    eb, arith::MulIOp::create(eb, tileIdx, indexConst(eb, 3)),
                    indexConst(eb, which));
                auto type = MemRefType::get(
                    {tile}, eb.getF32Type(),
                    StridedLayoutAttr::get(eb.getContext(),
                                           ShapedType::kDynamic, {1}));
                return memref::SubViewOp::create(
                    eb, type, vecAll,
                    ArrayRef<OpFoldResult>{row, eb.getIndexAttr(0)},
                    ArrayRef<OpFoldResult>{eb.getIndexAttr(1),
                                           eb.getIndexAttr(tile)},
                    one);
              };
              Value first =
                  arith::MulIOp::create(eb, tileIdx, indexConst(eb, dState));
              ScanScratch scratch{rowsAt(hAll, first, dState),
                                  rowsAt(aAll, first, dState), vecAt(0),
                                  vecAt(1), vecAt(2)};
              lowerScanTileInto(eb, sliceChannels(eb, scan, c0, tile), tile,
                                dState, outTile, scratch);
              scf::YieldOp::create(eb);
            });
        scf::ReduceOp::create(ib);
      });
  att.emitSplitCombine(b);
  // buffer-deallocation-pipeline frees the scratch (it owns every alloc).
  replaceBranches(rewriter, op);
}

/// The branch's op: the last op of `region` before its yield, if it is an
/// `OpTy` (memref form) whose init the region yields. The ops before it may
/// be the allocation of that init and its size computation (one-shot-bufferize
/// allocates a fresh destination in place of the op when the original init is
/// still live, e.g. a tensor.empty that CSE shared between ops); they are added
/// to `hoist`, to be moved, in order, above the parallel_branches, where the
/// lowered loops and the op's users see them. Anything else (an op with
/// other memory effects) is not a lone branch op: no match.
template <typename OpTy>
OpTy branchOp(Region &region, SmallVectorImpl<Operation *> &hoist) {
  Block &block = region.front();
  auto op = dyn_cast_or_null<OpTy>(block.getTerminator()->getPrevNode());
  if (!op)
    return OpTy();
  Value yielded = ParallelBranchesOp::yieldedValue(region);
  if (!op.isBufferized() || yielded != op.getInit())
    return OpTy();
  for (Operation &other : block.without_terminator()) {
    if (&other == op)
      break;
    if (!isa<memref::AllocOp>(other) && !isMemoryEffectFree(&other))
      return OpTy();
    hoist.push_back(&other);
  }
  return op;
}

/// hymba.parallel_branches of an attention and a scan -> one scf.parallel
/// over both branches' work items (or, when the CPU form's scan tile does
/// not divide the channels, the two branches' own loops in sequence).
struct LowerParallelBranches : OpRewritePattern<ParallelBranchesOp> {
  LowerParallelBranches(MLIRContext *ctx, KernelForm form, int64_t vectorWidth)
      : OpRewritePattern(ctx), form(form), vectorWidth(vectorWidth) {}
  LogicalResult matchAndRewrite(ParallelBranchesOp op,
                                PatternRewriter &rewriter) const override {
    SmallVector<Operation *> hoist;
    auto att = branchOp<AttentionOp>(op.getAttention(), hoist);
    auto scan = branchOp<SelectiveScanOp>(op.getSsm(), hoist);
    if (!att || !scan)
      return rewriter.notifyMatchFailure(
          op, "branches are not one hymba.attention and one "
              "hymba.selective_scan");
    if (!hasStaticScanShape(scan))
      return rewriter.notifyMatchFailure(
          op, "the scan's channel count or state size is dynamic");
    for (Operation *alloc : hoist)
      rewriter.moveOpBefore(alloc, op);
    bool gpuForm = form == KernelForm::GPU;
    int64_t tile = op.getScanTile();
    int64_t channels = scan.getU().getType().getDimSize(1);
    if (gpuForm || channels % tile == 0) {
      lowerFusedBranches(rewriter, op, att, scan, gpuForm, vectorWidth, tile);
      return success();
    }
    ImplicitLocOpBuilder b = builderAt(rewriter, op);
    buildAttentionLoops(b, att, form, vectorWidth);
    buildScanLoops(b, scan, form);
    replaceBranches(rewriter, op);
    return success();
  }
  KernelForm form;
  int64_t vectorWidth;
};
} // namespace

void hymba::populateParallelBranchesLoweringPatterns(
    RewritePatternSet &patterns, KernelForm form, int64_t vectorWidth) {
  patterns.add<LowerParallelBranches>(patterns.getContext(), form, vectorWidth);
}
