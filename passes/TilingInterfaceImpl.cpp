//===- TilingInterfaceImpl.cpp - Hymba ops under scf tiling ---------------===//
//
// hymba.selective_scan's iteration space is (time, channel). Channels are
// independent (parallel). Time carries the state h; the state lives in the
// ssm_state buffer, which every scan reads at its start and writes at its
// end, so a scan over rows [t0, t0 + n) followed by one over the next rows
// equals one scan over both: time tiles in sequence (an scf.for) are exact.
// Time is therefore a `reduction` dimension: tile it only with a sequential
// loop, never with scf.forall.
//
// hymba.attention's iteration space is (query row, KV head), both parallel.
// A row tile still sees every key of the chunk before its rows, so it keeps
// the whole chunk's keys and values and says where its rows start with
// `query_offset`. A point of the head dimension is one KV head with its
// grouped-query group of query heads, so no tile can split a group.
//
// The scalar implementation of both ops (what scf's lower-to-loops and
// transform.structured.convert_to_loops call once per point of the
// iteration domain, on the ops' memref form) is the loop lowering's own
// body for that point, from passes/Lowering/: one time step of one scan
// channel (its state read from and written back to ssm_state), and the
// (row, query head) item of attention for each query head of the KV head.
// That is why these models live beside the passes, not in the dialect.
//
//===----------------------------------------------------------------------===//
#include "passes/TilingInterfaceImpl.h"
#include "Lowering/Attention.h"
#include "Lowering/Scan.h"
#include "dialects/hymba/HymbaOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Interfaces/TilingInterface.h"

using namespace mlir;
using namespace mlir::hymba;

namespace {
/// `value`'s block at `offsets` of `sizes` (unit strides): an extract_slice
/// of a tensor or a subview of a memref (the state buffer).
Value sliceOf(OpBuilder &b, Location loc, Value value,
              ArrayRef<OpFoldResult> offsets, ArrayRef<OpFoldResult> sizes,
              SmallVectorImpl<Operation *> &slices) {
  SmallVector<OpFoldResult> strides(offsets.size(), b.getIndexAttr(1));
  Operation *slice;
  if (isa<MemRefType>(value.getType()))
    slice = memref::SubViewOp::create(b, loc, value, offsets, sizes, strides);
  else
    slice = tensor::ExtractSliceOp::create(b, loc, value, offsets, sizes,
                                           strides);
  slices.push_back(slice);
  return slice->getResult(0);
}

/// Extent `dim` of `value`, a tensor or a memref.
OpFoldResult mixedSize(OpBuilder &b, Location loc, Value value, int64_t dim) {
  if (isa<MemRefType>(value.getType()))
    return memref::getMixedSize(b, loc, value, dim);
  return tensor::getMixedSize(b, loc, value, dim);
}

/// The iteration domain of a Hymba op over (row of `shaped`, `extent`
/// columns or heads), unit steps.
SmallVector<Range> rowsBy(OpBuilder &b, Location loc, Value shaped,
                          int64_t extent) {
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  return {Range{zero, mixedSize(b, loc, shaped, 0), one},
          Range{zero, b.getIndexAttr(extent), one}};
}

/// `x * factor`, folded when `x` is a constant.
OpFoldResult scaled(OpBuilder &b, Location loc, OpFoldResult x,
                    int64_t factor) {
  if (std::optional<int64_t> c = getConstantIntValue(x))
    return b.getIndexAttr(*c * factor);
  return arith::MulIOp::create(b, loc, cast<Value>(x),
                               arith::ConstantIndexOp::create(b, loc, factor))
      .getResult();
}

/// TilingInterface of OpTy whose scalar implementation (the memref form
/// only: it writes the init buffer) is Model::emitPoint at `ivs`.
template <typename Model, typename OpTy>
struct TilingWithPoints : TilingInterface::ExternalModel<Model, OpTy> {
  LogicalResult generateScalarImplementation(Operation *op, OpBuilder &builder,
                                             Location loc,
                                             ValueRange ivs) const {
    auto typed = cast<OpTy>(op);
    if (!typed.isBufferized())
      return op->emitOpError("is lowered to loops in its memref form only");
    ImplicitLocOpBuilder b(loc, builder);
    Model::emitPoint(b, typed, ivs);
    return success();
  }
};

struct SelectiveScanTiling
    : TilingWithPoints<SelectiveScanTiling, SelectiveScanOp> {
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *) const {
    return {utils::IteratorType::reduction, utils::IteratorType::parallel};
  }

  SmallVector<Range> getIterationDomain(Operation *op, OpBuilder &b) const {
    auto u = cast<SelectiveScanOp>(op).getU();
    return rowsBy(b, op->getLoc(), u, u.getType().getDimSize(1));
  }

  FailureOr<TilingResult>
  getTiledImplementation(Operation *op, OpBuilder &b,
                         ArrayRef<OpFoldResult> offsets,
                         ArrayRef<OpFoldResult> sizes) const {
    auto scan = cast<SelectiveScanOp>(op);
    if (scan.isBufferized())
      return op->emitOpError("is tiled in its tensor form only");
    Location loc = op->getLoc();
    OpFoldResult t0 = offsets[0], c0 = offsets[1], zero = b.getIndexAttr(0);
    OpFoldResult n = sizes[0], ct = sizes[1];
    OpFoldResult dState = b.getIndexAttr(scan.getALog().getType().getDimSize(1));
    SmallVector<Operation *> slices;
    auto rowsCols = [&](Value v) {
      return sliceOf(b, loc, v, {t0, c0}, {n, ct}, slices);
    };
    auto rowsState = [&](Value v) {
      return sliceOf(b, loc, v, {t0, zero}, {n, dState}, slices);
    };
    auto channelRows = [&](Value v) {
      return sliceOf(b, loc, v, {c0, zero}, {ct, dState}, slices);
    };
    auto channelVector = [&](Value v) {
      return sliceOf(b, loc, v, {c0}, {ct}, slices);
    };
    Value init = rowsCols(scan.getInit());
    auto tiled = SelectiveScanOp::create(
        b, loc, init.getType(), rowsCols(scan.getU()), rowsCols(scan.getDt()),
        channelVector(scan.getDtBias()), channelRows(scan.getALog()),
        rowsState(scan.getB()), rowsState(scan.getC()),
        channelVector(scan.getD()), rowsCols(scan.getZ()),
        channelRows(scan.getSsmState()), init, scan.getBNorm(), scan.getCNorm(),
        scan.getNormEpsilonAttr());
    tiled->setDiscardableAttrs(op->getDiscardableAttrDictionary());
    return TilingResult{{tiled.getOperation()}, {tiled.getResult()}, slices};
  }

  LogicalResult getResultTilePosition(Operation *, OpBuilder &, unsigned,
                                      ArrayRef<OpFoldResult> offsets,
                                      ArrayRef<OpFoldResult> sizes,
                                      SmallVector<OpFoldResult> &resultOffsets,
                                      SmallVector<OpFoldResult> &resultSizes)
      const {
    resultOffsets.assign(offsets.begin(), offsets.end());
    resultSizes.assign(sizes.begin(), sizes.end());
    return success();
  }

  /// Time step ivs[0] of channel ivs[1]. The points must run in time order
  /// for each channel (the state is carried through ssm_state), as the
  /// time loop, a `reduction`, does.
  static void emitPoint(ImplicitLocOpBuilder &b, SelectiveScanOp scan,
                        ValueRange ivs) {
    ScanBuffers in(scan);
    ScanChannel channel(b, in, ivs[1], scan.getALog().getType().getDimSize(1));
    channel.storeState(
        b, in,
        channel.step(b, in, ivs[0], channel.loadState(b, in), scan.getInit()));
  }
};

struct AttentionTiling : TilingWithPoints<AttentionTiling, AttentionOp> {
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *) const {
    return {utils::IteratorType::parallel, utils::IteratorType::parallel};
  }

  SmallVector<Range> getIterationDomain(Operation *op, OpBuilder &b) const {
    auto att = cast<AttentionOp>(op);
    return rowsBy(b, op->getLoc(), att.getQuery(), att.getNumKvHeads());
  }

  /// The tile's number of KV heads, which must be static: it becomes the
  /// tile op's num_kv_heads.
  static FailureOr<int64_t> groupCount(Operation *op, OpFoldResult size) {
    std::optional<int64_t> groups = getConstantIntValue(size);
    if (!groups)
      return op->emitOpError("is tiled along heads with a static tile size "
                             "only (one that divides num_kv_heads)");
    return *groups;
  }

  /// Widths of one query (= key) head and one value head.
  static std::pair<int64_t, int64_t> headDims(AttentionOp att) {
    return {att.getQuery().getType().getDimSize(1) / att.getNumHeads(),
            att.getValue().getType().getDimSize(1) / att.getNumKvHeads()};
  }

  FailureOr<TilingResult>
  getTiledImplementation(Operation *op, OpBuilder &b,
                         ArrayRef<OpFoldResult> offsets,
                         ArrayRef<OpFoldResult> sizes) const {
    auto att = cast<AttentionOp>(op);
    FailureOr<int64_t> groups = groupCount(op, sizes[1]);
    if (failed(groups))
      return failure();
    // Head widths (static) give the tile's column offsets.
    if (att.isBufferized() || att.getQuery().getType().isDynamicDim(1) ||
        att.getValue().getType().isDynamicDim(1))
      return op->emitOpError("is tiled in its tensor form with static query "
                             "and value widths only");
    Location loc = op->getLoc();
    int64_t rep = att.getNumHeads() / att.getNumKvHeads();
    auto [qd, vd] = headDims(att);
    OpFoldResult t0 = offsets[0], n = sizes[0], g0 = offsets[1],
                 zero = b.getIndexAttr(0);
    SmallVector<Operation *> slices;
    // Rows [t0, t0 + n) of the tile's query heads (or value columns).
    auto queryRows = [&](Value v, int64_t headWidth) {
      return sliceOf(b, loc, v, {t0, scaled(b, loc, g0, rep * headWidth)},
                     {n, b.getIndexAttr(*groups * rep * headWidth)}, slices);
    };
    // Every row of the tile's KV heads (chunk keys/values, caches).
    auto kvRows = [&](Value v, int64_t headWidth) {
      return sliceOf(
          b, loc, v, {zero, scaled(b, loc, g0, headWidth)},
          {mixedSize(b, loc, v, 0), b.getIndexAttr(*groups * headWidth)},
          slices);
    };
    // The tile's rows start query_offset + t0 rows into the chunk.
    Value queryOffset = att.getQueryOffset();
    std::optional<int64_t> first = getConstantIntValue(t0);
    if (!first || *first != 0) {
      Value t0v = first ? arith::ConstantIndexOp::create(b, loc, *first)
                        : cast<Value>(t0);
      queryOffset =
          queryOffset ? arith::AddIOp::create(b, loc, queryOffset, t0v) : t0v;
    }
    Value init = queryRows(att.getInit(), vd);
    auto tiled = AttentionOp::create(
        b, loc, init.getType(), queryRows(att.getQuery(), qd),
        kvRows(att.getKey(), qd), kvRows(att.getValue(), vd),
        kvRows(att.getKCache(), qd), kvRows(att.getVCache(), vd),
        att.getPosition(), queryOffset, init,
        b.getI64IntegerAttr(*groups * rep), b.getI64IntegerAttr(*groups),
        att.getWindowAttr(), att.getNumMetaAttr(), att.getScaleAttr());
    tiled->setDiscardableAttrs(op->getDiscardableAttrDictionary());
    return TilingResult{{tiled.getOperation()}, {tiled.getResult()}, slices};
  }

  LogicalResult getResultTilePosition(
      Operation *op, OpBuilder &b, unsigned, ArrayRef<OpFoldResult> offsets,
      ArrayRef<OpFoldResult> sizes, SmallVector<OpFoldResult> &resultOffsets,
      SmallVector<OpFoldResult> &resultSizes) const {
    auto att = cast<AttentionOp>(op);
    FailureOr<int64_t> groups = groupCount(op, sizes[1]);
    if (failed(groups))
      return failure();
    int64_t groupWidth =
        att.getNumHeads() / att.getNumKvHeads() * headDims(att).second;
    resultOffsets = {offsets[0],
                     scaled(b, op->getLoc(), offsets[1], groupWidth)};
    resultSizes = {sizes[0], b.getIndexAttr(*groups * groupWidth)};
    return success();
  }

  /// Row ivs[0] of every query head of KV head ivs[1].
  static void emitPoint(ImplicitLocOpBuilder &b, AttentionOp att,
                        ValueRange ivs) {
    AttentionLowering lowering(b, att);
    Value rep = arith::ConstantIndexOp::create(b, lowering.rep);
    Value firstHead = arith::MulIOp::create(b, ivs[1], rep);
    scf::ForOp::create(b, arith::ConstantIndexOp::create(b, 0), rep,
                       arith::ConstantIndexOp::create(b, 1), ValueRange{},
                       [&](OpBuilder &fb, Location l, Value r, ValueRange) {
                         ImplicitLocOpBuilder hb(l, fb);
                         lowering.emitItem(
                             hb, ivs[0],
                             arith::AddIOp::create(hb, firstHead, r));
                         scf::YieldOp::create(hb);
                       });
  }
};
} // namespace

void mlir::hymba::registerTilingInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, HymbaDialect *) {
    SelectiveScanOp::attachInterface<SelectiveScanTiling>(*ctx);
    AttentionOp::attachInterface<AttentionTiling>(*ctx);
  });
}
