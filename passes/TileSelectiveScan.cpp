//===- TileSelectiveScan.cpp - Channel tiles and time chunks for the scan -===//
//
// The selective scan is sequential in time but independent per channel. This
// pass rewrites one scan over [T, E] into an scf.forall over channel tiles
// (each a scan over [T, tile] with its slice of the state buffer) and, inside
// each tile, an scf.for over time chunks that carry the state through the
// buffer. The small static tile is what lets the loop lowering keep channels
// innermost and vectorize across them.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "hymba/Dialect/HymbaOps.h"
#include "hymba/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::hymba {
#define GEN_PASS_DEF_HYMBATILESELECTIVESCAN
#include "hymba/Passes.h.inc"
} // namespace mlir::hymba

using namespace mlir;
using namespace mlir::hymba;

namespace {
struct TileSelectiveScanPass
    : hymba::impl::HymbaTileSelectiveScanBase<TileSelectiveScanPass> {
  using Base::Base;

  void runOnOperation() override {
    if (channelTile <= 0 || timeChunk < 0) {
      getOperation()->emitError("channel-tile must be positive and time-chunk "
                                "non-negative");
      return signalPassFailure();
    }
    SmallVector<SelectiveScanOp> scans;
    getOperation()->walk([&](SelectiveScanOp op) {
      int64_t channels = op.getU().getType().getDimSize(1);
      // Already a tile (or not tileable into equal static tiles), or a
      // branch of hymba.parallel_branches (whose lowering tiles it in the
      // shared parallel region): keep.
      if (!op.isBufferized() &&
          !isa<ParallelBranchesOp>(op->getParentOp()) &&
          !ShapedType::isDynamic(channels) && channels > channelTile &&
          channels % channelTile == 0)
        scans.push_back(op);
    });
    for (SelectiveScanOp op : scans)
      tile(op);
  }

  /// Columns [c0, c0 + width) of a [rows, *] tensor, rows [r0, r0 + n).
  static Value block(ImplicitLocOpBuilder &b, Value t, OpFoldResult r0,
                     OpFoldResult n, OpFoldResult c0, int64_t width) {
    auto type = cast<RankedTensorType>(t.getType());
    auto resType = RankedTensorType::get({ShapedType::kDynamic, width},
                                         type.getElementType());
    SmallVector<OpFoldResult> one = {b.getIndexAttr(1), b.getIndexAttr(1)};
    return tensor::ExtractSliceOp::create(
        b, resType, t, ArrayRef<OpFoldResult>{r0, c0},
        ArrayRef<OpFoldResult>{n, b.getIndexAttr(width)}, one);
  }

  /// Rows [c0, c0 + tile) of a 1-D or 2-D weight.
  static Value rowsOf(ImplicitLocOpBuilder &b, Value t, Value c0,
                      int64_t tile) {
    auto type = cast<RankedTensorType>(t.getType());
    SmallVector<int64_t> shape(type.getShape());
    shape[0] = tile;
    SmallVector<OpFoldResult> offs(type.getRank(), b.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes, strides(type.getRank(), b.getIndexAttr(1));
    offs[0] = c0;
    for (int64_t d : shape)
      sizes.push_back(b.getIndexAttr(d));
    return tensor::ExtractSliceOp::create(
        b, RankedTensorType::get(shape, type.getElementType()), t, offs, sizes,
        strides);
  }

  void tile(SelectiveScanOp op) {
    ImplicitLocOpBuilder b(op.getLoc(), op);
    int64_t ct = channelTile, channels = op.getU().getType().getDimSize(1);
    int64_t dState = op.getALog().getType().getDimSize(1);
    Value c0 = arith::ConstantIndexOp::create(b, 0);
    Value rows = tensor::DimOp::create(b, op.getU(), c0);
    auto outType = op.getResult().getType();
    Value init = op.getInit();

    auto forall = scf::ForallOp::create(
        b, ArrayRef<OpFoldResult>{b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(channels)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(ct)}, ValueRange{init},
        std::nullopt, [&](OpBuilder &nb, Location loc, ValueRange args) {
          ImplicitLocOpBuilder tb(loc, nb);
          Value ch = args[0], shared = args[1];
          Value bias = rowsOf(tb, op.getDtBias(), ch, ct);
          Value aLog = rowsOf(tb, op.getALog(), ch, ct);
          Value d = rowsOf(tb, op.getD(), ch, ct);
          SmallVector<OpFoldResult> one = {tb.getIndexAttr(1),
                                           tb.getIndexAttr(1)};
          Value state = memref::SubViewOp::create(
              tb, op.getSsmState(),
              ArrayRef<OpFoldResult>{ch, tb.getIndexAttr(0)},
              ArrayRef<OpFoldResult>{tb.getIndexAttr(ct),
                                     tb.getIndexAttr(dState)},
              one);
          auto tileType = RankedTensorType::get({ShapedType::kDynamic, ct},
                                                outType.getElementType());

          // One time chunk [t0, t0 + n) of this channel tile, written into
          // the same rows and columns of `dest` (destination-passing style).
          auto chunk = [&](ImplicitLocOpBuilder &cb, OpFoldResult t0,
                           OpFoldResult n, Value dest, OpFoldResult col0) {
            auto full = [&](Value t) {
              int64_t w = cast<RankedTensorType>(t.getType()).getDimSize(1);
              return block(cb, t, t0, n, cb.getIndexAttr(0), w);
            };
            return SelectiveScanOp::create(
                       cb, tileType, block(cb, op.getU(), t0, n, ch, ct),
                       block(cb, op.getDt(), t0, n, ch, ct), bias, aLog,
                       full(op.getB()), full(op.getC()), d,
                       block(cb, op.getZ(), t0, n, ch, ct), state,
                       block(cb, dest, t0, n, col0, ct))
                .getResult();
          };
          Value result;
          if (timeChunk == 0) {
            result = chunk(tb, tb.getIndexAttr(0), rows, shared, ch);
          } else {
            Value tileInit = block(tb, shared, tb.getIndexAttr(0), rows, ch, ct);
            Value step = arith::ConstantIndexOp::create(tb, timeChunk);
            auto loop = scf::ForOp::create(
                tb, c0, rows, step, ValueRange{tileInit},
                [&](OpBuilder &fb, Location l, Value t0, ValueRange acc) {
                  ImplicitLocOpBuilder cb(l, fb);
                  Value n = arith::MinUIOp::create(
                      cb, step, arith::SubIOp::create(cb, rows, t0));
                  Value part = chunk(cb, t0, n, acc[0], cb.getIndexAttr(0));
                  Value next = tensor::InsertSliceOp::create(
                      cb, part, acc[0],
                      ArrayRef<OpFoldResult>{t0, cb.getIndexAttr(0)},
                      ArrayRef<OpFoldResult>{n, cb.getIndexAttr(ct)}, one);
                  scf::YieldOp::create(cb, next);
                });
            result = loop.getResult(0);
          }
          auto inParallel = scf::InParallelOp::create(tb);
          tb.setInsertionPointToStart(inParallel.getBody());
          tensor::ParallelInsertSliceOp::create(
              tb, result, shared,
              ArrayRef<OpFoldResult>{tb.getIndexAttr(0), ch},
              ArrayRef<OpFoldResult>{rows, tb.getIndexAttr(ct)}, one);
        });
    op.getResult().replaceAllUsesWith(forall.getResult(0));
    op.erase();
  }
};
} // namespace
