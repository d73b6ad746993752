//===- TileSelectiveScan.cpp - Channel tiles and time chunks for the scan -===//
//
// The selective scan is sequential in time but independent per channel. This
// pass tiles one scan over [T, E] through its TilingInterface
// (scf::tileUsingSCF): an scf.forall over channel tiles, each a scan over
// [T, tile] with its slice of the state buffer and of the destination, and,
// inside each tile, an scf.for over time chunks that carry the state through
// the buffer. The small static tile is what lets the loop lowering keep
// channels innermost and vectorize across them.
//
//===----------------------------------------------------------------------===//

#include "dialects/hymba/HymbaOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/TilingInterface.h"

namespace mlir::hymba {
#define GEN_PASS_DEF_HYMBATILESELECTIVESCAN
#include "passes/Passes.h.inc"
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
      if (!op.isBufferized() && !isa<ParallelBranchesOp>(op->getParentOp()) &&
          !ShapedType::isDynamic(channels) && channels > channelTile &&
          channels % channelTile == 0)
        scans.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (SelectiveScanOp op : scans)
      if (failed(tile(rewriter, op)))
        return signalPassFailure();
  }

  /// Tiles `op` with `sizes` ((time, channel) tile sizes, 0 = untiled) in
  /// `loop`s and replaces it; returns the tile's scan.
  static FailureOr<SelectiveScanOp>
  tileWith(RewriterBase &rewriter, SelectiveScanOp op, int64_t timeSize,
           int64_t channelSize, scf::SCFTilingOptions::LoopType loop) {
    scf::SCFTilingOptions options;
    options.setLoopType(loop);
    options.setTileSizes({rewriter.getIndexAttr(timeSize),
                          rewriter.getIndexAttr(channelSize)});
    rewriter.setInsertionPoint(op);
    FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
        rewriter, cast<TilingInterface>(op.getOperation()), options);
    if (failed(tiled))
      return failure();
    rewriter.replaceOp(op, tiled->replacements);
    return cast<SelectiveScanOp>(tiled->tiledOps.front());
  }

  LogicalResult tile(RewriterBase &rewriter, SelectiveScanOp op) {
    // Channel tiles run in parallel; time chunks must run in order (the
    // state flows from one to the next through ssm_state).
    FailureOr<SelectiveScanOp> channelTileOp =
        tileWith(rewriter, op, 0, channelTile,
                 scf::SCFTilingOptions::LoopType::ForallOp);
    if (failed(channelTileOp) || timeChunk == 0)
      return channelTileOp;
    return tileWith(rewriter, *channelTileOp, timeChunk, 0,
                    scf::SCFTilingOptions::LoopType::ForOp);
  }
};
} // namespace
